import { systemClock } from '../core/clock.ts';
import type { Config } from '../config/schema.ts';
import { Engine } from '../engine/engine.ts';
import { closeRedis } from '../redis/connection.ts';
import { KeySpace } from '../redis/keys.ts';
import { RunStore } from '../redis/run-store.ts';
import type { StepQueues } from '../redis/step-queues.ts';
import { connectMainRedis, type RedisConnectOptions } from './redis-connect.ts';

/** What read-only commands (`runs`, `status`, `logs`) need: runs as the engine shows them, and logs. */
export interface RunReader {
  /** The read side of the engine: runs, their records and their logs (no queues, no store). */
  engine: Pick<Engine, 'getRun' | 'listRuns' | 'getRuns' | 'readLogs'>;
  close(): Promise<void>;
}

/** Reading runs never touches the queues; a call that would is a programming error, said plainly. */
const NO_QUEUES = new Proxy({} as StepQueues, {
  get(_target, property) {
    throw new Error(`the run reader has no step queues (StepQueues.${String(property)}): use createRuntime`);
  },
});

/**
 * One Redis client and the run store, without BullMQ or the registry: the runtime's read side at a
 * fraction of its start-up cost (BullMQ alone is most of a one-shot command's import time).
 */
export async function openRunReader(config: Config, options: RedisConnectOptions): Promise<RunReader> {
  const { redis } = await connectMainRedis(config, options);
  const store = new RunStore(redis, new KeySpace(config.prefix));
  const engine = new Engine({ store, queues: NO_QUEUES, clock: systemClock, logger: options.logger, retentionMs: config.retentionMs });
  return { engine, close: () => closeRedis(redis) };
}
