/**
 * Trigger rules: when a step runs, given how its upstream steps ended. The names are the rules Airflow
 * users rely on, spelled in Conveyor's style. This module is the reference for the decision;
 * src/redis/lua/step-complete.lua (`decide`) implements the same table inside the completion script,
 * and the equivalence test (kit vs real workers) holds the two together.
 */
export const TRIGGER_RULES = [
  'all-succeeded',
  'all-done',
  'one-succeeded',
  'one-failed',
  'none-failed',
  'none-failed-min-one-succeeded',
  'all-failed',
  'all-skipped',
  'none-skipped',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** The names `runWhen` had before trigger rules; still accepted. `upstream-failed` now fires on the first failure. */
export const RUN_WHEN_ALIASES = {
  'upstream-succeeded': 'all-succeeded',
  'upstream-done': 'all-done',
  'upstream-failed': 'one-failed',
} as const satisfies Record<string, TriggerRule>;

export type RunWhen = TriggerRule | keyof typeof RUN_WHEN_ALIASES;
export const RUN_WHEN_VALUES = [...TRIGGER_RULES, ...Object.keys(RUN_WHEN_ALIASES)] as [RunWhen, ...RunWhen[]];

/** One letter per rule in the run's `def` hash (what the Lua scripts read). s, d, f keep their old meaning. */
export const RULE_LETTER: Readonly<Record<TriggerRule, string>> = Object.freeze({
  'all-succeeded': 's',
  'all-done': 'd',
  'one-succeeded': 'o',
  'one-failed': 'f',
  'none-failed': 'n',
  'none-failed-min-one-succeeded': 'm',
  'all-failed': 'a',
  'all-skipped': 'k',
  'none-skipped': 'z',
});

export function canonicalRule(when: RunWhen): TriggerRule {
  return (RUN_WHEN_ALIASES as Record<string, TriggerRule>)[when] ?? (when as TriggerRule);
}

/**
 * Why a step was skipped: its own `if` was false; an upstream step failed (or was itself skipped by a
 * failure: counts against the run); an upstream step was skipped; or its trigger rule was not met.
 */
export type SkipKind = 'condition' | 'upstream-failed' | 'upstream-skipped' | 'trigger-rule';

/** How a step's upstream steps stand. `failed` counts failed and skipped-by-failure upstream steps. */
export interface UpstreamTally {
  total: number;
  pending: number;
  failed: number;
  /** Skipped by a condition or a rule (not by a failure). */
  skipped: number;
}

export type TriggerDecision = { run: true } | { run: false; byFailure: boolean; kind: SkipKind; reason: string };

const RUN: TriggerDecision = Object.freeze({ run: true });

/**
 * The decision for a step still pending, or undefined while it must wait. `one-succeeded` and
 * `one-failed` fire on the first qualifying upstream step; every other rule waits for all of them.
 * A skipped step counts against the run (`byFailure`) whenever an upstream step failed.
 */
export function decideTrigger(rule: TriggerRule, tally: UpstreamTally): TriggerDecision | undefined {
  const succeeded = tally.total - tally.pending - tally.failed - tally.skipped;
  if (rule === 'one-succeeded' && succeeded > 0) return RUN;
  if (rule === 'one-failed' && tally.failed > 0) return RUN;
  if (tally.pending > 0) return undefined;
  const reason = unmet(rule, tally, succeeded);
  if (reason === undefined) return RUN;
  const byFailure = tally.failed > 0;
  const kind: SkipKind = byFailure ? 'upstream-failed' : rule === 'all-succeeded' || rule === 'none-skipped' ? 'upstream-skipped' : 'trigger-rule';
  return { run: false, byFailure, kind, reason };
}

function unmet(rule: TriggerRule, t: UpstreamTally, succeeded: number): string | undefined {
  const tagged = (text: string) => `${text} (runWhen: ${rule})`;
  switch (rule) {
    case 'all-succeeded':
      // The default rule keeps the texts it always had.
      return t.failed > 0 ? 'an upstream step failed' : t.skipped > 0 ? 'an upstream step was skipped' : undefined;
    case 'all-done':
      return undefined;
    case 'one-succeeded':
      return tagged('no upstream step succeeded');
    case 'one-failed':
      return tagged('no upstream step failed');
    case 'none-failed':
      return t.failed > 0 ? tagged('an upstream step failed') : undefined;
    case 'none-failed-min-one-succeeded':
      return t.failed > 0 ? tagged('an upstream step failed') : succeeded === 0 ? tagged('no upstream step succeeded') : undefined;
    case 'all-failed':
      return t.failed < t.total ? tagged('not every upstream step failed') : undefined;
    case 'all-skipped':
      return t.skipped < t.total ? tagged('not every upstream step was skipped') : undefined;
    case 'none-skipped':
      return t.skipped > 0 ? tagged('an upstream step was skipped') : undefined;
  }
}

/**
 * How an upstream step stands when a step starts (`ctx.upstreamStatus`): `skipped` counts as a
 * success for the run, `skipped-by-failure` does not; `pending` only happens under the early-firing
 * rules (`one-succeeded`, `one-failed`).
 */
export type UpstreamStatus = 'succeeded' | 'failed' | 'skipped' | 'skipped-by-failure' | 'pending';

/** How the run's final status is decided: from its leaf steps (Airflow's rule, the default), or failed on any failure. */
export type RunOutcomeRule = 'leaves' | 'any-failure';
