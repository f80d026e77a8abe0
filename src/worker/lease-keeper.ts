import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';
import { SharedTicker } from './shared-ticker.ts';

interface HeldLease {
  renew(): Promise<boolean>;
  onLost(): void;
  stopped: boolean;
}

/**
 * Keeps eagerly claimed steps' leases alive while this worker runs them, as BullMQ renews a job's
 * lock. One timer for all of them (SharedTicker), ticking every third of a lease: a lease taken just
 * after a tick is renewed at most a third of a lease later, with two thirds still to go.
 *
 * `renew` answering false means another delivery owns the step now (the lease ran out and the
 * reconciler re-queued it): `onLost` stops the attempt. A failed renewal (Redis unreachable) is tried
 * again at the next tick; if the lease runs out meanwhile, the step is re-queued and this attempt's
 * result is refused by its fence token.
 */
export class LeaseKeeper {
  private readonly ticker: SharedTicker<HeldLease>;

  constructor(leaseMs: number, logger: Logger) {
    this.ticker = new SharedTicker(Math.floor(leaseMs / 3), (lease) => {
      lease.renew().then(
        (held) => {
          if (!held && !lease.stopped) lease.onLost();
        },
        (thrown) => logger.debug('could not renew an eager step lease; trying again', { error: coerceError(thrown).message }),
      );
    });
  }

  /** Renews a lease until the returned function is called. */
  keep(renew: () => Promise<boolean>, onLost: () => void): () => void {
    const lease: HeldLease = { renew, onLost, stopped: false };
    const remove = this.ticker.add(lease);
    return () => {
      lease.stopped = true;
      remove();
    };
  }
}
