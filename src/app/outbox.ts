import { coerceError } from '../core/coerce-error.ts';
import type { EventTriggers } from './event-triggers.ts';
import type { Runtime } from './runtime.ts';

/** How often live workers and schedulers look for follow-ups nobody delivered. */
export const DEFAULT_OUTBOX_INTERVAL_MS = 5_000;
/** Follow-ups younger than this are left to the process that finished the run (its immediate path). */
export const DEFAULT_OUTBOX_GRACE_MS = 5_000;

/**
 * Delivers the follow-ups of a finished run: the `onSucceeded` triggers of pipelines waiting for it.
 * The script that ends a run records that follow-ups are owed, and the run enters the outbox index as
 * it leaves the active set (RunStore.markFinished), so a process killed at any point between the
 * run's end and the downstream trigger leaves the work to the next sweep of any live worker or
 * scheduler. Downstream run ids derive from the upstream run, so deliveries repeated by several
 * processes or after a crash create one downstream run.
 */
export async function deliverFollowUps(runtime: Runtime, triggers: EventTriggers, runId: string): Promise<void> {
  const run = await runtime.store.getRun(runId);
  if (run?.status === 'succeeded') await triggers.fireOnSucceeded(run.pipeline, runId);
  else if (!run) runtime.logger.warn('follow-ups of a run dropped: the run expired before delivery', { runId });
  await runtime.store.closeOutbox(runId);
}

export interface OutboxSweeper {
  /** One sweep now; resolves with the number of runs whose follow-ups it delivered. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/** Periodically delivers follow-ups older than the grace period (the immediate path did not). */
export function startOutboxSweeper(
  runtime: Runtime,
  triggers: EventTriggers,
  options: { intervalMs?: number; graceMs?: number; batch?: number } = {},
): OutboxSweeper {
  const graceMs = options.graceMs ?? DEFAULT_OUTBOX_GRACE_MS;
  let running: Promise<number> | undefined;
  const pass = async (): Promise<number> => {
    const due = await runtime.store.outboxDue(runtime.clock.now() - graceMs, options.batch ?? 100);
    for (const runId of due) await deliverFollowUps(runtime, triggers, runId);
    return due.length;
  };
  const sweep = (): Promise<number> => {
    running ??= pass().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch((error) => runtime.logger.warn('outbox sweep failed; retrying next interval', { error: coerceError(error).message }));
  }, options.intervalMs ?? DEFAULT_OUTBOX_INTERVAL_MS);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
