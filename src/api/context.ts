import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { Engine } from '../engine/engine.ts';
import type { KeySpace } from '../redis/keys.ts';
import type { RunStore } from '../redis/run-store.ts';
import type { StepQueues } from '../redis/step-queues.ts';
import type { WorkerRecord } from '../redis/worker-presence.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import type { ScheduleStatus } from '../scheduler/scheduler.ts';
import type { RunEvents } from './run-events.ts';

/** What the routes need of a connected runtime (app's Runtime satisfies it). */
export interface ApiRuntime {
  config: Config;
  logger: Logger;
  redis: Redis;
  keys: KeySpace;
  store: RunStore;
  queues: StepQueues;
  engine: Engine;
  extraClient(blocking?: boolean): Redis;
  liveWorkers(): Promise<WorkerRecord[]>;
}

/** Schedules as the API sees them (the scheduler's status/pause/resume). */
export interface ScheduleService {
  status(): Promise<ScheduleStatus[]>;
  pause(pipelineId: string): Promise<void>;
  resume(pipelineId: string): Promise<void>;
}

export interface ApiContext {
  runtime: ApiRuntime;
  pipelines: ReadonlyMap<string, Pipeline<any, any>>;
  registry: ModelRegistry;
  schedules: ScheduleService;
  events: RunEvents;
  /** Masks secrets in anything the API returns. */
  redact<T>(value: T): T;
  /** Queues to report even when no pipeline names them yet (e.g. `default`). */
  knownQueues(): string[];
}
