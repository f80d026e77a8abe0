import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';

/**
 * Keeps an eagerly claimed step's lease alive while its worker runs it, as BullMQ renews a job's
 * lock: every half lease. `renew` answering false means another delivery owns the step now (the
 * lease ran out and the reconciler re-queued it): `onLost` stops the attempt. A failed renewal (Redis
 * unreachable) is tried again at the next tick; if the lease runs out meanwhile, the step is re-queued
 * and this attempt's result is refused by its fence token. Returns the function that stops renewing.
 */
export function keepLease(renew: () => Promise<boolean>, leaseMs: number, onLost: () => void, logger: Logger): () => void {
  let stopped = false;
  const timer = setInterval(() => {
    renew().then(
      (held) => {
        if (!held && !stopped) onLost();
      },
      (thrown) => logger.debug('could not renew an eager step lease; trying again', { error: coerceError(thrown).message }),
    );
  }, Math.max(1, Math.floor(leaseMs / 2)));
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
