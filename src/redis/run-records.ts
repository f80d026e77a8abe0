/** The decoding of the compact Redis encoding of runs and steps into the domain records (src/domain/run-state.ts). */

import { handOffForDisplay } from '../core/hand-off.ts';
import type { StoredAttempt, StoredRun, StoredStepInfo } from './run-schema.ts';
import { parseStepInfo } from './step-info-codec.ts';
import { stepStatusFromLetter, type AttemptOutcome, type AttemptRecord, type RunRecord, type RunStatus, type SkipKind, type StepError, type StepResources, type StepState } from '../domain/run-state.ts';

/** Lenient on purpose: runs written by older versions may lack fields (the schema test holds the scripts to it). */
export function decodeRunRecord(hash: Partial<StoredRun>): RunRecord | undefined {
  if (!hash.id) return undefined;
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    id: hash.id,
    pipeline: hash.pipeline ?? '',
    status: hash.status as RunStatus,
    params: JSON.parse(hash.params || '{}'),
    trigger: JSON.parse(hash.trigger || '{}'),
    logicalTime: hash.logicalTime ?? '',
    dagHash: hash.dagHash ?? '',
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

/**
 * The step's deliveries, oldest first: the earlier ones from `h` (archived by step-start.lua when
 * the next delivery began), then the latest, which is the record itself.
 */
function attemptHistory(info: StoredStepInfo, letter: string): AttemptRecord[] {
  const entry = (a: StoredAttempt, outcome: AttemptOutcome | undefined, error: StepError | undefined, finishedAt: number | undefined): AttemptRecord => ({
    attempt: a.a ?? 0,
    generation: a.g ?? 0,
    worker: a.w ?? '',
    ...(a.cv ? { codeVersion: a.cv } : {}),
    startedAt: a.sa ?? 0,
    ...(finishedAt ? { finishedAt } : {}),
    ...(outcome ? { outcome } : {}),
    ...(error ? { error } : {}),
  });
  const earlier = (info.h ?? []).map((a) => entry(a, a.o, a.e, a.fa));
  if (!info.sa) return earlier;
  // The latest delivery: ended by a retry, hand-back or park (o), finished (the step's letter), or running.
  const finished = letter === 's' || letter === 'f' || letter === 'k' || letter === 'x' || letter === 'c';
  const outcome = info.o ?? (finished ? (letter as AttemptOutcome) : undefined);
  const error = outcome === 'r' || outcome === 'f' ? info.e : undefined;
  return [...earlier, entry(info, outcome, error, info.ea ?? info.fa)];
}

export function decodeStepState(name: string, letter: string, infoText: string | undefined, outputJson: string | undefined): StepState {
  const info: StoredStepInfo = (infoText ? parseStepInfo(infoText) : undefined) ?? {};
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
  // Listed when there is more than the step's own fields to say: earlier deliveries, or a later generation.
  if (info.h?.length || info.g) state.history = attemptHistory(info, letter);
  if (info.res) state.resources = JSON.parse(info.res) as StepResources;
  if (outputJson !== undefined && outputJson !== '') state.output = handOffForDisplay(outputJson);
  return state;
}
