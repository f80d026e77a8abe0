/**
 * The abort controller of each attempt running here, by job id, with its run: `conveyor cancel`
 * aborts a run's attempts, a drain timeout aborts all of them, a lost lock aborts one job's. Each
 * attempt has its own controller, so an abort's reason is exactly the one meant for it.
 */
export class AttemptSignals {
  private readonly byJob = new Map<string, { runId: string; controller: AbortController }>();

  track(jobId: string, runId: string): AbortSignal {
    const controller = new AbortController();
    this.byJob.set(jobId, { runId, controller });
    return controller.signal;
  }

  untrack(jobId: string): void {
    this.byJob.delete(jobId);
  }

  /** Attempts running here (reported by presence, logged at a drain timeout). */
  get size(): number {
    return this.byJob.size;
  }

  abortRun(runId: string, reason: Error): void {
    for (const entry of this.byJob.values()) if (entry.runId === runId) entry.controller.abort(reason);
  }

  abortJobs(jobIds: readonly string[], reason: Error): void {
    for (const id of jobIds) this.byJob.get(id)?.controller.abort(reason);
  }

  abortAll(reason: Error): void {
    for (const entry of this.byJob.values()) entry.controller.abort(reason);
  }
}
