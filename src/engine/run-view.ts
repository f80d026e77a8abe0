import type { AttemptRecord, RunRecord, RunStatus, StepState } from '../domain/run-state.ts';
import type { DagSnapshot } from './snapshot.ts';

/** A run as users see it (CLI `status --json`, API): record plus steps in DAG order. */
export interface RunView {
  id: string;
  pipeline: string;
  status: RunStatus;
  params: Record<string, unknown>;
  trigger: Record<string, unknown>;
  logicalTime: string;
  dagHash: string;
  /** Code version the run started with ('' until a worker started it, when triggered without the code). */
  codeVersion: string;
  versioning: 'compatible' | 'pinned';
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  generation: number;
  steps: Record<string, StepView>;
}

export interface StepView {
  status: StepState['status'];
  attempts: number;
  output?: unknown;
  error?: { message: string; name?: string; stack?: string };
  reason?: string;
  /** For a skipped step, which kind of skip: its own condition, an upstream failure, an upstream skip, or its trigger rule. */
  skip?: StepState['skip'];
  queue?: string;
  needs?: string[];
  worker?: string;
  /** Code version of the worker that ran the latest attempt. */
  codeVersion?: string;
  /** "waiting for a worker with my-etl@<version>" while no live worker can run the step. */
  waiting?: string;
  waitingSince?: string;
  /** Times the step was handed back to the queue: worker shutdown or an infrastructure fault (these are not attempts). */
  handBacks?: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Wall time, CPU time and RSS measured by the worker for the final attempt. */
  resources?: { wallMs: number; cpuMs: number; rssBytes: number };
  /**
   * Every delivery (the latest 10), present when there was more than one or a retried run ran it:
   * a single attempt of generation 0 is the step's own fields (worker, codeVersion, times, error).
   */
  history?: AttemptView[];
  /** For a skipped step: its trigger rule (when not all-succeeded) and how each upstream step stands. */
  runWhen?: string;
  upstream?: Array<{ step: string; status: string }>;
}

export interface AttemptView {
  attempt: number;
  generation: number;
  worker: string;
  codeVersion?: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** running, succeeded, failed, skipped, retried (failed, another attempt followed), handed-back, lost (its worker died). */
  outcome: string;
  error?: { message: string; name?: string; stack?: string };
}

const OUTCOMES: Record<string, string> = { s: 'succeeded', f: 'failed', k: 'skipped', x: 'skipped', c: 'cancelled', r: 'retried', h: 'handed-back', p: 'parked', lost: 'lost' };

function attemptView(a: AttemptRecord): AttemptView {
  return {
    attempt: a.attempt,
    generation: a.generation,
    worker: a.worker,
    ...(a.codeVersion ? { codeVersion: a.codeVersion } : {}),
    startedAt: iso(a.startedAt)!,
    ...(a.finishedAt ? { finishedAt: iso(a.finishedAt), durationMs: a.finishedAt - a.startedAt } : {}),
    outcome: a.outcome ? OUTCOMES[a.outcome] ?? a.outcome : 'running',
    ...(a.error ? { error: a.error } : {}),
  };
}

/** How an upstream step stands, in the words of ctx.upstreamStatus (a skip by failure is told apart). */
function upstreamStatus(state: StepState | undefined): string {
  if (!state) return 'pending';
  return state.skippedByFailure ? 'skipped-by-failure' : state.status;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

export function buildRunView(record: RunRecord, steps: StepState[], snapshot: DagSnapshot | undefined): RunView {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const order = snapshot ? snapshot.steps.map((s) => s.name) : [...byName.keys()].sort();
  const specs = new Map(snapshot?.steps.map((s) => [s.name, s]) ?? []);
  const view: RunView = {
    id: record.id,
    pipeline: record.pipeline,
    status: record.status,
    params: record.params,
    trigger: record.trigger,
    logicalTime: record.logicalTime,
    dagHash: record.dagHash,
    codeVersion: record.codeVersion,
    versioning: record.versioning,
    createdAt: iso(record.createdAt)!,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    durationMs: record.finishedAt && record.startedAt ? record.finishedAt - record.startedAt : undefined,
    generation: record.generation,
    steps: {},
  };
  // Map instances (`name[3]`) are listed after their map step.
  const extra = [...byName.keys()].filter((n) => !specs.has(n)).sort(naturalCompare);
  for (const name of [...order, ...extra]) {
    const state = byName.get(name);
    if (!state) continue;
    const spec = specs.get(name);
    view.steps[name] = {
      status: state.status,
      attempts: state.attempts,
      ...(state.output !== undefined ? { output: state.output } : {}),
      ...(state.error ? { error: state.error } : {}),
      ...(state.reason ? { reason: state.reason } : {}),
      ...(state.skip ? { skip: state.skip } : {}),
      ...(spec ? { queue: spec.queue, needs: spec.needs } : {}),
      ...(state.worker ? { worker: state.worker } : {}),
      ...(state.codeVersion ? { codeVersion: state.codeVersion } : {}),
      ...(state.waitingFor ? { waiting: waitingText(state.waitingFor), waitingSince: iso(state.waitingSince) } : {}),
      ...(state.handBacks ? { handBacks: state.handBacks } : {}),
      ...(state.firstStartedAt ? { startedAt: iso(state.firstStartedAt) } : {}),
      ...(state.finishedAt ? { finishedAt: iso(state.finishedAt) } : {}),
      ...(state.finishedAt && state.firstStartedAt ? { durationMs: state.finishedAt - state.firstStartedAt } : {}),
      ...(state.resources ? { resources: state.resources } : {}),
      ...(state.history && (state.history.length > 1 || state.history.some((a) => a.generation > 0)) ? { history: state.history.map(attemptView) } : {}),
      ...(state.status === 'skipped' && spec && spec.needs.length
        ? {
            ...(spec.runWhen && spec.runWhen !== 'all-succeeded' ? { runWhen: spec.runWhen } : {}),
            upstream: spec.needs.map((need) => ({ step: need, status: upstreamStatus(byName.get(need)) })),
          }
        : {}),
    };
  }
  return view;
}

/** How status, API and UI phrase a step that waits for a worker with its code. */
export function waitingText(waitingFor: string): string {
  return `waiting for a worker with ${waitingFor}`;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
