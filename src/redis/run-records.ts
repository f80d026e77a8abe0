/** Shapes of run and step state as stored, and the decoding of the compact Redis encoding. */

import { handOffForDisplay } from '../core/hand-off.ts';

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

/** What a step sees of an upstream step (`ctx.upstreamStatus`; the same union as dsl's UpstreamStatus). */
export type UpstreamStatus = 'succeeded' | 'failed' | 'skipped' | 'skipped-by-failure' | 'pending';

const LETTER_TO_UPSTREAM: Record<string, UpstreamStatus> = { s: 'succeeded', f: 'failed', k: 'skipped', x: 'skipped-by-failure' };

export function upstreamStatusFromLetter(letter: string | null | undefined): UpstreamStatus {
  return (letter && LETTER_TO_UPSTREAM[letter]) || 'pending';
}

/** Why a skipped step was skipped (stored by step-complete.lua; the same union as dsl's SkipKind). */
export type SkipKind = 'condition' | 'upstream-failed' | 'upstream-skipped' | 'trigger-rule';

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

/** What the worker measured for a step's final attempt (CPU and RSS are process-wide figures). */
export interface StepResources {
  wallMs: number;
  cpuMs: number;
  rssBytes: number;
}

/** How one attempt of a step ended: s/f/k as the step's outcome, r failed and retried, h handed back, lost (its worker stalled or died). */
export type AttemptOutcome = 's' | 'f' | 'k' | 'r' | 'h' | 'lost';

/** One delivery of a step as step-start.lua recorded it (the latest 10 are kept). */
export interface AttemptRecord {
  attempt: number;
  generation: number;
  worker: string;
  codeVersion?: string;
  startedAt: number;
  finishedAt?: number;
  /** Absent while the attempt runs. */
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
  /** Every delivery, oldest first (the latest 10). */
  history?: AttemptRecord[];
}

export function decodeRunRecord(hash: Record<string, string>): RunRecord | undefined {
  if (!hash.id) return undefined;
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    id: hash.id,
    pipeline: hash.pipeline,
    status: hash.status as RunStatus,
    params: JSON.parse(hash.params || '{}'),
    trigger: JSON.parse(hash.trigger || '{}'),
    logicalTime: hash.logicalTime,
    dagHash: hash.dagHash,
    codeVersion: hash.codeVersion ?? '',
    versioning: hash.versioning === 'pinned' ? 'pinned' : 'compatible',
    createdAt: Number(hash.createdAt),
    startedAt: num(hash.startedAt),
    finishedAt: num(hash.finishedAt),
    updatedAt: num(hash.updatedAt),
    remaining: Number(hash.remaining ?? 0),
    failed: Number(hash.failed ?? 0),
    generation: Number(hash.gen ?? 0),
    cancelledBy: hash.cancelledBy || undefined,
  };
}

interface StoredInfo {
  a?: number;
  d?: number;
  w?: string;
  fs?: number;
  sa?: number;
  fa?: number;
  e?: StepError;
  prev?: StepError;
  r?: string;
  sk?: SkipKind;
  /** resource figures, JSON text */
  res?: string;
  cv?: string;
  wf?: string;
  ws?: number;
  hb?: number;
  h?: Array<{ a?: number; g?: number; w?: string; cv?: string; sa?: number; fa?: number; o?: AttemptOutcome; e?: StepError }>;
}

export function decodeStepState(name: string, letter: string, infoJson: string | undefined, outputJson: string | undefined): StepState {
  const info: StoredInfo = infoJson ? JSON.parse(infoJson) : {};
  const state: StepState = {
    name,
    status: stepStatusFromLetter(letter),
    attempts: info.a ?? 0,
    deliveries: info.d ?? 0,
  };
  if (info.w) state.worker = info.w;
  if (info.cv) state.codeVersion = info.cv;
  if (info.wf && letter === 'q') {
    state.waitingFor = info.wf;
    state.waitingSince = info.ws;
  }
  if (info.hb) state.handBacks = info.hb;
  if (info.fs) state.firstStartedAt = info.fs;
  if (info.sa) state.startedAt = info.sa;
  if (info.fa) state.finishedAt = info.fa;
  if (info.e && typeof info.e === 'object') state.error = info.e;
  if (info.prev && typeof info.prev === 'object') state.previousError = info.prev;
  if (info.r) state.reason = info.r;
  if (letter === 'x') state.skippedByFailure = true;
  // Runs recorded before skip kinds were stored: a condition's skip says so in its reason.
  if (letter === 'x' || letter === 'k') state.skip = info.sk ?? (letter === 'x' ? 'upstream-failed' : info.r === 'condition was false' ? 'condition' : 'upstream-skipped');
  if (Array.isArray(info.h) && info.h.length) {
    state.history = info.h.map((h) => ({
      attempt: h.a ?? 0,
      generation: h.g ?? 0,
      worker: h.w ?? '',
      ...(h.cv ? { codeVersion: h.cv } : {}),
      startedAt: h.sa ?? 0,
      ...(h.fa ? { finishedAt: h.fa } : {}),
      ...(h.o ? { outcome: h.o } : {}),
      ...(h.e && typeof h.e === 'object' ? { error: h.e } : {}),
    }));
  }
  if (info.res) state.resources = JSON.parse(info.res) as StepResources;
  if (outputJson !== undefined && outputJson !== '') state.output = handOffForDisplay(outputJson);
  return state;
}
