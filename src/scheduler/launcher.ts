import { compactIso, deterministicRunId } from '../core/ids.ts';
import type { Pipeline } from '../dsl/pipeline.ts';

/** What the scheduler tells the engine about why a run exists (stored on the run record). */
export interface ScheduleTriggerInfo {
  type: 'schedule';
  /** Schedule name within the pipeline. */
  schedule: string;
  /** The tick, ISO-8601 UTC. */
  tickTime: string;
  /** Set when the run was created by `backfill` rather than by the live scheduler. */
  backfill?: boolean;
}

export interface LaunchRequest {
  /** Deterministic (see scheduledRunId): a repeat for the same tick must not create a second run. */
  runId: string;
  params: Record<string, unknown>;
  trigger: ScheduleTriggerInfo;
  /** The time the run is "for" (its tick), ISO-8601 UTC; what steps see as the logical date. */
  logicalTime: string;
}

export interface LaunchResult {
  runId: string;
  /** False when a run with this id already existed: nothing new was created. */
  created: boolean;
}

/**
 * How the scheduler and backfill create runs. The engine implements it; it must be idempotent per
 * `runId` (a second trigger of an existing id returns `created: false` and changes nothing).
 */
export interface RunLauncher {
  trigger(pipeline: Pipeline<any, any>, request: LaunchRequest): Promise<LaunchResult>;
  /** The run's status (`queued`, `running`, `succeeded`, `failed`, `cancelled`), undefined if unknown. */
  runStatus(runId: string): Promise<string | undefined>;
}

/** Statuses in which a run still occupies its schedule (overlap policy) or a backfill slot. */
export const ACTIVE_RUN_STATUSES: ReadonlySet<string> = new Set(['queued', 'running']);

export function isRunActive(status: string | undefined): boolean {
  return status !== undefined && ACTIVE_RUN_STATUSES.has(status);
}

/** Run id of one tick of one schedule, e.g. `s.churn.nightly.20260329T013000Z`. */
export function scheduledRunId(pipelineId: string, scheduleName: string, tickMs: number): string {
  return deterministicRunId('s', pipelineId, scheduleName, compactIso(tickMs));
}

export function launchRequest(schedule: { name: string; params: Record<string, unknown> }, pipelineId: string, tickMs: number, backfill = false): LaunchRequest {
  const tickTime = new Date(tickMs).toISOString();
  return {
    runId: scheduledRunId(pipelineId, schedule.name, tickMs),
    params: { ...schedule.params },
    trigger: { type: 'schedule', schedule: schedule.name, tickTime, ...(backfill ? { backfill: true } : {}) },
    logicalTime: tickTime,
  };
}
