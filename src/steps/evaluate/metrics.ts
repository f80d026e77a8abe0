import { ValidationError } from '../../errors/index.ts';

/** A class label as it appears in data: `'setosa'`, `1`, `true`. */
export type Label = string | number | boolean;

/**
 * Per-row class probabilities, in one of three shapes:
 * - `number` — binary only: the probability of the positive class;
 * - `number[]` — one entry per class, in the order of `ClassificationMetrics.labels`;
 * - `Record<string, number>` — keyed by `String(label)`.
 */
export type ProbabilityRow = number | readonly number[] | Readonly<Record<string, number>>;

export interface ClassificationInput {
  labels: readonly Label[];
  predictions: readonly Label[];
  probabilities?: readonly ProbabilityRow[];
  /** Class order for the confusion matrix and for `number[]` probability rows. Default: sorted union of labels and predictions. */
  classes?: readonly Label[];
  /** Binary only: which class is "positive" for ROC-AUC and scalar probabilities. Default: the second class in order. */
  positiveLabel?: Label;
  /** Log-loss clips probabilities to [eps, 1 - eps] so a confident miss costs a large finite amount, not Infinity. */
  epsilon?: number;
}

export interface ClassMetrics {
  label: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
  /** One-vs-rest ROC-AUC of this class; null without probabilities or when the labels hold no row (or only rows) of it. */
  rocAuc: number | null;
}

export interface ClassificationMetrics {
  n: number;
  labels: Label[];
  accuracy: number;
  perClass: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  /** `matrix[i][j]` = rows whose true label is `labels[i]` and predicted label is `labels[j]`. */
  confusionMatrix: { labels: Label[]; matrix: number[][] };
  /** Binary: AUC of the positive class. Multi-class: macro average of one-vs-rest AUCs. Null when undefined. */
  rocAuc: number | null;
  logLoss: number | null;
  positiveLabel: Label | null;
  /** Why a figure is null or was computed in a particular way. */
  notes: string[];
}

export interface RegressionMetrics {
  n: number;
  rmse: number;
  mae: number;
  r2: number;
  notes: string[];
}

const DEFAULT_EPSILON = 1e-15;

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function checkPaired(what: string, a: readonly unknown[], b: readonly unknown[], aName: string, bName: string): void {
  if (!Array.isArray(a) || !Array.isArray(b)) {
    throw new ValidationError(`${what}: expected ${aName} and ${bName} to be arrays`);
  }
  if (a.length === 0) throw new ValidationError(`${what}: expected at least one row, found ${aName} empty`);
  if (a.length !== b.length) {
    throw new ValidationError(`${what}: expected ${aName} and ${bName} of the same length, found ${a.length} and ${b.length}`);
  }
}

/** Division where 0/0 counts as 0, the usual convention for a class never predicted (or never present). */
function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

/**
 * Area under the ROC curve in its Mann–Whitney form: the probability that a random positive row scores
 * higher than a random negative one, ties counting one half. Computed through average ranks, O(n log n).
 * Returns null when either class is absent (the AUC is undefined there).
 */
export function binaryRocAuc(isPositive: readonly boolean[], scores: readonly number[]): number | null {
  checkPaired('binaryRocAuc', isPositive, scores, 'isPositive', 'scores');
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPositive = 0;
  let positives = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    // Ranks are 1-based; a run of ties i..j shares the average rank.
    const averageRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (isPositive[order[k]]) {
        rankSumPositive += averageRank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function probabilityMatrix(input: ClassificationInput, labels: Label[], positive: Label | null): number[][] {
  const rows = input.probabilities!;
  checkPaired('classificationMetrics', input.labels, rows, 'labels', 'probabilities');
  const k = labels.length;
  return rows.map((row, r) => {
    let p: number[];
    if (typeof row === 'number') {
      if (k !== 2 || positive === null) {
        throw new ValidationError(
          `classificationMetrics: probabilities[${r}]: expected a per-class array or record for ${k} classes, found a single number (only valid for binary)`,
        );
      }
      const pos = labels.findIndex((l) => l === positive);
      p = [0, 0];
      p[pos] = row;
      p[1 - pos] = 1 - row;
    } else if (Array.isArray(row)) {
      if (row.length !== k) {
        throw new ValidationError(
          `classificationMetrics: probabilities[${r}]: expected ${k} values (classes ${labels.join(', ')}), found ${row.length}`,
        );
      }
      p = [...row];
    } else {
      const record = row as Readonly<Record<string, number>>;
      p = labels.map((l) => record[String(l)] ?? 0);
      const unknown = Object.keys(record).filter((key) => !labels.some((l) => String(l) === key));
      if (unknown.length) {
        throw new ValidationError(
          `classificationMetrics: probabilities[${r}]: expected keys among ${labels.join(', ')}, found ${unknown.join(', ')}`,
        );
      }
    }
    p.forEach((v, c) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
        throw new ValidationError(`classificationMetrics: probabilities[${r}][${c}]: expected a number in [0, 1], found ${String(v)}`);
      }
    });
    const sum = p.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-3) {
      throw new ValidationError(`classificationMetrics: probabilities[${r}]: expected values summing to 1, found sum ${sum}`);
    }
    return p;
  });
}

export function classificationMetrics(input: ClassificationInput): ClassificationMetrics {
  const { labels: truth, predictions } = input;
  checkPaired('classificationMetrics', truth, predictions, 'labels', 'predictions');
  const notes: string[] = [];

  let labels: Label[];
  if (input.classes) {
    labels = [...input.classes];
    if (new Set(labels).size !== labels.length) {
      throw new ValidationError(`classificationMetrics: expected distinct classes, found duplicates in ${labels.join(', ')}`);
    }
    const stray = [...new Set([...truth, ...predictions])].filter((l) => !labels.includes(l));
    if (stray.length) {
      throw new ValidationError(
        `classificationMetrics: expected every label and prediction among classes [${labels.join(', ')}], found ${stray.map(String).join(', ')}`,
      );
    }
  } else {
    labels = [...new Set([...truth, ...predictions])].sort(compareLabels);
  }
  const index = new Map<Label, number>(labels.map((l, i) => [l, i]));
  const k = labels.length;

  const matrix = labels.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  for (let r = 0; r < truth.length; r++) {
    const a = index.get(truth[r])!;
    const p = index.get(predictions[r])!;
    matrix[a][p]++;
    if (a === p) correct++;
  }

  let positiveLabel: Label | null = null;
  if (k === 2) {
    positiveLabel = input.positiveLabel ?? labels[1];
    if (!index.has(positiveLabel)) {
      throw new ValidationError(`classificationMetrics: positiveLabel: expected one of ${labels.join(', ')}, found ${String(positiveLabel)}`);
    }
  }

  const probs = input.probabilities ? probabilityMatrix(input, labels, positiveLabel) : null;

  const perClass: ClassMetrics[] = labels.map((label, c) => {
    const tp = matrix[c][c];
    const predicted = matrix.reduce((s, row) => s + row[c], 0);
    const support = matrix[c].reduce((s, v) => s + v, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    let rocAuc: number | null = null;
    if (probs) {
      rocAuc = binaryRocAuc(
        truth.map((t) => t === label),
        probs.map((p) => p[c]),
      );
    }
    return { label, precision, recall, f1, support, rocAuc };
  });

  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const macro = {
    precision: mean(perClass.map((c) => c.precision)),
    recall: mean(perClass.map((c) => c.recall)),
    f1: mean(perClass.map((c) => c.f1)),
  };

  let rocAuc: number | null = null;
  let logLoss: number | null = null;
  if (probs) {
    if (k === 2) {
      rocAuc = perClass[index.get(positiveLabel!)!].rocAuc;
      if (rocAuc === null) notes.push('rocAuc: undefined because the labels hold only one class');
    } else {
      const defined = perClass.filter((c) => c.rocAuc !== null);
      const skipped = perClass.filter((c) => c.rocAuc === null).map((c) => String(c.label));
      if (defined.length) rocAuc = mean(defined.map((c) => c.rocAuc!));
      if (skipped.length) notes.push(`rocAuc: one-vs-rest undefined for ${skipped.join(', ')} (no row of that class, or only such rows); left out of the macro average`);
    }
    const eps = input.epsilon ?? DEFAULT_EPSILON;
    if (!(eps > 0 && eps < 0.5)) throw new ValidationError(`classificationMetrics: epsilon: expected a number in (0, 0.5), found ${eps}`);
    let total = 0;
    for (let r = 0; r < truth.length; r++) {
      const p = Math.min(1 - eps, Math.max(eps, probs[r][index.get(truth[r])!]));
      total -= Math.log(p);
    }
    logLoss = total / truth.length;
  } else {
    notes.push('rocAuc and logLoss: null because no probabilities were given');
  }

  return {
    n: truth.length,
    labels,
    accuracy: correct / truth.length,
    perClass,
    macro,
    confusionMatrix: { labels: [...labels], matrix },
    rocAuc,
    logLoss,
    positiveLabel,
    notes,
  };
}

export function regressionMetrics(actual: readonly number[], predicted: readonly number[]): RegressionMetrics {
  checkPaired('regressionMetrics', actual, predicted, 'actual', 'predicted');
  for (const [name, xs] of [['actual', actual], ['predicted', predicted]] as const) {
    const bad = xs.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (bad >= 0) throw new ValidationError(`regressionMetrics: ${name}[${bad}]: expected a finite number, found ${String(xs[bad])}`);
  }
  const n = actual.length;
  const meanActual = actual.reduce((a, b) => a + b, 0) / n;
  let sse = 0;
  let sae = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    const e = actual[i] - predicted[i];
    sse += e * e;
    sae += Math.abs(e);
    sst += (actual[i] - meanActual) ** 2;
  }
  const notes: string[] = [];
  let r2: number;
  if (sst === 0) {
    // R² is 0/0 on a constant target; follow scikit-learn: perfect predictions score 1, anything else 0.
    r2 = sse === 0 ? 1 : 0;
    notes.push('r2: the actual values are constant, so R² is reported as 1 for a perfect fit and 0 otherwise');
  } else {
    r2 = 1 - sse / sst;
  }
  return { n, rmse: Math.sqrt(sse / n), mae: sae / n, r2, notes };
}

/**
 * The flat `name → value` view the gates read: `accuracy`, `precision`, `recall`, `f1` (macro),
 * `rocAuc`, `logLoss`, `rmse`, `mae`, `r2`. Null figures are left out.
 */
export function flattenMetrics(metrics: ClassificationMetrics | RegressionMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  if ('accuracy' in metrics) {
    out.accuracy = metrics.accuracy;
    out.precision = metrics.macro.precision;
    out.recall = metrics.macro.recall;
    out.f1 = metrics.macro.f1;
    if (metrics.rocAuc !== null) out.rocAuc = metrics.rocAuc;
    if (metrics.logLoss !== null) out.logLoss = metrics.logLoss;
  } else {
    out.rmse = metrics.rmse;
    out.mae = metrics.mae;
    out.r2 = metrics.r2;
  }
  return out;
}
