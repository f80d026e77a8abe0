/** What the CLI (and other entry points) may use: the composition root's public surface. */
export { createRuntime, type Runtime } from './runtime.ts';
export { startWorkerHost, queuesOf, type WorkerHost } from './worker-host.ts';
export { loadPipelines, resolvePipeline, type LoadedPipelines, type LoadProblem } from './pipeline-loader.ts';
export { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis.ts';
export { createLogger } from './logger.ts';
export { readDevState, writeDevState, clearDevState } from './dev-discovery.ts';
export { renderDag, validateDag, type GraphFormat } from '../graph/index.ts';
export { liveWorkers } from '../redis/worker-presence.ts';
export type { RunView, StepView } from '../engine/run-view.ts';
export type { RunRecord } from '../redis/run-records.ts';
export { parseDuration } from '../core/duration.ts';
export { runWorkerMain } from './worker-main.ts';
export { engineLauncher } from './launcher.ts';
export { EventTriggers, type FiredRun } from './event-triggers.ts';
export { Scheduler, type ScheduleStatus } from '../scheduler/scheduler.ts';
export { backfill, type BackfillProgress } from '../scheduler/backfill.ts';
export type { ModelVersion, AuditEntry, ModelSummary } from '../registry/types.ts';
export { startApi, type ServeOptions, type RunningApi } from './api-main.ts';
