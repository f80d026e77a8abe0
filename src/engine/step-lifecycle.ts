import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { DEFAULT_FANOUT_PICKUPS } from '../config/schema.ts';
import type { ClaimedStep, CompleteResult, RunStore, StartResult, StepOutcome } from '../redis/run-store.ts';
import type { LogEntry, StepResources } from '../domain/run-state.ts';
import { parseRoutes, routeLabel, versionQueueName, type StepRoute } from '../domain/step-routes.ts';
import type { Engine } from './engine.ts';
import { PICKUP_STEP } from '../domain/step-job.ts';
import type { DagSnapshot } from './snapshot.ts';
import { refusalMessage, retryWhileOom } from '../redis/oom.ts';
import { decideEnd, handBackDelayMs, type EndReason } from './end-reason.ts';

/** How an attempt without an output ended; 'stale' when another delivery owns the step now (drop the job). */
export type AttemptEnd =
  | { decision: 'retry' | 'hand-back' | 'stale' }
  | { decision: 'fail' | 'drop'; completed: CompleteResult };

export type StepEvent =
  | { type: 'step-finished'; runId: string; step: string; outcome: StepOutcome }
  | { type: 'stale-completion'; runId: string; step: string };

export interface StepLifecycleOptions {
  engine: Engine;
  store: RunStore;
  clock: Clock;
  logger: Logger;
  onEvent?: (event: StepEvent) => void;
  /** Told when a run ended (a worker forgets what it cached for the run). */
  onRunFinished?: (runId: string) => void;
  /**
   * How long a write Redis refuses for memory (OOM) is retried while this process keeps the step's
   * state and result (default DEFAULT_OOM_WINDOW_MS). A memory episode is not the step's failure.
   */
  oomWindowMs?: number;
  /** Told of each refused write (`what`: start, complete, logs, enqueue, ...) with Redis's words; `first` once per write. */
  onRedisRefused?: (what: string, message: string, first: boolean) => void;
  /**
   * Lease of an eagerly claimed step (ms): it is re-queued when its worker has not renewed the lease
   * for this long (see `complete`'s `eager`). The worker's queue lock duration.
   */
  leaseMs?: number;
  /** Most pickup jobs per fan-out (default: DEFAULT_FANOUT_PICKUPS, config/schema.ts). */
  fanOutPickups?: number;
}

/** What a completing worker offers to run next without a queue round trip (eager dispatch). */
export interface EagerOffer {
  /** Successors it can run here (the slot's pool, its code): the first one made ready is claimed. */
  steps: readonly string[];
  worker: string;
  codeVersion: string;
  /** Ask for the run's fixed fields (the worker has not cached them). */
  withFixed: boolean;
  needsOf(step: string): readonly string[];
}

/** Default lease of an eagerly claimed step when none is configured (BullMQ's default lock duration). */
export const DEFAULT_LEASE_MS = 30_000;

/** Default of CONVEYOR_REDIS_OOM_WINDOW: minutes, so an operator has time to free memory. */
export const DEFAULT_OOM_WINDOW_MS = 5 * 60_000;

/**
 * The engine's side of one step attempt: start it, complete it, retry it, hand it back, park it,
 * abandon it. "Record the completion → enqueue the steps it made ready → finish the run" lives here
 * and nowhere else; workers and the reconciler call it.
 */
export class StepLifecycle {
  constructor(private readonly options: StepLifecycleOptions) {}

  /** Runs one write of the lifecycle, retried while Redis refuses it for memory (each is all-or-nothing). */
  private write<T>(what: string, run: () => Promise<T>): Promise<T> {
    return retryWhileOom(run, {
      windowMs: this.options.oomWindowMs ?? DEFAULT_OOM_WINDOW_MS,
      onRefused: (oom, first) => this.options.onRedisRefused?.(what, refusalMessage(oom), first),
    });
  }

  /** Marks the step running under a fresh fence token; `ok: false` means drop the job. */
  async start(
    a: { runId: string; step: string; worker: string; attempt: number; needs: readonly string[]; isMapItem: boolean; withFixed: boolean; codeVersion?: string },
  ): Promise<{ token: string; started: StartResult }> {
    const token = randomUUID();
    const started = await this.write('start', () => this.options.store.startStep(a.runId, a.step, token, a.worker, a.attempt, a.needs, this.options.clock.now(), {
      isMapItem: a.isMapItem,
      withFixed: a.withFixed,
      codeVersion: a.codeVersion,
    }));
    return { token, started };
  }

  /**
   * Records the outcome, enqueues what became ready and closes the run if it ended. `force` is for
   * completions without a live delivery (abandoned steps): no fence token to check.
   */
  async complete(
    a: {
      runId: string; step: string; token: string; outcome: StepOutcome; payload: string; resources?: StepResources; force?: boolean; eager?: EagerOffer;
      /** The step's pool: its fan-out list takes the offered steps a claim leaves, and gives the next one. */
      pool?: string;
    },
  ): Promise<CompleteResult> {
    const now = this.options.clock.now();
    // Eager dispatch: the same script may claim a step it makes ready (or the next of its pool's fan-out list) for this worker.
    const claim = a.eager ? { ...a.eager, token: randomUUID(), leaseDeadline: now + this.leaseMs } : undefined;
    const { result, generation } = await this.write('complete', () =>
      this.options.store.completeStepWithGeneration(a.runId, a.step, a.token, a.outcome, a.payload, now, { force: a.force, resources: a.resources, claim, pool: a.pool }));
    if (!result.ok) {
      if (result.reason === 'stale') {
        this.options.logger.warn('stale completion rejected: another delivery owns this step', { runId: a.runId, step: a.step });
        this.options.onEvent?.({ type: 'stale-completion', runId: a.runId, step: a.step });
      }
      return result;
    }
    // A rejected completion (stale, duplicate, cancelled) is not a finished step: listeners count each step once.
    this.options.onEvent?.({ type: 'step-finished', runId: a.runId, step: a.step, outcome: a.outcome });
    if (result.ready.length > 0) await this.write('enqueue', () => this.options.engine.enqueue(a.runId, result.ready, { generation }));
    // If this fails, the listed steps still run: through this worker's chain of claims, or the reconciler.
    if (result.listed > 0 && a.pool) {
      const pickups = Math.min(result.listed, this.options.fanOutPickups ?? DEFAULT_FANOUT_PICKUPS);
      await this.write('enqueue', () => this.options.engine.addPickups(a.runId, a.pool!, pickups));
    }
    if (result.finalStatus) {
      this.options.onRunFinished?.(a.runId);
      await this.write('finish', () => this.options.engine.finish(a.runId, result.finalStatus!));
    }
    return result;
  }

  /**
   * A pickup job of the run's fan-out list in `pool` was delivered: claims the list's next step for
   * this worker, started and leased like an eager claim. Undefined when the list has none for it.
   */
  async pickup(a: { runId: string; pool: string; worker: string; codeVersion: string; withFixed: boolean; needsOf(step: string): readonly string[] }): Promise<ClaimedStep | undefined> {
    const now = this.options.clock.now();
    const claim = { ...a, token: randomUUID(), leaseDeadline: now + this.leaseMs };
    return this.write('start', () => this.options.store.pickup(a.runId, a.pool, claim, now));
  }

  get leaseMs(): number {
    return this.options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Renews an eagerly claimed step's lease while it runs (as BullMQ renews a job's lock). False when
   * this delivery no longer holds the step: its handler must stop (a late result would be refused).
   */
  async renewLease(runId: string, step: string, token: string): Promise<boolean> {
    return this.options.store.renewLease(runId, step, token, this.options.clock.now() + this.leaseMs);
  }

  /**
   * An eagerly run step that did not end (retried, handed back) has no job: add one, counting the
   * attempts it used, so retries, backoff, timeouts and cancel work as for any queued step. If this
   * fails the lease runs out and the reconciler adds the job instead.
   */
  private async requeueEager(runId: string, step: string, attemptsMade: number, delayMs: number): Promise<void> {
    await this.write('enqueue', () => this.options.engine.enqueue(runId, [step], { attemptsMade, delayMs, replace: true }));
  }

  /** Stores what the attempt logged (before its outcome is reported, so logs never trail the status). */
  async appendLogs(runId: string, entries: LogEntry[]): Promise<void> {
    await this.write('logs', () => this.options.store.appendLogs(runId, entries));
  }

  /** A failed attempt the queue will retry with its backoff. False when this delivery is stale. */
  async retry(a: { runId: string; step: string; token: string; errorJson: string; backoffMs: number }): Promise<boolean> {
    const now = this.options.clock.now();
    return this.write('retry', () => this.options.store.recordRetry(a.runId, a.step, a.token, a.errorJson, now, now + a.backoffMs));
  }

  /**
   * Gives the step back without it counting as an attempt (worker shutdown): it is `queued` again and
   * its job goes back to the queue (the caller returns it there). False when this delivery is stale.
   */
  async handBack(a: { runId: string; step: string; token: string; why: string }): Promise<boolean> {
    return this.write('hand-back', () => this.options.store.handBack(a.runId, a.step, a.token, a.why, this.options.clock.now()));
  }

  /**
   * Ends an attempt that produced no output as its reason decides (decideEnd, the one place): retry
   * (recorded; the queue runs the next attempt after its backoff), fail (recorded, the run advances),
   * hand back (queued again, no attempt counted) or drop (the run was cancelled). `token` is undefined
   * when the attempt never started (an infrastructure fault before it did).
   */
  async end(a: {
    runId: string; step: string; token: string | undefined; worker: string; attempt: number; maxAttempts: number; backoffMs: number;
    reason: EndReason; errorJson: string; resources?: StepResources;
    /** The step was claimed eagerly: no job holds it, so a retry or hand-back adds one (see requeueEager). */
    eager?: boolean;
    /** A final failure's completion, like a success's, may claim the next step (see `complete`). */
    offer?: EagerOffer;
    pool?: string;
  }): Promise<AttemptEnd> {
    const decision = decideEnd(a.reason, a.attempt, a.maxAttempts);
    if (a.token === undefined) return { decision: decision === 'hand-back' ? 'hand-back' : 'stale' };
    const token = a.token;
    switch (decision) {
      case 'hand-back': {
        const handedBack = await this.giveBack(a.runId, a.step, token, a.worker, a.reason);
        if (handedBack && a.eager) await this.requeueEager(a.runId, a.step, a.attempt - 1, handBackDelayMs(a.reason));
        return handedBack ? { decision: 'hand-back' } : this.lateEnd(a.runId, a.step);
      }
      case 'retry': {
        const retried = await this.retry({ runId: a.runId, step: a.step, token, errorJson: a.errorJson, backoffMs: a.backoffMs });
        if (retried && a.eager) await this.requeueEager(a.runId, a.step, a.attempt, a.backoffMs);
        return retried ? { decision: 'retry' } : this.lateEnd(a.runId, a.step);
      }
      case 'fail':
      case 'drop':
        // A cancelled run rejects the completion in its script: recording it is harmless and keeps one path.
        // With the worker's offer: a chain through a fan-out list goes on after a step that failed for
        // good (without it each such failure ended a chain, and no pickup replaced it).
        return { decision, completed: await this.complete({ runId: a.runId, step: a.step, token, outcome: 'f', payload: a.errorJson, resources: a.resources, eager: a.offer, pool: a.pool }) };
    }
  }

  /**
   * A late end of an attempt whose step another delivery owns by now (this worker was paused or lost
   * its lock, and whichever came first after it resumed — the handler's end or the lost-lock abort —
   * ends up here or in complete): refused, and said the same way as a stale completion.
   */
  private lateEnd(runId: string, step: string): AttemptEnd {
    this.options.logger.warn('late end of an attempt rejected: another delivery owns this step (or the run was cancelled)', { runId, step });
    this.options.onEvent?.({ type: 'stale-completion', runId, step });
    return { decision: 'stale' };
  }

  /**
   * Marks the step queued again (not an attempt). After an infrastructure fault the write itself may
   * fail: the job still goes back to the queue, and the next delivery takes over the step, which is
   * still `running` under our token (step-start accepts that, as it does for a crashed worker's step).
   */
  private async giveBack(runId: string, step: string, token: string, worker: string, reason: EndReason): Promise<boolean> {
    if (reason.kind !== 'infrastructure') return this.handBack({ runId, step, token, why: `worker ${worker} shut down` });
    try {
      // Not retried while Redis refuses it for memory: the refusal may be why we are here.
      return await this.options.store.handBack(runId, step, token, `worker ${worker}: ${reason.error.message}`, this.options.clock.now());
    } catch (thrown) {
      this.options.logger.debug('could not mark the step queued; its next delivery takes it over', { runId, step, error: (thrown as Error).message });
      return true;
    }
  }

  /** Turns a running map step into one instance per item (see RunStore.expandMap); enqueues the ready ones. */
  async expandMap(
    runId: string, step: string, token: string, itemsJson: string[], options: { maxParallel: number; now: number; minSuccess?: number },
  ): Promise<{ ok: true; allDone: string } | { ok: boolean; allDone?: undefined }> {
    const expanded = await this.write('map-expand', () => this.options.store.expandMap(runId, step, token, itemsJson, options));
    if (!expanded.ok) return { ok: false };
    if ('allDone' in expanded) return expanded;
    await this.write('enqueue', () => this.options.engine.enqueue(runId, expanded.ready));
    return { ok: true };
  }

  /**
   * The worker that took this step cannot run it (no code, another version): the step waits in the
   * version queue of `route` for a worker that can — no attempt, no worker slot. Returns what it
   * waits for ("my-etl@<version>"), or undefined when the step was not queued any more (drop the job).
   */
  async waitForWorker(a: { runId: string; step: string; jobId: string; snapshot: DagSnapshot; route: StepRoute }): Promise<string | undefined> {
    const queue = versionQueueName(a.route);
    const waitingFor = routeLabel(a.route);
    // Registered first: capable workers start consuming the version queue before the job lands there.
    await this.options.store.registerRoute(queue, JSON.stringify(a.route));
    const marked = await this.options.store.markWaiting(a.runId, a.step, {
      waitingFor, queue, jobId: a.jobId, now: this.options.clock.now(), timeoutMs: a.snapshot.noWorkerTimeoutMs ?? 0,
    });
    if (!marked) return undefined;
    await this.options.engine.enqueue(a.runId, [a.step], { snapshot: a.snapshot, generation: 0, jobId: a.jobId, delayMs: 0, queue });
    return waitingFor;
  }

  /**
   * A pickup job taken by a worker without the run's code goes where a step's job would: one pickup
   * (under a fixed id per run and queue, so routing workers do not pile them up) in the version queue
   * capable workers consume, registered first so they start consuming it.
   */
  async routePickup(a: { runId: string; snapshot: DagSnapshot; route: StepRoute }): Promise<void> {
    const queue = versionQueueName(a.route);
    await this.options.store.registerRoute(queue, JSON.stringify(a.route));
    await this.write('enqueue', () => this.options.engine.addPickups(a.runId, queue, 1, { snapshot: a.snapshot, jobId: `${a.runId}.${PICKUP_STEP}routed.${queue}` }));
  }

  /** Every version queue with what a worker needs to consume it. */
  async routes(): Promise<Array<{ queue: string; route: StepRoute }>> {
    return parseRoutes(await this.options.store.routes());
  }

  /** The code version a run started with ('' until a worker pinned it). */
  runCodeVersion(runId: string): Promise<string> {
    return this.options.store.runCodeVersion(runId);
  }

  /** Fails a step whose deliveries all died (the queue gave up on its job), then advances the run. */
  async abandon(runId: string, step: string, why: string): Promise<boolean> {
    return this.fail(runId, step, why, 'AbandonedError');
  }

  /** Fails a step no delivery owns (abandoned, or waited past `noWorkerTimeout`), then advances the run. */
  async fail(runId: string, step: string, why: string, name: string): Promise<boolean> {
    const error = { message: why, name };
    const result = await this.complete({ runId, step, token: '', outcome: 'f', payload: JSON.stringify(error), force: true });
    return result.ok;
  }

  /**
   * Ends the attempt and schedules the step's resumption as a delayed job. The resume job id is
   * recorded by the park script, so the reconciler can re-add exactly that job if we die before adding it.
   */
  async park(a: { runId: string; step: string; token: string; jobId: string; stateJson: string; afterMs: number }): Promise<void> {
    const resumeJobId = `${a.jobId.replace(/\.p[0-9a-f]+$/, '')}.p${randomUUID().slice(0, 8)}`;
    const count = await this.write('park', () => this.options.store.parkStep(a.runId, a.step, a.token, a.stateJson, this.options.clock.now(), resumeJobId));
    if (count === undefined) return; // stale delivery or cancelled run
    await this.write('enqueue', () => this.options.engine.enqueue(a.runId, [a.step], { jobId: resumeJobId, delayMs: a.afterMs }));
  }
}
