import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';
import type { RunEvent, RunEventFeed } from '../domain/api-facing.ts';
import { stepStatusFromLetter } from '../domain/run-state.ts';

type Listener = (event: RunEvent) => void;

/** Step outcomes are published as letters by the Lua scripts; run statuses as words. */
function statusWord(step: string, raw: string): string {
  if (!step || raw.length > 1) return raw;
  return stepStatusFromLetter(raw);
}

/** Parses `runId|step|status` (the format every script PUBLISHes on the events channel). */
export function parseRunEvent(message: string): RunEvent | undefined {
  const first = message.indexOf('|');
  const last = message.lastIndexOf('|');
  if (first < 0 || last === first) return undefined;
  const runId = message.slice(0, first);
  const step = message.slice(first + 1, last);
  return { runId, step, status: statusWord(step, message.slice(last + 1)) };
}

/**
 * One Redis subscription for the whole API process, fanned out to the live views (SSE streams) of
 * each run, so a thousand open browser tabs cost one subscriber connection.
 */
export class RedisRunEventFeed implements RunEventFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private started: Promise<void> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  private start(): Promise<void> {
    this.started ??= (async () => {
      this.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== this.channel) return;
        const event = parseRunEvent(message);
        if (!event) return;
        for (const listener of this.listeners.get(event.runId) ?? []) {
          try {
            listener(event);
          } catch (error) {
            this.logger.warn('run event listener failed', { runId: event.runId, error: String(error) });
          }
        }
      });
      await this.subscriber.subscribe(this.channel);
    })();
    return this.started;
  }

  /** Calls `listener` for every event of `runId` until the returned function is called. */
  async subscribe(runId: string, listener: Listener): Promise<() => void> {
    await this.start();
    let set = this.listeners.get(runId);
    if (!set) this.listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(runId);
    };
  }

  get openStreams(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
