/** Pure drift statistics: quantile bins, PSI, the two-sample Kolmogorov–Smirnov test. */

/** Quantile of ascending `sorted` at q ∈ [0, 1], linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Inner bin edges at the reference's 1/bins, 2/bins, … quantiles, deduplicated: a feature with many
 * ties (iris petal widths) yields fewer bins rather than empty duplicate ones. Bins are right-closed:
 * bin i holds edges[i-1] < x ≤ edges[i]; the last bin is open above.
 */
export function quantileEdges(values: readonly number[], bins: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantile(sorted, i / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}

/** Index of the bin that holds x (binary search over right-closed edges). */
export function binIndex(x: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function binCounts(values: Iterable<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of values) counts[binIndex(x, edges)]++;
  return counts;
}

/**
 * Population Stability Index Σ (aᵢ − eᵢ)·ln(aᵢ / eᵢ) over bins, with e the reference share and a the
 * current share of each bin. An empty bin would make the log infinite, so shares are floored at
 * `epsilon` (default 1e-4): a bin empty on one side then contributes a large but finite term.
 */
export function populationStabilityIndex(expectedCounts: readonly number[], actualCounts: readonly number[], epsilon = 1e-4): number {
  if (expectedCounts.length !== actualCounts.length) {
    throw new RangeError(`PSI: expected count vectors of the same length, found ${expectedCounts.length} and ${actualCounts.length}`);
  }
  const eTotal = expectedCounts.reduce((s, v) => s + v, 0);
  const aTotal = actualCounts.reduce((s, v) => s + v, 0);
  if (eTotal === 0 || aTotal === 0) return Number.NaN;
  let psi = 0;
  for (let i = 0; i < expectedCounts.length; i++) {
    const e = Math.max(expectedCounts[i] / eTotal, epsilon);
    const a = Math.max(actualCounts[i] / aTotal, epsilon);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** PSI over categories: the union of both sides' categories, each one bin. */
export function categoricalPsi(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>, epsilon = 1e-4): number {
  const categories = [...new Set([...reference.keys(), ...current.keys()])];
  return populationStabilityIndex(
    categories.map((c) => reference.get(c) ?? 0),
    categories.map((c) => current.get(c) ?? 0),
    epsilon,
  );
}

/** D = sup |F_a(x) − F_b(x)| over the two empirical CDFs; ties are stepped over together. */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/**
 * Survival function of the Kolmogorov distribution, Q(λ) = P(K > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}.
 * That series converges slowly for small λ, where the equivalent Jacobi-theta form
 * 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)} converges fast instead.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    let sum = 0;
    for (let k = 1; k <= 20; k++) sum += Math.exp(-((2 * k - 1) ** 2) * Math.PI ** 2 / (8 * lambda * lambda));
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface KsResult {
  d: number;
  /** Asymptotic two-sided p-value Q(√(nm/(n+m))·D). */
  pValue: number;
  n: number;
  m: number;
}

export function ksTwoSample(a: readonly number[], b: readonly number[]): KsResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { d: Number.NaN, pValue: Number.NaN, n, m };
  const d = ksStatistic(a, b);
  return { d, pValue: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d), n, m };
}
