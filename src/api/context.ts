import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { Engine } from '../engine/engine.ts';
import type { QueueStats, RunArtifactReader, RunEventFeed, RunLogReader, WorkerRecord } from '../domain/api-facing.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import type { ScheduleStatus } from '../scheduler/scheduler.ts';

/**
 * What the routes need of a connected runtime, and nothing more: runs through the engine (queries
 * and commands), logs, artifacts, queue sizes, live workers, the run event feed and a health ping. No
 * Redis client, key space or store reaches api/ (app/api-runtime.ts builds this from a Runtime).
 */
export interface ApiRuntime {
  config: Config;
  logger: Logger;
  engine: Engine;
  artifacts: RunArtifactReader;
  logs: RunLogReader;
  queues: QueueStats;
  /** Live run events (one subscription for the process). */
  events: RunEventFeed;
  liveWorkers(): Promise<WorkerRecord[]>;
  /** Resolves when Redis answers; rejects with its error otherwise (for /healthz). */
  ping(): Promise<void>;
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
  events: RunEventFeed;
  /** Masks secrets in anything the API returns. */
  redact<T>(value: T): T;
  /** Queues to report even when no pipeline names them yet (e.g. `default`). */
  knownQueues(): string[];
}
