import { ValidationError } from '../../errors/index.ts';

export interface Threshold {
  min?: number;
  max?: number;
}

export interface ChallengerSpec {
  /** The model in production. `null` (no champion yet) passes the gate: the first model has nothing to beat. */
  champion: { metrics: Readonly<Record<string, number>>; name?: string } | null;
  metric: string;
  /** How much better the challenger must be, in the metric's own units. Default 0: the challenger must be at least as good. */
  minImprovement?: number;
  /** Default: false for known loss-like metrics (logLoss, rmse, mae, mse), true otherwise. */
  higherIsBetter?: boolean;
}

export interface GateSpec {
  /** `{ accuracy: { min: 0.9 }, logLoss: { max: 0.5 } }` */
  thresholds?: Readonly<Record<string, Threshold>>;
  challenger?: ChallengerSpec;
}

export interface GateResult {
  name: string;
  passed: boolean;
  /** A sentence with the numbers, e.g. "accuracy 0.93 ≥ min 0.90". */
  reason: string;
  metric: string;
  observed: number | null;
}

export interface GateOutcome {
  passed: boolean;
  gates: GateResult[];
}

const LOWER_IS_BETTER = new Set(['logLoss', 'rmse', 'mae', 'mse', 'loss']);

/**
 * Formats two numbers so that they read differently when they differ: at least 2 decimals
 * (0.9 → "0.90"), up to 4 normally, more only when 4 would print a failing pair as equal.
 */
function formatPair(a: number, b: number): [string, string] {
  for (let digits = 4; digits <= 12; digits += 2) {
    const fa = trim(a, digits);
    const fb = trim(b, digits);
    if (fa !== fb || a === b) return [fa, fb];
  }
  return [String(a), String(b)];
}

function trim(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  let s = x.toFixed(digits);
  while (s.includes('.') && s.endsWith('0') && s.split('.')[1].length > 2) s = s.slice(0, -1);
  return s;
}

function signed(x: number, text: string): string {
  return x >= 0 ? `+${text}` : text;
}

function validateSpec(spec: GateSpec): void {
  const issues: string[] = [];
  for (const [metric, t] of Object.entries(spec.thresholds ?? {})) {
    if (t.min === undefined && t.max === undefined) issues.push(`thresholds.${metric}: expected min and/or max, found neither`);
    for (const bound of ['min', 'max'] as const) {
      const v = t[bound];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
        issues.push(`thresholds.${metric}.${bound}: expected a finite number, found ${String(v)}`);
      }
    }
    if (typeof t.min === 'number' && typeof t.max === 'number' && t.min > t.max) {
      issues.push(`thresholds.${metric}: expected min ≤ max, found min ${t.min} > max ${t.max}`);
    }
  }
  const c = spec.challenger;
  if (c) {
    if (typeof c.metric !== 'string' || !c.metric) issues.push(`challenger.metric: expected a metric name, found ${String(c.metric)}`);
    if (c.minImprovement !== undefined && !(Number.isFinite(c.minImprovement) && c.minImprovement >= 0)) {
      issues.push(`challenger.minImprovement: expected a number ≥ 0, found ${String(c.minImprovement)}`);
    }
  }
  if (issues.length) throw new ValidationError(`gates: invalid spec (${issues.length} problem${issues.length > 1 ? 's' : ''}): ${issues.join('; ')}`, issues);
}

function lookup(metrics: Readonly<Record<string, number | null | undefined>>, metric: string): number | null {
  const v = metrics[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function missingReason(who: string, metric: string, metrics: Readonly<Record<string, unknown>>): string {
  const known = Object.keys(metrics).filter((k) => typeof metrics[k] === 'number');
  return `${who} has no finite value for metric "${metric}" (available: ${known.join(', ') || 'none'})`;
}

/**
 * Decides whether a candidate model may go on (e.g. to registration or deployment). Every gate is
 * evaluated — none short-circuits — so the report shows all reasons at once. A metric the candidate
 * lacks fails its gate rather than throwing: it is usually a null AUC, and the reason names it.
 */
export function evaluateGates(metrics: Readonly<Record<string, number | null | undefined>>, spec: GateSpec): GateOutcome {
  validateSpec(spec);
  const gates: GateResult[] = [];

  for (const [metric, t] of Object.entries(spec.thresholds ?? {})) {
    const observed = lookup(metrics, metric);
    for (const bound of ['min', 'max'] as const) {
      const limit = t[bound];
      if (limit === undefined) continue;
      const name = `${metric}.${bound}`;
      if (observed === null) {
        gates.push({ name, metric, observed, passed: false, reason: missingReason('the candidate', metric, metrics) });
        continue;
      }
      const passed = bound === 'min' ? observed >= limit : observed <= limit;
      const [o, l] = formatPair(observed, limit);
      const op = bound === 'min' ? (passed ? '≥' : '<') : passed ? '≤' : '>';
      gates.push({ name, metric, observed, passed, reason: `${metric} ${o} ${op} ${bound} ${l}` });
    }
  }

  const c = spec.challenger;
  if (c) {
    const name = `challenger.${c.metric}`;
    const observed = lookup(metrics, c.metric);
    const higherIsBetter = c.higherIsBetter ?? !LOWER_IS_BETTER.has(c.metric);
    const required = c.minImprovement ?? 0;
    const championName = c.champion?.name ? `champion ${c.champion.name}` : 'champion';
    if (observed === null) {
      gates.push({ name, metric: c.metric, observed, passed: false, reason: missingReason('the candidate', c.metric, metrics) });
    } else if (c.champion === null) {
      gates.push({ name, metric: c.metric, observed, passed: true, reason: `no champion to compare against; ${c.metric} ${trim(observed, 4)} accepted` });
    } else {
      const base = lookup(c.champion.metrics, c.metric);
      if (base === null) {
        gates.push({ name, metric: c.metric, observed, passed: false, reason: missingReason(`the ${championName}`, c.metric, c.champion.metrics) });
      } else {
        const gain = higherIsBetter ? observed - base : base - observed;
        // A tiny tolerance keeps 0.93 - 0.92 (= 0.010000000000000009 or 0.00999…) from failing a 0.01 requirement.
        const passed = gain >= required - 1e-12;
        const [o, b] = formatPair(observed, base);
        const [g, r] = formatPair(gain, required);
        const direction = higherIsBetter ? 'higher is better' : 'lower is better';
        gates.push({
          name,
          metric: c.metric,
          observed,
          passed,
          reason: `${c.metric} ${o} vs ${championName} ${b} (${direction}): improvement ${signed(gain, g)} ${passed ? '≥' : '<'} required ${signed(required, r)}`,
        });
      }
    }
  }

  if (gates.length === 0) throw new ValidationError('gates: expected at least one threshold or a challenger spec, found none');
  return { passed: gates.every((g) => g.passed), gates };
}
