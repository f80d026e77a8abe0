import { coerceError } from '../core/coerce-error.ts';
import type { Runtime } from './runtime.ts';

/** How often long-running processes look for runs past their retention. */
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;

export interface RetentionTask {
  /** One pass now (also what the timer runs); resolves with the number of runs deleted by this process. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Deletes finished runs older than `CONVEYOR_RETENTION` (and their index entries) every interval,
 * without anyone running `conveyor prune`. Every worker, scheduler and API process runs it; a lease in
 * Redis (SET NX PX, one interval long) lets one replica prune per interval, and a replica that dies
 * holding it only delays the next pass by that interval. Pruning is idempotent, so an overlap is harmless.
 */
export function startRetention(runtime: Runtime, options: { intervalMs?: number; owner: string }): RetentionTask {
  const intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
  const lease = runtime.keys.global('retention:lease');
  let running: Promise<number> | undefined;
  let stopped = false;

  const pass = async (): Promise<number> => {
    const won = await runtime.redis.set(lease, options.owner, 'PX', intervalMs, 'NX');
    if (won !== 'OK') return 0;
    // Runs from before the id-prefix index (an upgrade) join it here, under the same lease.
    await runtime.store.backfillIdIndex();
    return runtime.store.pruneFinished(runtime.clock.now() - runtime.config.retentionMs);
  };
  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    if (stopped) return;
    runOnce().catch((error) => runtime.logger.warn('retention pass failed; retrying next interval', { error: coerceError(error).message }));
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
