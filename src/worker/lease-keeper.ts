import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';

interface HeldLease {
  renew(): Promise<boolean>;
  onLost(): void;
  stopped: boolean;
}

/**
 * Keeps eagerly claimed steps' leases alive while this worker runs them, as BullMQ renews a job's
 * lock. One timer for all of them, ticking every third of a lease: a lease taken just after a tick
 * is renewed at most a third of a lease later, with two thirds still to go. (A timer per claimed step
 * cost a setInterval/clearInterval pair per step, a few per cent of a no-op step's CPU.) The timer is
 * unref'd and starts with the first lease.
 *
 * `renew` answering false means another delivery owns the step now (the lease ran out and the
 * reconciler re-queued it): `onLost` stops the attempt. A failed renewal (Redis unreachable) is tried
 * again at the next tick; if the lease runs out meanwhile, the step is re-queued and this attempt's
 * result is refused by its fence token.
 */
export class LeaseKeeper {
  private readonly held = new Set<HeldLease>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {}

  /** Renews a lease until the returned function is called. */
  keep(renew: () => Promise<boolean>, onLost: () => void): () => void {
    const lease: HeldLease = { renew, onLost, stopped: false };
    this.held.add(lease);
    if (!this.timer) {
      this.timer = setInterval(() => this.renewAll(), Math.max(1, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
    return () => {
      lease.stopped = true;
      this.held.delete(lease);
    };
  }

  private renewAll(): void {
    for (const lease of this.held) {
      lease.renew().then(
        (held) => {
          if (!held && !lease.stopped) lease.onLost();
        },
        (thrown) => this.logger.debug('could not renew an eager step lease; trying again', { error: coerceError(thrown).message }),
      );
    }
  }
}
