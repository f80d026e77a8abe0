import { AttemptAbort } from './attempt-abort.ts';

/**
 * The abort of each attempt running here, with its job and run: `conveyor cancel` aborts
 * a run's attempts, a drain timeout aborts all of them, a lost lock aborts one job's. Each attempt
 * has its own, so an abort's reason is exactly the one meant for it — also when a stalled
 * job comes back to this same worker while its first delivery still runs (same job id, two attempts).
 */
export class AttemptSignals {
  private readonly attempts = new Set<{ jobId: string; runId: string; abort: AttemptAbort }>();

  /**
   * The attempt's abort (its signal is the handler's `ctx.signal`: the runner aborts it at the
   * timeout too, so one serves both), and the function that forgets it when it ends.
   */
  track(jobId: string, runId: string): { abort: AttemptAbort; release(): void } {
    const entry = { jobId, runId, abort: new AttemptAbort() };
    this.attempts.add(entry);
    return { abort: entry.abort, release: () => this.attempts.delete(entry) };
  }

  /** Attempts running here (reported by presence, logged at a drain timeout). */
  get size(): number {
    return this.attempts.size;
  }

  abortRun(runId: string, reason: Error): void {
    for (const a of this.attempts) if (a.runId === runId) a.abort.abort(reason);
  }

  abortJobs(jobIds: readonly string[], reason: Error): void {
    const ids = new Set(jobIds);
    for (const a of this.attempts) if (ids.has(a.jobId)) a.abort.abort(reason);
  }

  abortAll(reason: Error): void {
    for (const a of this.attempts) a.abort.abort(reason);
  }
}
