/**
 * What a run and its steps are, independent of where they are stored: statuses, the records the
 * engine, API, CLI, workers and the test kit exchange, and the one-letter step states that the Lua
 * scripts (src/redis/lua/) and the test kit (src/testing/dag-state.ts) both decide with.
 * How those records are laid out in Redis is src/redis/run-schema.ts.
 */

import type { SkipKind, UpstreamStatus } from '../dsl/trigger-rules.ts';

export type { SkipKind, UpstreamStatus };

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** How a run can start (a run's `trigger.type`). */
export const RUN_TRIGGERS = ['manual', 'schedule', 'event', 'retry'] as const;
export type StepStatus = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * How a run's status may change, and which script does it: step-start (queued → running),
 * step-complete (→ succeeded/failed; a queued run fails when the reconciler fails a step no worker
 * took), run-cancel (→ cancelled), run-retry (failed/cancelled → running).
 * test/redis/run-schema.test.ts drives every script and fails on a change not listed here.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['running', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: ['running'],
  cancelled: ['running'],
};

/**
 * Step states as one letter (one byte: written for every step): what the Lua scripts store and
 * decide on, and what the test kit (src/testing/dag-state.ts) decides on too.
 */
export const STEP_LETTERS = {
  p: 'pending',
  q: 'queued',
  r: 'running',
  s: 'succeeded',
  f: 'failed',
  /** skipped by its own condition, a trigger rule, or an upstream skip */
  k: 'skipped',
  /** skipped because an upstream step failed (counts against the run) */
  x: 'skipped',
  c: 'cancelled',
  /** a map step collecting its instances (see step-map-expand.lua) */
  m: 'running',
} as const satisfies Record<string, StepStatus>;
export type StepLetter = keyof typeof STEP_LETTERS;

/**
 * How a step's letter may change. New steps start `q` (no upstream) or `p` (run-trigger, and map
 * instances from step-map-expand). `q → q` (step-wait, park, retry, hand-back) and `r → r` (a
 * redelivery) rewrite the attempt record, not the letter. `q → f`: the reconciler fails a step whose
 * job died or waited past `noWorkerTimeout`. `f/k/x/c → p/q`: run-retry (an instance `c → f`, and
 * `f → p` when its map step expands again).
 * test/redis/run-schema.test.ts drives every script and fails on a change not listed here.
 */
export const STEP_TRANSITIONS: Readonly<Record<StepLetter, readonly StepLetter[]>> = {
  // p → r: a completion made the step ready and claimed it for its worker in one script (eager dispatch)
  p: ['q', 'r', 'k', 'x', 'c'],
  q: ['r', 'f', 'c'],
  r: ['s', 'f', 'k', 'q', 'm', 'c'],
  m: ['s', 'f', 'c'],
  s: [],
  f: ['p', 'q'],
  k: ['p', 'q'],
  // a step skipped by a failure has a failed upstream, which a run retry resets too: it waits again
  x: ['p'],
  c: ['p', 'q', 'f'],
};
export const STEP_INITIAL_LETTERS: readonly StepLetter[] = ['p', 'q'];

export function stepStatusFromLetter(letter: string): StepStatus {
  return (STEP_LETTERS as Record<string, StepStatus>)[letter] ?? 'pending';
}

const LETTER_TO_UPSTREAM: Partial<Record<StepLetter, UpstreamStatus>> = { s: 'succeeded', f: 'failed', k: 'skipped', x: 'skipped-by-failure' };

export function upstreamStatusFromLetter(letter: string | null | undefined): UpstreamStatus {
  return (letter && LETTER_TO_UPSTREAM[letter as StepLetter]) || 'pending';
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
  /** Code version the run started with ('' until known); see docs/internals.md. */
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

/**
 * How one attempt of a step ended: s/f/k/x/c as the step's final letters (the last attempt of an
 * earlier generation), r failed and retried, h handed back (worker shutdown, infrastructure), p
 * parked, lost (its worker stalled or died before it reported).
 */
export type AttemptOutcome = 's' | 'f' | 'k' | 'x' | 'c' | 'r' | 'h' | 'p' | 'lost';

/** One delivery of a step. */
export interface AttemptRecord {
  attempt: number;
  generation: number;
  worker: string;
  codeVersion?: string;
  startedAt: number;
  finishedAt?: number;
  /** Absent while the attempt runs (the step's status tells how the latest one ended). */
  outcome?: AttemptOutcome;
  error?: StepError;
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
  /**
   * Every delivery, oldest first (the latest 10), the current one last — present only when there
   * was more than one, so a step that ran once carries no history.
   */
  history?: AttemptRecord[];
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

/** Value of a run's `outbox` field while the follow-ups of its end (onSucceeded triggers) are owed. */
export const OUTBOX_OWED = 'owed';
