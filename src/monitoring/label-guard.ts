/** Value put in place of a label value once a label has seen `limit` distinct values. */
export const OVERFLOW_LABEL = '_other';

/**
 * Keeps label cardinality bounded whatever the events carry. Pipelines, steps, queues, models and
 * datasets are bounded by what users define, but a typo loop or a generated name must not blow up
 * Prometheus: after `limit` distinct values a label reports `_other`.
 */
export class LabelGuard {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly limit = 500) {}

  value(label: string, raw: string | undefined): string {
    const value = raw === undefined || raw === '' ? 'none' : raw;
    let set = this.seen.get(label);
    if (!set) this.seen.set(label, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size >= this.limit) return OVERFLOW_LABEL;
    set.add(value);
    return value;
  }
}

/** Map items run as `step[3]`: the metrics count them under the step's own name. */
export function baseStepName(step: string): string {
  const i = step.indexOf('[');
  return i > 0 ? step.slice(0, i) : step;
}
