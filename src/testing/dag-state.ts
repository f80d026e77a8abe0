import type { RunWhen, StepSpec } from '../dsl/types.ts';

/**
 * Step status letters, as src/redis/lua/step-complete.lua stores them: p pending, q queued,
 * r running, s succeeded, f failed, k skipped by condition (counts as success), x skipped because an
 * upstream step failed (counts against the run).
 */
export type StepLetter = 'p' | 'q' | 'r' | 's' | 'f' | 'k' | 'x';
export type StepOutcome = 's' | 'f' | 'k';

export interface CompletionResult {
  /** Successors that became ready (now `q`): the caller runs them. */
  ready: string[];
  /** Successors skipped by their runWhen rule, cascading, in the order the script decides them. */
  skipped: Array<{ step: string; letter: 'k' | 'x'; reason: string }>;
  /** Set when no step is left. */
  final?: 'succeeded' | 'failed';
}

/**
 * The DAG bookkeeping of one run, in memory. `complete` is a line-by-line port of the successor walk
 * in step-complete.lua (same counters, same decisions, same reasons) so the test kit cannot drift
 * from the engine on skip and runWhen semantics; the equivalence test holds the two together.
 */
export class DagState {
  readonly status = new Map<string, StepLetter>();
  readonly reasons = new Map<string, string>();
  private readonly pend = new Map<string, number>();
  private readonly bad = new Map<string, number>();
  private readonly cskip = new Map<string, number>();
  private readonly when = new Map<string, RunWhen>();
  private remaining: number;
  private failed = 0;

  constructor(
    steps: readonly StepSpec[],
    private readonly successors: ReadonlyMap<string, readonly string[]>,
  ) {
    for (const step of steps) {
      this.status.set(step.name, 'p');
      this.pend.set(step.name, step.needs.length);
      this.when.set(step.name, step.runWhen);
    }
    this.remaining = steps.length;
  }

  /** Steps with no upstream, marked queued (what run-trigger.lua enqueues). */
  roots(): string[] {
    const roots = [...this.pend].filter(([, n]) => n === 0).map(([name]) => name);
    for (const name of roots) this.status.set(name, 'q');
    return roots;
  }

  /** Steps that failed so far (what a step sees as `run.status === 'failed'`). */
  get failedSoFar(): number {
    return this.failed;
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
        if (left > 0 || this.status.get(succ) !== 'p') continue;
        const when = this.when.get(succ) ?? 'upstream-succeeded';
        const bad = this.bad.get(succ) ?? 0;
        const cskip = this.cskip.get(succ) ?? 0;
        let decision: 'q' | 'k' | 'x' = 'q';
        let why = '';
        if (when === 'upstream-succeeded') {
          if (bad > 0) [decision, why] = ['x', 'an upstream step failed'];
          else if (cskip > 0) [decision, why] = ['k', 'an upstream step was skipped'];
        } else if (when === 'upstream-failed' && bad === 0) {
          [decision, why] = ['k', 'no upstream step failed (runWhen: upstream-failed)'];
        }
        this.status.set(succ, decision);
        if (decision === 'q') {
          result.ready.push(succ);
        } else {
          this.reasons.set(succ, why);
          this.remaining -= 1;
          result.skipped.push({ step: succ, letter: decision, reason: why });
          work.push([succ, decision]);
        }
      }
    }
    if (this.remaining <= 0) result.final = this.failed > 0 ? 'failed' : 'succeeded';
    return result;
  }

  private add(map: Map<string, number>, key: string, by: number): number {
    const next = (map.get(key) ?? 0) + by;
    map.set(key, next);
    return next;
  }
}
