import { randomUUID } from 'node:crypto';
import { newRunId, stepJobId } from '../core/ids.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { NotFoundError, TimeoutError } from '../errors/conveyor-error.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { TriggerInfo } from '../dsl/context.ts';
import { parseParams } from '../dsl/params.ts';
import { codeVersionOf } from '../dsl/code-version.ts';
import { validateDag, type ValidatedDag } from '../graph/dag.ts';
import type { RunStore } from '../redis/run-store.ts';
import { TERMINAL_RUN_STATUSES, type LogEntry, type RunRecord, type RunStatus } from '../domain/run-state.ts';
import type { StepJob, StepQueues } from '../redis/step-queues.ts';
import { PICKUP_STEP } from '../domain/step-job.ts';
import { explainRedisError } from '../redis/oom.ts';
import { buildRunView, type RunView } from './run-view.ts';
import { resolveStepSpec, snapshotOf, stepRows, stepSpecMap, type DagSnapshot } from './snapshot.ts';
import { findRuns, type RunPage, type RunQuery } from './run-query.ts';
import { pipelineHistory, type HistoryRun } from './run-history.ts';

export interface TriggerOptions {
  params?: unknown;
  trigger?: TriggerInfo;
  /** Deterministic id (schedule ticks, idempotency keys): triggering it again returns the existing run. */
  runId?: string;
  /** ISO time the run is "for"; defaults to now. */
  logicalTime?: string;
}

export type EngineEvent =
  | { type: 'run-started'; runId: string; pipeline: string; trigger: string }
  | { type: 'run-finished'; runId: string; pipeline: string; status: RunStatus; durationMs: number };

/** How `Engine.enqueue` adds its jobs; every field is optional. */
export interface EnqueueOptions {
  /** The run's DAG and generation when the caller has them (saves a read each). */
  snapshot?: DagSnapshot;
  generation?: number;
  /** For a single step: its job id (a parked step's resumption, a waiting step's) ... */
  jobId?: string;
  /** ... how long the job waits before it runs (a resumption, a retry's backoff) ... */
  delayMs?: number;
  /** ... and another queue than its pool's (a version queue). */
  queue?: string;
  /** Attempts the step already used (an eagerly run step going back to its queue): the job counts on from there. */
  attemptsMade?: number;
  /**
   * Remove a job already waiting under the same id first (not an active one): an eagerly run step
   * going back to its queue replaces the reconciler's copy job of a listed step, which would otherwise
   * keep the id — the add a no-op — and run the step at once, without the backoff or the attempts used.
   */
  replace?: boolean;
}

export interface EngineOptions {
  store: RunStore;
  queues: StepQueues;
  clock: Clock;
  logger: Logger;
  retentionMs: number;
  onEvent?: (event: EngineEvent) => void;
}

const SNAPSHOT_CACHE_SIZE = 2_000;

/**
 * Triggers, inspects, cancels and retries runs. It never loops over runs: a run advances when its
 * steps complete (see `worker/`), atomically, inside the completion script.
 */
export class Engine {
  private readonly dags = new WeakMap<Pipeline<any, any>, ValidatedDag>();
  private readonly snapshots = new Map<string, DagSnapshot>();

  constructor(private readonly options: EngineOptions) {}

  get store(): RunStore {
    return this.options.store;
  }

  /** Validates the pipeline (cached per definition object). Throws ValidationError/CycleError. */
  validate(pipeline: Pipeline<any, any>): ValidatedDag {
    let dag = this.dags.get(pipeline);
    if (!dag) {
      dag = validateDag(pipeline.spec);
      this.dags.set(pipeline, dag);
    }
    return dag;
  }

  /**
   * Starts a run: params and DAG are validated first, so bad input writes nothing. With a known
   * `runId` the call is idempotent (`created: false` for a repeat).
   */
  async trigger(pipeline: Pipeline<any, any>, options: TriggerOptions = {}): Promise<{ runId: string; created: boolean }> {
    try {
      return await this.createAndEnqueue(pipeline, options);
    } catch (error) {
      // A MULTI Redis refused for memory surfaces as "EXECABORT Transaction discarded": name the cause.
      throw explainRedisError(error);
    }
  }

  private async createAndEnqueue(pipeline: Pipeline<any, any>, options: TriggerOptions): Promise<{ runId: string; created: boolean }> {
    const params = parseParams(pipeline.paramsSchema, options.params, pipeline.id);
    const dag = this.validate(pipeline);
    const now = this.options.clock.now();
    const runId = options.runId ?? newRunId(now);
    const trigger: TriggerInfo = options.trigger ?? { type: 'manual' };
    const snapshot = snapshotOf(dag);
    const { created, roots } = await this.options.store.createRun({
      id: runId,
      pipeline: pipeline.id,
      createdAt: now,
      dagJson: JSON.stringify(snapshot),
      steps: stepRows(dag),
      fields: {
        id: runId,
        pipeline: pipeline.id,
        status: 'queued',
        params: JSON.stringify(params),
        trigger: JSON.stringify(trigger),
        logicalTime: options.logicalTime ?? new Date(now).toISOString(),
        dagHash: dag.hash,
        // The code this process has; '' lets the first worker that starts a step pin it (step-start.lua).
        codeVersion: codeVersionOf(pipeline) ?? '',
        versioning: pipeline.spec.versioning ?? 'compatible',
        createdAt: String(now),
        updatedAt: String(now),
        failed: '0',
        gen: '0',
        // Read by step-complete.lua when the run ends; absent means the default rule, 'leaves'.
        ...(dag.spec.runOutcome === 'any-failure' ? { outcome: 'any' } : {}),
      },
    });
    if (created) {
      this.rememberSnapshot(runId, snapshot);
      await this.enqueue(runId, roots, { snapshot, generation: 0 });
      this.options.onEvent?.({ type: 'run-started', runId, pipeline: pipeline.id, trigger: trigger.type });
    }
    return { runId, created };
  }

  /** Enqueues steps that the scripts marked `queued`. Job ids are deterministic: repeats are no-ops. */
  async enqueue(runId: string, steps: readonly string[], options: EnqueueOptions = {}): Promise<void> {
    if (steps.length === 0) return;
    const snap = options.snapshot ?? (await this.snapshot(runId));
    const gen = options.generation ?? (await this.options.store.getRun(runId))?.generation ?? 0;
    const specs = stepSpecMap(snap);
    const need = await this.codeNeed(runId, snap);
    const made = options.attemptsMade ?? 0;
    const jobs: StepJob[] = steps.map((step) => {
      const spec = resolveStepSpec(specs, step)?.spec;
      if (!spec) throw new NotFoundError('step', step, [...specs.keys()]);
      return {
        queue: options.queue ?? spec.queue,
        jobId: options.jobId ?? jobIdFor(runId, step, gen),
        ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
        step,
        data: { r: runId, s: step, p: snap.pipeline, ...need, ...(made > 0 ? { n: made } : {}) },
        // The job carries only the attempts left (a step that used some before its job existed).
        attempts: Math.max(1, spec.retries + 1 - made),
        backoff: spec.backoff,
      };
    });
    if (options.replace) await Promise.all(jobs.map((job) => this.options.queues.removeJob(job.queue, job.jobId)));
    await this.options.queues.add(jobs);
  }

  /**
   * Adds `count` pickup jobs to `pool`'s queue for the run's fan-out list there: each lets a worker
   * claim the list's next step (src/redis/lua/step-pickup.lua). Ids are random (a pickup that finds
   * the list empty is a no-op), or `jobId` for one the queue should hold only once at a time.
   */
  async addPickups(runId: string, pool: string, count: number, options: { snapshot?: DagSnapshot; jobId?: string } = {}): Promise<void> {
    if (count <= 0) return;
    const snap = options.snapshot ?? (await this.snapshot(runId));
    const need = await this.codeNeed(runId, snap);
    const jobs: StepJob[] = Array.from({ length: count }, () => ({
      queue: pool,
      jobId: options.jobId && count === 1 ? options.jobId : `${stepJobId(runId, PICKUP_STEP)}${randomUUID()}`,
      step: PICKUP_STEP,
      data: { r: runId, s: PICKUP_STEP, p: snap.pipeline, ...need },
      attempts: 1,
      backoff: { type: 'fixed', delayMs: 0 },
    }));
    await this.options.queues.add(jobs);
  }

  /**
   * What a worker needs to run this run's steps, carried in each job so the check costs nothing: the
   * DAG hash, and for a pinned run its code version (one read, pinned runs only; '' until pinned).
   */
  private async codeNeed(runId: string, snap: DagSnapshot): Promise<{ h: string; c?: string }> {
    if (snap.versioning !== 'pinned') return { h: snap.hash };
    const pinned = await this.options.store.runCodeVersion(runId);
    return pinned ? { h: snap.hash, c: pinned } : { h: snap.hash };
  }

  /**
   * Bookkeeping after the completion script reported the run finished (indexes, retention); emits
   * `run-finished` once per end, from whichever process moved the run out of the active set.
   */
  async finish(runId: string, status: RunStatus): Promise<void> {
    const now = this.options.clock.now();
    const run = await this.options.store.getRun(runId);
    const first = await this.options.store.markFinished(runId, { finishedAt: now, retentionMs: this.options.retentionMs, indexed: run && { pipeline: run.pipeline, createdAt: run.createdAt, status } });
    // The run's fan-out lists: the completion that ends a run deletes its own pool's; a cancel, or a
    // list of another pool whose entries jobs ran, would otherwise stay for the lists' 24 h expiry
    // (beyond a shorter retention, past a deleted run, and into a retry after cancel as stale entries).
    const snap = await this.snapshot(runId).catch(() => undefined);
    if (snap) await this.options.store.dropFanOutLists(runId, [...new Set([...stepSpecMap(snap).values()].map((spec) => spec.queue))]);
    this.snapshots.delete(runId);
    // One run-finished event per end of a run (metrics count it, triggers start on it), however many
    // processes finish the bookkeeping.
    if (run && first) {
      this.options.onEvent?.({ type: 'run-finished', runId, pipeline: run.pipeline, status, durationMs: (run.finishedAt ?? now) - run.createdAt });
    }
  }

  /** The DAG a run was started with (cached; snapshots never change). */
  async snapshot(runId: string): Promise<DagSnapshot> {
    const cached = this.snapshots.get(runId);
    if (cached) return cached;
    const json = await this.options.store.getDagJson(runId);
    if (!json) throw new NotFoundError('run', runId);
    const snapshot = JSON.parse(json) as DagSnapshot;
    this.rememberSnapshot(runId, snapshot);
    return snapshot;
  }

  async getRun(runId: string): Promise<RunView> {
    const record = await this.options.store.getRun(runId);
    if (!record) throw new NotFoundError('run', runId);
    const [steps, snapshot] = await Promise.all([this.options.store.getSteps(runId), this.snapshot(runId).catch(() => undefined)]);
    return buildRunView(record, steps, snapshot);
  }

  /** Run records by id, in the order asked; ids with no run are left out. */
  getRuns(runIds: string[]): Promise<RunRecord[]> {
    return this.options.store.getRuns(runIds);
  }

  /** A page of a run's structured log lines by position. */
  readLogs(runId: string, page: { offset?: number; limit?: number } = {}): Promise<LogEntry[]> {
    return this.options.store.readLogs(runId, page);
  }

  /** Deletes runs that finished before `before` (ms) with all their keys; returns how many. */
  pruneFinished(before: number): Promise<number> {
    return this.options.store.pruneFinished(before);
  }

  /** The first page of `findRuns` (newest first). */
  async listRuns(filter: RunQuery = {}): Promise<RunRecord[]> {
    return (await this.findRuns(filter)).runs;
  }

  /** Runs matching every filter, newest first, one page at a time: exact at any history size (see run-query.ts). */
  findRuns(query: RunQuery = {}): Promise<RunPage> {
    return findRuns(this.options.store, query);
  }

  /** The newest `limit` runs of a pipeline (at most 100) with each step's status: the UI's history grid. */
  history(pipeline: string, limit: number): Promise<HistoryRun[]> {
    return pipelineHistory(this.options.store, pipeline, limit);
  }

  async cancel(runId: string, by = 'cli'): Promise<{ cancelledSteps: string[] }> {
    const active = await this.options.store.cancelRun(runId, by, this.options.clock.now());
    const snap = await this.snapshot(runId).catch(() => undefined);
    const run = await this.options.store.getRun(runId);
    if (snap && run) {
      const specs = stepSpecMap(snap);
      // A waiting step's job is in its version queue; a parked step's under its resume id.
      const located = await this.options.store.jobLocations(runId, active);
      await Promise.all(
        active.map((step) => {
          const spec = resolveStepSpec(specs, step)?.spec;
          const at = located.get(step);
          return spec ? this.options.queues.removeJob(at?.queue ?? spec.queue, at?.jobId ?? jobIdFor(runId, step, run.generation)) : undefined;
        }),
      );
    }
    await this.finish(runId, 'cancelled');
    return { cancelledSteps: active };
  }

  /** Re-runs failed, cancelled and skipped-by-failure steps; succeeded steps keep their outputs. */
  async retry(runId: string): Promise<{ requeued: string[] }> {
    const run = await this.options.store.getRun(runId);
    const { generation, ready } = await this.options.store.retryRun(runId, { now: this.options.clock.now(), indexed: run && { pipeline: run.pipeline, createdAt: run.createdAt } });
    await this.enqueue(runId, ready, { generation });
    return { requeued: ready };
  }

  /** Polls until the run finishes; `onUpdate` sees each change. Rejects with TimeoutError. */
  async waitForRun(runId: string, options: { timeoutMs?: number; pollMs?: number; onUpdate?: (view: RunView) => void } = {}): Promise<RunView> {
    const deadline = Date.now() + (options.timeoutMs ?? 24 * 3600_000);
    let last = '';
    for (;;) {
      const view = await this.getRun(runId);
      const fingerprint = JSON.stringify([view.status, Object.values(view.steps).map((s) => [s.status, s.attempts])]);
      if (fingerprint !== last) {
        last = fingerprint;
        options.onUpdate?.(view);
      }
      if (TERMINAL_RUN_STATUSES.has(view.status)) return view;
      if (Date.now() > deadline) throw new TimeoutError(`waiting for run ${runId}`, options.timeoutMs ?? 0);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    }
  }

  private rememberSnapshot(runId: string, snapshot: DagSnapshot): void {
    if (this.snapshots.size >= SNAPSHOT_CACHE_SIZE) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    this.snapshots.set(runId, snapshot);
  }
}

/** Job id of a step in a given run generation: `<runId>.<step>`, then `<runId>.<step>.g<n>` after retries. */
export function jobIdFor(runId: string, step: string, generation: number): string {
  const base = stepJobId(runId, step);
  return generation > 0 ? `${base}.g${generation}` : base;
}
