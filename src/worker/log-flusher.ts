import type { LogEntry } from '../domain/run-state.ts';
import type { BufferedStepLogger } from './step-logger.ts';

/** How often a running attempt's new log lines are stored. */
export const LOG_FLUSH_MS = 1_000;

/**
 * Stores a running attempt's log lines as it goes (every LOG_FLUSH_MS, when there are any), so
 * `conveyor logs`, `run --wait --logs` and the run page show a long step's lines while it runs,
 * not only when its attempt ends. The worker still stores the rest when the attempt ends.
 *
 * Writes are chained and each drains the buffer when its turn comes, so lines reach Redis in the
 * order they were logged; a write that fails puts its lines back at the front of the buffer, and
 * the next write (or the one at the end of the attempt) carries them.
 */
export class LogFlusher {
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly log: BufferedStepLogger,
    private readonly write: (entries: LogEntry[]) => Promise<void>,
    everyMs = LOG_FLUSH_MS,
  ) {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref?.();
  }

  private flush(): Promise<void> {
    this.chain = this.chain.then(async () => {
      const entries = this.log.drain();
      if (entries.length === 0) return;
      try {
        await this.write(entries);
      } catch {
        this.log.entries.unshift(...entries);
      }
    });
    return this.chain;
  }

  /** Stops the timer and waits for a write under way; what is left stays in the buffer for the caller. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
  }
}
