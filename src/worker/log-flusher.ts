import type { LogEntry } from '../domain/run-state.ts';
import type { BufferedStepLogger } from './step-logger.ts';
import { SharedTicker } from './shared-ticker.ts';

/** How often running attempts' new log lines are stored. */
export const LOG_FLUSH_MS = 1_000;

/**
 * Stores running attempts' log lines as they go (every LOG_FLUSH_MS, when there are any), so
 * `conveyor logs`, `run --wait --logs` and the run page show a long step's lines while it runs,
 * not only when its attempt ends. The worker still stores the rest when an attempt ends. One timer
 * serves every attempt of the worker (SharedTicker).
 */
export class LogFlushers {
  private readonly ticker: SharedTicker<AttemptLogFlusher>;

  constructor(everyMs = LOG_FLUSH_MS) {
    this.ticker = new SharedTicker(everyMs, (flusher) => void flusher.flush());
  }

  /** Flushes `log` through `write` while the attempt runs; stop() the returned flusher when it ends. */
  start(log: BufferedStepLogger, write: (entries: LogEntry[]) => Promise<void>): AttemptLogFlusher {
    let forget = () => {};
    const flusher = new AttemptLogFlusher(log, write, () => forget());
    forget = this.ticker.add(flusher);
    return flusher;
  }
}

/**
 * One attempt's flusher. Writes are chained and each drains the buffer when its turn comes, so lines
 * reach Redis in the order they were logged; a write that fails puts its lines back at the front of
 * the buffer, and the next write (or the one at the end of the attempt) carries them.
 */
export class AttemptLogFlusher {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: BufferedStepLogger,
    private readonly write: (entries: LogEntry[]) => Promise<void>,
    private readonly forget: () => void,
  ) {}

  flush(): Promise<void> {
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

  /** Takes the attempt off the timer and waits for a write under way; what is left stays in the buffer for the caller. */
  async stop(): Promise<void> {
    this.forget();
    await this.chain;
  }
}
