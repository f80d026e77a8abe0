import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';
import type { RunStore, StepJobLocation } from '../redis/run-store.ts';
import { TERMINAL_RUN_STATUSES } from '../domain/run-state.ts';
import type { StepQueues } from '../redis/step-queues.ts';
import { jobIdFor, type Engine } from './engine.ts';
import { PICKUP_STEP } from '../domain/step-job.ts';
import { resolveStepSpec, stepSpecMap, type DagSnapshot } from './snapshot.ts';
import { StepLifecycle } from './step-lifecycle.ts';

export interface ReconcilerOptions {
  engine: Engine;
  store: RunStore;
  queues: StepQueues;
  clock: Clock;
  logger: Logger;
  /** A run with no progress for this long is checked. */
  idleMs: number;
  intervalMs: number;
  /** Runs checked per pass (the rest wait for the next pass). */
  batch?: number;
}

export interface ReconcileReport {
  checked: number;
  requeued: number;
  finished: number;
  failedAbandoned: number;
}

/**
 * Repairs the one gap the completion script cannot close on its own: a step recorded as `queued`
 * whose job never reached the queue (the worker died between the script and the enqueue), and a
 * finished run whose bookkeeping did not happen. It only looks at runs idle for `idleMs`: while runs
 * progress a pass costs one range read of the active set; a run whose step runs longer than
 * `idleMs` is checked every pass (its open steps' jobs are looked up in BullMQ). Safe to run in every worker at once: all its writes are idempotent.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  private readonly lifecycle: StepLifecycle;

  constructor(private readonly options: ReconcilerOptions) {
    this.lifecycle = new StepLifecycle({ engine: options.engine, store: options.store, clock: options.clock, logger: options.logger });
  }

  start(): void {
    this.timer = setInterval(() => void this.pass().catch((e) => this.options.logger.warn('reconcile pass failed', { error: coerceError(e).message })), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, requeued: 0, finished: 0, failedAbandoned: 0 };
    if (this.busy) return report;
    this.busy = true;
    try {
      const { store, engine, queues, clock } = this.options;
      const now = clock.now();
      const ids = await store.activeRunsIdleSince(now - this.options.idleMs, this.options.batch ?? 100);
      for (const runId of ids) {
        report.checked++;
        const run = await store.getRun(runId);
        if (!run) {
          await store.dropExpiredRun(runId, now);
          continue;
        }
        if (TERMINAL_RUN_STATUSES.has(run.status)) {
          await engine.finish(runId, run.status);
          report.finished++;
          continue;
        }
        // A run that progresses needs a full check only when a claim's lease ran out (its worker died
        // while the run's other steps go on, as in a fan-out).
        const expiredLeases = await store.expiredLeases(runId, now);
        const progressing = Boolean(run.updatedAt && now - run.updatedAt < this.options.idleMs);
        if (progressing && expiredLeases.length === 0) {
          await store.touchActive(runId, run.updatedAt!);
          continue;
        }
        const snapshot = await engine.snapshot(runId);
        const specs = stepSpecMap(snapshot);
        const letters = await store.stepStatusLetters(runId);
        // A progressing run is checked for its expired claims only: its fan-out lists' steps are
        // queued without a job by design (the chains take them), and a full check would give every
        // one a job because one worker died.
        const open = Object.entries(letters)
          .filter(([step, letter]) => (letter === 'q' || letter === 'r') && (!progressing || expiredLeases.includes(step)))
          .map(([step]) => step);
        const located = await store.jobLocations(runId, open);
        // Entries of claims that ended otherwise (retried, taken over by a job) are forgotten here.
        await store.dropLeases(runId, expiredLeases.filter((step) => letters[step] !== 'r' || !(located.get(step)?.leaseDeadline! <= now)));
        const expired = await this.failExpiredWaits(runId, located, now);
        report.failedAbandoned += expired.length;
        // One batched presence check per queue instead of two round trips per step.
        const jobs = open.filter((step) => !expired.includes(step)).flatMap((step) => {
          const spec = resolveStepSpec(specs, step)?.spec;
          const at = located.get(step);
          // An eagerly claimed step whose worker still renews its lease has no job and needs none.
          if (letters[step] === 'r' && at?.leaseDeadline !== undefined && at.leaseDeadline > now) return [];
          return spec ? [{ step, queue: at?.queue ?? spec.queue, jobId: at?.jobId ?? jobIdFor(runId, step, run.generation) }] : [];
        });
        const presence = new Map<string, 'missing' | 'failed' | 'present'>();
        for (const queue of new Set(jobs.map((j) => j.queue))) {
          const states = await queues.jobPresence(queue, jobs.filter((j) => j.queue === queue).map((j) => j.jobId));
          for (const [jobId, state] of states) presence.set(`${queue}\u0000${jobId}`, state);
        }
        const lost: string[] = [];
        for (const { step, queue, jobId } of jobs) {
          const movedJob = located.get(step)?.jobId;
          const found = presence.get(`${queue}\u0000${jobId}`);
          const state = found === 'missing' ? undefined : found;
          // The queue gave up on the job (stall limit) but the worker that saw it go did not record the
          // failure (it died too): without this the step would stay running and the run never end.
          if (state === 'failed' && (await this.failAbandoned(runId, step))) report.failedAbandoned++;
          if (state !== undefined) continue;
          const lease = located.get(step)?.leaseDeadline;
          if (movedJob) await engine.enqueue(runId, [step], { snapshot, generation: run.generation, jobId: movedJob, delayMs: 0, queue });
          else if (lease !== undefined) await this.requeueExpiredLease(runId, step, located.get(step)?.attemptsMade ?? 0, snapshot, run.generation);
          else lost.push(step);
          report.requeued++;
        }
        const unlisted = await this.pickUpListed(runId, lost, specs, snapshot);
        report.requeued -= lost.length - unlisted.length;
        if (unlisted.length) {
          this.options.logger.warn('re-enqueueing steps whose jobs were lost', { runId, steps: unlisted });
          await engine.enqueue(runId, unlisted, { snapshot, generation: run.generation });
        }
        await store.touchActive(runId, now);
      }
      return report;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Fails the steps that waited for a worker with their code longer than the pipeline's
   * `noWorkerTimeout`; the run then ends like after any failed step. Returns the steps failed.
   */
  private async failExpiredWaits(runId: string, located: Map<string, StepJobLocation>, now: number): Promise<string[]> {
    const failed: string[] = [];
    for (const [step, at] of located) {
      if (!at.waitDeadline || !at.waitingFor || at.waitDeadline > now) continue;
      const why = `no worker with ${at.waitingFor} appeared within the pipeline's noWorkerTimeout`;
      if (await this.lifecycle.fail(runId, step, why, 'NoWorkerError')) {
        this.options.logger.warn('failed a step that waited too long for a worker with its code', { runId, step, waitingFor: at.waitingFor });
        failed.push(step);
      }
    }
    return failed;
  }

  /**
   * Queued steps without a job that wait on their pool's fan-out list are not lost: a run whose
   * listed steps all run long looks idle, and giving each a job would undo the list. One pickup job
   * per such pool (a fixed id, so passes do not pile them up) lets a worker go on with the list in
   * case no chain is left. Returns the steps that are lost indeed.
   */
  private async pickUpListed(runId: string, lost: string[], specs: ReturnType<typeof stepSpecMap>, snapshot: DagSnapshot): Promise<string[]> {
    const pools = new Set(lost.flatMap((step) => resolveStepSpec(specs, step)?.spec.queue ?? []));
    const listed = new Set<string>();
    for (const pool of pools) {
      const steps = await this.options.store.fanOutSteps(runId, pool);
      if (steps.length === 0) continue;
      for (const step of steps) listed.add(step);
      await this.options.engine.addPickups(runId, pool, 1, { snapshot, jobId: `${jobIdFor(runId, PICKUP_STEP, 0)}reconciler` });
    }
    return lost.filter((step) => !listed.has(step));
  }

  /**
   * An eagerly claimed step whose worker stopped renewing its lease (killed, paused, cut off): it
   * becomes an ordinary job, its used attempts counted, so a late result of the old delivery is
   * refused by its fence token once the job's delivery starts the step anew.
   */
  private async requeueExpiredLease(runId: string, step: string, attemptsMade: number, snapshot: DagSnapshot, generation: number): Promise<void> {
    this.options.logger.warn('re-queueing an eagerly claimed step whose lease expired', { runId, step });
    await this.options.engine.enqueue(runId, [step], { snapshot, generation, attemptsMade });
  }

  private async failAbandoned(runId: string, step: string): Promise<boolean> {
    const failed = await this.lifecycle.abandon(runId, step, 'step abandoned: its job failed in the queue (stall limit: the step crashed or lost its worker repeatedly)');
    if (failed) this.options.logger.warn('failed a step whose job the queue abandoned', { runId, step });
    return failed;
  }
}
