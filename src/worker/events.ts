/** What a worker tells metrics and listeners (worker-host fans these out). */
export type WorkerEvent =
  | { type: 'step-finished'; pipeline: string; step: string; status: 'succeeded' | 'failed' | 'skipped'; durationMs: number; attempt: number; cpuMs: number }
  | { type: 'step-retry'; pipeline: string; step: string; attempt: number }
  | { type: 'stale-completion'; runId: string; step: string }
  | { type: 'handoff'; pipeline: string; latencyMs: number }
  /** A completion claimed the one step it made ready for this worker, which runs it next (eager dispatch). */
  | { type: 'step-claimed'; runId: string; pipeline: string; step: string; after: string }
  /** Redis refused one of this worker's writes for memory (`write`: start, complete, logs, enqueue, ...); it is retried. */
  | { type: 'redis-refused'; write: string; message: string }
  /** A step this worker could not run went to wait for one that can ("my-etl@<version>"). */
  | { type: 'step-waiting'; pipeline: string; step: string; waitingFor: string }
  /**
   * An attempt went back to the queue without counting as one of the user's attempts: this worker
   * shut down, or Redis failed (`reason` says which; `message` is the fault for infrastructure).
   */
  | { type: 'step-handed-back'; runId: string; pipeline: string; step: string; reason: 'worker-shutdown' | 'infrastructure'; message?: string };
