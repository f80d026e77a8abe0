import type { StepSpec } from '../dsl/types.ts';
import { decideTrigger, type RunOutcomeRule, type SkipKind, type TriggerRule } from '../dsl/trigger-rules.ts';
import { upstreamStatusFromLetter, type StepLetter as StoredLetter, type UpstreamStatus } from '../domain/run-state.ts';

/**
 * The step letters the kit uses: those of src/domain/run-state.ts (STEP_LETTERS) but `c` (the kit
 * has no cancel command) and `m` (it collects a map's instances in memory).
 */
export type StepLetter = Exclude<StoredLetter, 'c' | 'm'>;
export type StepOutcome = 's' | 'f' | 'k';

export interface CompletionResult {
  /** Successors that became ready (now `q`): the caller runs them. */
  ready: string[];
  /** Successors skipped by their trigger rule, cascading, in the order the script decides them. */
  skipped: Array<{ step: string; letter: 'k' | 'x'; reason: string; kind: SkipKind }>;
  /** Set when no step is left. */
  final?: 'succeeded' | 'failed';
}

/**
 * The DAG bookkeeping of one run, in memory. `complete` is a port of the successor walk in
 * step-complete.lua (same counters, the same trigger-rule table, same reasons, the run's outcome from
 * its leaves) so the test kit cannot drift from the engine; the equivalence test holds the two together
 * (docs/internals.md, "The test kit", says why a port and not the scripts themselves).
 */
export class DagState {
  readonly status = new Map<string, StepLetter>();
  readonly reasons = new Map<string, string>();
  private readonly pend = new Map<string, number>();
  private readonly bad = new Map<string, number>();
  private readonly cskip = new Map<string, number>();
  private readonly rule = new Map<string, TriggerRule>();
  private readonly total = new Map<string, number>();
  private readonly needs = new Map<string, readonly string[]>();
  private remaining: number;
  private failed = 0;

  constructor(
    steps: readonly StepSpec[],
    private readonly successors: ReadonlyMap<string, readonly string[]>,
    private readonly outcomeRule: RunOutcomeRule = 'leaves',
    /** For a retry: the letters the previous run ended with. */
    previous?: ReadonlyMap<string, StepLetter>,
    /** For a retry: the steps the previous run skipped by their runWhen rule (not by their condition). */
    skippedByRule?: ReadonlySet<string>,
  ) {
    // As run-retry.lua: succeeded steps are kept, and a rule skip whose upstream steps all keep their
    // outcome (it would be decided the same); the rest is reset (condition skips too). Steps come in
    // declaration order, so every upstream step is decided before the steps after it.
    const reset = new Set<string>();
    for (const s of steps) {
      if (!previous) {
        reset.add(s.name);
        continue;
      }
      const letter = previous.get(s.name);
      if (letter === 's') continue;
      if (letter === 'k' && skippedByRule?.has(s.name) && !s.needs.some((n) => reset.has(n))) continue;
      reset.add(s.name);
    }
    for (const step of steps) {
      this.rule.set(step.name, step.runWhen);
      this.total.set(step.name, step.needs.length);
      this.needs.set(step.name, step.needs);
      if (!reset.has(step.name)) {
        this.status.set(step.name, previous!.get(step.name)!);
        continue;
      }
      // As run-retry.lua: a reset step waits for its reset upstream; kept skips still count as skips.
      this.status.set(step.name, 'p');
      this.pend.set(step.name, step.needs.filter((n) => reset.has(n)).length);
      this.cskip.set(step.name, step.needs.filter((n) => !reset.has(n) && previous?.get(n) === 'k').length);
    }
    this.remaining = reset.size;
  }

  /** Steps with nothing to wait for, marked queued (what run-trigger.lua / run-retry.lua enqueue). */
  roots(): string[] {
    const roots = [...this.pend].filter(([name, n]) => n === 0 && this.status.get(name) === 'p').map(([name]) => name);
    for (const name of roots) this.status.set(name, 'q');
    return roots;
  }

  /** Steps (and map items) that failed so far (what a step sees as `run.status === 'failed'`). */
  get failedSoFar(): number {
    return this.failed;
  }

  /** A map item failed: the engine counts it against `run.status` like a failed step. */
  noteFailedItem(): void {
    this.failed += 1;
  }

  /** What a step sees of its upstream steps (`ctx.upstreamStatus`). */
  upstreamStatus(step: string): Record<string, UpstreamStatus> {
    return Object.fromEntries((this.needs.get(step) ?? []).map((n) => [n, upstreamStatusFromLetter(this.status.get(n))]));
  }

  markRunning(step: string): void {
    this.status.set(step, 'r');
  }

  complete(step: string, outcome: StepOutcome, reason?: string): CompletionResult {
    const current = this.status.get(step);
    if (current !== 'r' && current !== 'q') {
      throw new Error(`internal: step "${step}" completed while ${current ?? 'unknown'} (expected running)`);
    }
    if (outcome === 'f') this.failed += 1;
    if (outcome === 'k' && reason) this.reasons.set(step, reason);
    this.status.set(step, outcome);
    this.remaining -= 1;

    const result: CompletionResult = { ready: [], skipped: [] };
    const work: Array<[string, StepLetter]> = [[step, outcome]];
    for (let head = 0; head < work.length; head++) {
      const [name, letter] = work[head];
      for (const succ of this.successors.get(name) ?? []) {
        const left = this.add(this.pend, succ, -1);
        if (letter === 'f' || letter === 'x') this.add(this.bad, succ, 1);
        if (letter === 'k') this.add(this.cskip, succ, 1);
        if (this.status.get(succ) !== 'p') continue;
        const decision = decideTrigger(this.rule.get(succ) ?? 'all-succeeded', {
          total: this.total.get(succ) ?? 0,
          pending: left,
          failed: this.bad.get(succ) ?? 0,
          skipped: this.cskip.get(succ) ?? 0,
        });
        if (!decision) continue;
        if (decision.run) {
          this.status.set(succ, 'q');
          result.ready.push(succ);
          continue;
        }
        const skipLetter = decision.byFailure ? 'x' : 'k';
        this.status.set(succ, skipLetter);
        this.reasons.set(succ, decision.reason);
        this.remaining -= 1;
        result.skipped.push({ step: succ, letter: skipLetter, reason: decision.reason, kind: decision.kind });
        work.push([succ, skipLetter]);
      }
    }
    if (this.remaining <= 0) result.final = this.runFailed() ? 'failed' : 'succeeded';
    return result;
  }

  /** As step-complete.lua's runFailed: a failed or failure-skipped leaf, or (any-failure) any failed step. */
  private runFailed(): boolean {
    if (this.outcomeRule === 'any-failure') return this.failed > 0;
    for (const [name, letter] of this.status) {
      if ((letter === 'f' || letter === 'x') && (this.successors.get(name) ?? []).length === 0) return true;
    }
    return false;
  }

  private add(map: Map<string, number>, key: string, by: number): number {
    const next = (map.get(key) ?? 0) + by;
    map.set(key, next);
    return next;
  }
}
