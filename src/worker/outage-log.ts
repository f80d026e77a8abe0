import type { Logger } from '../core/logger.ts';

/** At most one log line per this interval for writes Redis refuses for memory (metrics count each). */
const REFUSAL_LOG_EVERY_MS = 10_000;

/**
 * Turns the repeats of an outage into one log line per change: BullMQ reports the same connection
 * error on every reconnect attempt (an outage would print one a second per queue), and a memory
 * episode refuses every write.
 */
export class OutageLog {
  private readonly lastQueueError = new Map<string, string>();
  private lastRefusalLog = 0;

  constructor(
    private readonly logger: Logger,
    private readonly worker: string,
    private readonly oomWindowMs: number,
  ) {}

  /** Redis is reachable again: the next error is news. */
  reconnected(): void {
    this.lastQueueError.clear();
  }

  queueError(queue: string, error: Error): void {
    if (this.lastQueueError.get(queue) === error.message) return;
    this.lastQueueError.set(queue, error.message);
    this.logger.warn('queue worker error', { queue, error: error.message });
  }

  /** A write refused for memory: the true cause, once per REFUSAL_LOG_EVERY_MS, not a line per retry. */
  refused(write: string, message: string): void {
    const now = Date.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_EVERY_MS) return;
    this.lastRefusalLog = now;
    this.logger.warn(`${message} (retrying ${write} and every refused write for up to ${Math.round(this.oomWindowMs / 1000)} s; steps keep their results)`, { worker: this.worker });
  }
}
