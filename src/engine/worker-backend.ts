import type { RedisClient as Redis } from '../redis/connection.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';
import type { KeySpace } from '../redis/keys.ts';
import { startConsumer, type ConsumedJob, type JobConsumer, type ProcessOutcome } from '../redis/job-consumer.ts';
import type { RunStore } from '../redis/run-store.ts';
import { WorkerPresence } from '../redis/worker-presence.ts';
import type { Engine } from './engine.ts';
import { StepLifecycle, type StepLifecycleOptions } from './step-lifecycle.ts';

// What a worker sees of jobs, routes and run state: types only, so worker/ never imports redis/.
export type { ConsumedJob, JobConsumer, ProcessOutcome } from '../redis/job-consumer.ts';
export type { StepJobData } from '../domain/step-job.ts';
export type { StepRoute } from '../domain/step-routes.ts';
export type { LogEntry, RunFixedFields } from '../domain/run-state.ts';
export type { ClaimedStep, CompleteResult, StartResult, StepOutcome } from '../redis/run-store.ts';

/** How a worker's queue consumer reports back (see ConsumerOptions in redis/job-consumer.ts). */
export interface JobHandlers {
  process(job: ConsumedJob): Promise<ProcessOutcome>;
  /** The queue gave up on a job our processor never finished (its deliveries all died). */
  onAbandoned(job: ConsumedJob, reason: string): void;
  /** Redis says this worker no longer holds these jobs' locks: another delivery may own them. */
  onLockLost(jobIds: string[]): void;
  onError(error: Error): void;
}

export interface PresenceInfo {
  id: string;
  queues: string[];
  pipelines: Array<{ id: string; hash: string; code: string }>;
  running: () => number;
  versionQueues: () => string[];
}

/**
 * Everything a worker needs from the engine and the store, and nothing more: the step lifecycle
 * (which decides and records), queue consumers, cancel notices, presence. The worker runs handlers
 * against this interface; Redis, BullMQ and the key layout stay behind it.
 */
export interface WorkerBackend {
  lifecycle(hooks: Pick<StepLifecycleOptions, 'onEvent' | 'onRunFinished' | 'onRedisRefused'>): StepLifecycle;
  consume(queue: string, workerName: string, concurrency: number, handlers: JobHandlers): JobConsumer;
  /** Arms the data marker, then listens for cancels and reconnects until `disconnect`. */
  connect(listeners: { onCancel(runId: string): void; onReconnect(): void }): Promise<void>;
  disconnect(): Promise<void>;
  presence(info: PresenceInfo): { start(): Promise<void>; stop(): Promise<void> };
}

export interface WorkerBackendOptions {
  /** Client for commands and scripts (auto-pipelined). */
  redis: Redis;
  /** Client BullMQ consumers use (maxRetriesPerRequest: null); duplicated per queue by BullMQ. */
  bullConnection: Redis;
  /** Client in subscriber mode for cancellations. */
  subscriber: Redis;
  keys: KeySpace;
  store: RunStore;
  engine: Engine;
  clock: Clock;
  logger: Logger;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long writes Redis refuses for memory are retried (see StepLifecycle). */
  oomWindowMs?: number;
  /** Most pickup jobs per fan-out (see StepLifecycle). */
  fanOutPickups?: number;
}

export function createWorkerBackend(o: WorkerBackendOptions): WorkerBackend {
  let onReady: (() => void) | undefined;
  let onMessage: ((channel: string, runId: string) => void) | undefined;
  return {
    // An eagerly claimed step's lease lasts as long as a job's lock would.
    lifecycle: (hooks) => new StepLifecycle({ engine: o.engine, store: o.store, clock: o.clock, logger: o.logger, oomWindowMs: o.oomWindowMs, leaseMs: o.lockDurationMs, fanOutPickups: o.fanOutPickups, ...hooks }),
    consume: (queue, workerName, concurrency, handlers) =>
      startConsumer({
        connection: o.bullConnection, keys: o.keys, queue, concurrency, workerName,
        lockDurationMs: o.lockDurationMs, stalledIntervalMs: o.stalledIntervalMs, ...handlers,
      }),
    async connect(listeners) {
      // The marker lets a reconnect tell a restarted Redis that kept its data from one that came back empty.
      await o.store.setMarker(o.clock.now());
      onReady = () => {
        listeners.onReconnect();
        void checkMarker(o);
      };
      o.redis.on('ready', onReady);
      await o.subscriber.subscribe(o.keys.cancelChannel);
      onMessage = (channel, runId) => {
        if (channel === o.keys.cancelChannel) listeners.onCancel(runId);
      };
      o.subscriber.on('message', onMessage);
    },
    async disconnect() {
      if (onReady) o.redis.off('ready', onReady);
      if (onMessage) o.subscriber.off('message', onMessage);
      await o.subscriber.unsubscribe();
    },
    presence: (info) => new WorkerPresence(o.redis, o.keys, info.id, info.queues, info.pipelines, info.running, info.versionQueues),
  };
}

/**
 * After a reconnect: a missing marker means Redis lost its data (restart without persistence, failover
 * to an empty replica). Nothing can bring those runs back, so say so loudly, once, and re-arm the marker.
 */
async function checkMarker(o: WorkerBackendOptions): Promise<void> {
  try {
    if (await o.store.hasMarker()) return;
    o.logger.error(
      `Redis came back empty: marker key ${o.keys.marker} is gone, so in-flight runs lost their state and queued steps (runs lost); enable Redis persistence (appendonly yes) to survive restarts`,
    );
    await o.store.setMarker(o.clock.now());
  } catch (thrown) {
    o.logger.warn('could not check the Redis data marker after reconnect', { error: coerceError(thrown).message });
  }
}
