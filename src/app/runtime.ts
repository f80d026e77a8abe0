import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Config } from '../config/schema.ts';
import { Engine, type EngineEvent } from '../engine/engine.ts';
import { closeRedis, createRedis } from '../redis/connection.ts';
import { connectMainRedis, type RedisConnectOptions } from './redis-connect.ts';
import { KeySpace } from '../redis/keys.ts';
import { RunStore } from '../redis/run-store.ts';
import { StepQueues } from '../redis/step-queues.ts';
import { liveWorkers, type WorkerRecord } from '../redis/worker-presence.ts';
import { createModelRegistry } from '../registry/create.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';

/** The connected core every command builds on: Redis clients, key space, store, queues, engine. */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  redis: Redis;
  keys: KeySpace;
  store: RunStore;
  queues: StepQueues;
  engine: Engine;
  /** The model registry (Redis-backed, artifacts under `<dataDir>/artifacts`). */
  registry: ModelRegistry;
  /** Adds a listener for the engine events of this process (runs started/finished); returns its remover. */
  onEngineEvent(listener: (event: EngineEvent) => void): () => void;
  /** Workers that sent a heartbeat recently (queues, pipeline versions, steps running). */
  liveWorkers(): Promise<WorkerRecord[]>;
  /** Opens an extra client (subscriber, blocking BullMQ connection). Closed with the runtime. */
  extraClient(blocking?: boolean): Redis;
  close(): Promise<void>;
}

export interface RuntimeOptions extends RedisConnectOptions {
  clock?: Clock;
  onEngineEvent?: (event: EngineEvent) => void;
}

/** Connects to Redis (one-line error if unreachable), checks the eviction policy, wires the engine. */
export async function createRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const { redis, connect } = await connectMainRedis(config, options);
  const extras: Redis[] = [];
  const keys = new KeySpace(config.prefix);
  const store = new RunStore(redis, keys);
  const queueConnection = createRedis(config.redisUrl, { ...connect, blocking: true });
  extras.push(queueConnection);
  const queues = new StepQueues(queueConnection, keys);
  // Listeners added later (metrics, failure notifications) see the same events as options.onEngineEvent.
  const engineListeners = new Set<(event: EngineEvent) => void>();
  if (options.onEngineEvent) engineListeners.add(options.onEngineEvent);
  const onEvent = (event: EngineEvent) => {
    for (const listener of engineListeners) {
      try {
        listener(event);
      } catch (error) {
        logger.warn('engine event listener threw', { error: (error as Error).message });
      }
    }
  };
  const engine = new Engine({ store, queues, clock, logger, retentionMs: config.retentionMs, onEvent });
  const registry = createModelRegistry({ redis, config, logger, clock });
  return {
    config,
    logger,
    clock,
    redis,
    keys,
    store,
    queues,
    engine,
    registry,
    onEngineEvent(listener) {
      engineListeners.add(listener);
      return () => engineListeners.delete(listener);
    },
    liveWorkers: () => liveWorkers(redis, keys, clock.now()),
    extraClient(blocking = false) {
      const client = createRedis(config.redisUrl, { ...connect, blocking });
      extras.push(client);
      return client;
    },
    async close() {
      await registry.flush().catch(() => {});
      await queues.close();
      for (const client of [...extras, redis]) await closeRedis(client);
    },
  };
}
