/**
 * The abort controller of each attempt running here, with its job and run: `conveyor cancel` aborts
 * a run's attempts, a drain timeout aborts all of them, a lost lock aborts one job's. Each attempt
 * has its own controller, so an abort's reason is exactly the one meant for it — also when a stalled
 * job comes back to this same worker while its first delivery still runs (same job id, two attempts).
 */
export class AttemptSignals {
  private readonly attempts = new Set<{ jobId: string; runId: string; controller: AbortController }>();

  /**
   * The attempt's controller (its signal is the handler's `ctx.signal`: the runner aborts it at the
   * timeout too, so one controller serves both), and the function that forgets it when it ends.
   */
  track(jobId: string, runId: string): { controller: AbortController; release(): void } {
    const entry = { jobId, runId, controller: new AbortController() };
    this.attempts.add(entry);
    return { controller: entry.controller, release: () => this.attempts.delete(entry) };
  }

  /** Attempts running here (reported by presence, logged at a drain timeout). */
  get size(): number {
    return this.attempts.size;
  }

  abortRun(runId: string, reason: Error): void {
    for (const a of this.attempts) if (a.runId === runId) a.controller.abort(reason);
  }

  abortJobs(jobIds: readonly string[], reason: Error): void {
    const ids = new Set(jobIds);
    for (const a of this.attempts) if (ids.has(a.jobId)) a.controller.abort(reason);
  }

  abortAll(reason: Error): void {
    for (const a of this.attempts) a.controller.abort(reason);
  }
}
