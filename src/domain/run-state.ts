/**
 * What a run and its steps are, independent of where they are stored: statuses, the records the
 * engine, API, CLI, workers and the test kit exchange, and the one-letter step states that the Lua
 * scripts (src/redis/lua/) and the test kit (src/testing/dag-state.ts) both decide with.
 * How those records are laid out in Redis is src/redis/run-schema.ts.
 */

import type { SkipKind, UpstreamStatus } from '../dsl/trigger-rules.ts';

export type { SkipKind, UpstreamStatus };

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** Status letters used inside Redis (kept to one byte: they are written for every step). */
const LETTER_TO_STATUS: Record<string, StepStatus> = {
  p: 'pending',
  q: 'queued',
  r: 'running',
  s: 'succeeded',
  f: 'failed',
  k: 'skipped',
  x: 'skipped',
  c: 'cancelled',
  m: 'running',
};

export function stepStatusFromLetter(letter: string): StepStatus {
  return LETTER_TO_STATUS[letter] ?? 'pending';
}

const LETTER_TO_UPSTREAM: Record<string, UpstreamStatus> = { s: 'succeeded', f: 'failed', k: 'skipped', x: 'skipped-by-failure' };

export function upstreamStatusFromLetter(letter: string | null | undefined): UpstreamStatus {
  return (letter && LETTER_TO_UPSTREAM[letter]) || 'pending';
}

export interface StepError {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
}

export interface RunRecord {
  id: string;
  pipeline: string;
  status: RunStatus;
  params: Record<string, unknown>;
  trigger: Record<string, unknown>;
  logicalTime: string;
  dagHash: string;
  /** Code version the run started with ('' until known); see docs/architecture.md. */
  codeVersion: string;
  versioning: 'compatible' | 'pinned';
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  updatedAt?: number;
  /** Steps not finished yet. */
  remaining: number;
  /** Steps that failed in the current generation. */
  failed: number;
  /** Incremented by each retry of the run; part of re-enqueued job ids. */
  generation: number;
  cancelledBy?: string;
}

/** What never changes during a run: a worker fetches it once per run and caches it. */
export interface RunFixedFields {
  pipeline: string;
  params: Record<string, unknown>;
  trigger: Record<string, unknown>;
  logicalTime: string;
  dagHash: string;
}

/** What the worker measured for a step's final attempt (CPU and RSS are process-wide figures). */
export interface StepResources {
  wallMs: number;
  cpuMs: number;
  rssBytes: number;
}

export interface StepState {
  name: string;
  status: StepStatus;
  /** Why a step was skipped ("an upstream step failed", "condition was false"...). */
  reason?: string;
  /** Policy attempt of the latest delivery (1-based), 0 if never started. */
  attempts: number;
  /** Deliveries, counting redeliveries after a stalled worker. */
  deliveries: number;
  worker?: string;
  /** Code version of the worker that ran the latest attempt. */
  codeVersion?: string;
  /** Set while the step waits for a worker with its code: "my-etl@<version>", and since when. */
  waitingFor?: string;
  waitingSince?: number;
  /** Times a shutting-down worker handed the step back (not attempts). */
  handBacks?: number;
  firstStartedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  error?: StepError;
  /** The last error of an earlier attempt or generation, kept for display. */
  previousError?: StepError;
  output?: unknown;
  /** True when the step was skipped because an upstream step failed (counts against the run). */
  skippedByFailure?: boolean;
  /** Which kind of skip happened. */
  skip?: SkipKind;
  resources?: StepResources;
}

/** One line of a run's log, as handlers write it (`ctx.log`) and the API and CLI show it. */
export interface LogEntry {
  t: number;
  level: string;
  step: string;
  attempt: number;
  msg: string;
  fields?: Record<string, unknown>;
}
