import type { z } from 'zod';
import type { RunOutcomeRule, RunWhen, TriggerRule } from './trigger-rules.ts';

export type { RunWhen, TriggerRule, RunOutcomeRule };
export type BackoffPolicy = { type: 'fixed' | 'exponential'; delayMs: number };
export type CatchupPolicy = 'none' | 'latest' | 'all';
export type OverlapPolicy = 'allow' | 'skip' | 'queue';

/** Policy a step inherits from the pipeline's `defaults` unless it sets its own. */
export interface StepPolicy {
  /** Extra attempts after the first. */
  retries?: number;
  backoff?: BackoffPolicy;
  timeoutMs?: number;
  /** Worker pool (BullMQ queue) that runs the step. */
  queue?: string;
  /**
   * 'process': each attempt runs in a child process, killed at its timeout or cancel; a crash fails
   * only that attempt. 'in-process' (the fast default) runs it in the worker. Unset: the worker's default.
   */
  isolation?: 'in-process' | 'process';
}

export interface ScheduleSpec {
  cron: string;
  timezone?: string;
  catchup?: CatchupPolicy;
  /** Longest downtime `catchup: 'all'` replays, e.g. '2d'. */
  catchupWindow?: string;
  overlap?: OverlapPolicy;
  params?: Record<string, unknown>;
  /** Stable name; defaults to its index in the list. */
  name?: string;
}

export type TriggerSpec =
  | { onSucceeded: string; params?: Record<string, unknown> }
  | { event: string; params?: Record<string, unknown> }
  | { onModelAlias: { model: string; alias: string }; params?: Record<string, unknown> };

/** Serialisable description of one step: what the engine snapshots into Redis at trigger time. */
export interface StepSpec {
  name: string;
  needs: string[];
  queue: string;
  retries: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  /** The trigger rule (aliases already resolved to their rule). */
  runWhen: TriggerRule;
  /** True when the step has an `if` condition (evaluated by the worker before the handler). */
  conditional: boolean;
  kind: 'task' | 'map';
  /** For map steps: how many item instances may run at once (0 = no limit). */
  maxParallel?: number;
  /** Set only when the step (or its pipeline's defaults) chose one. */
  isolation?: 'in-process' | 'process';
  /** For map steps that accept partial success: how many items must succeed (count or share). */
  minSuccess?: number | `${number}%`;
}

/** Serialisable description of a pipeline. Two specs with the same content have the same hash. */
export interface PipelineSpec {
  id: string;
  description: string;
  steps: StepSpec[];
  schedules: ScheduleSpec[];
  triggers: TriggerSpec[];
  /** Present only when not the default ('leaves'), so existing pipelines keep their hash. */
  runOutcome?: RunOutcomeRule;
  /** Set only when pinned: runs finish on the exact code version they started with (see VersioningPolicy). */
  versioning?: 'pinned';
  /** A step waiting longer than this for a worker with its code fails (absent: it waits until cancelled). */
  noWorkerTimeoutMs?: number;
}

/**
 * Which workers may run the remaining steps of a run: `compatible` (default) — any code version with
 * the run's DAG hash; `pinned` — only the code version the run started with.
 */
export type VersioningPolicy = 'compatible' | 'pinned';

export interface PipelineOptions<P extends z.ZodType> {
  id: string;
  description?: string;
  params?: P;
  defaults?: StepPolicy;
  schedule?: ScheduleSpec | ScheduleSpec[];
  triggers?: TriggerSpec[];
  /**
   * How the run's status is decided. 'leaves' (default, Airflow's rule): failed when a leaf step failed
   * or was skipped because of a failure, so a handled failure (a fallback) leaves the run succeeded.
   * 'any-failure': failed whenever any step failed.
   */
  runOutcome?: RunOutcomeRule;
  versioning?: VersioningPolicy;
  /** e.g. '10m': fail a step that waited this long for a worker that has its code. */
  noWorkerTimeout?: string | number;
}

/** A step policy with every default applied (isolation stays optional: unset defers to the worker). */
export type ResolvedPolicy = Required<Omit<StepPolicy, 'isolation'>> & Pick<StepPolicy, 'isolation'>;

export const DEFAULT_POLICY: ResolvedPolicy = Object.freeze({
  retries: 0,
  backoff: Object.freeze({ type: 'exponential', delayMs: 1_000 }) as BackoffPolicy,
  timeoutMs: 15 * 60_000,
  queue: 'default',
});
