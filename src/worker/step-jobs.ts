import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';
import type { Pipeline, StepCode } from '../dsl/pipeline.ts';
import type { ConditionContext, RunInfo, StepServices, TriggerInfo } from '../dsl/context.ts';
import { emptyMapOutputJson, minSuccessCount } from '../dsl/map-partial.ts';
import type { StepSpec } from '../dsl/types.ts';
import type { Engine } from '../engine/engine.ts';
import { resolveStepSpec, stepSpecMap, type DagSnapshot } from '../engine/snapshot.ts';
import { AttemptAborted, endReasonOf, endReasonOfThrown, handBackDelayMs, type EndReason } from '../engine/end-reason.ts';
import type { EagerOffer, StepLifecycle } from '../engine/step-lifecycle.ts';
import type { CompleteResult, ConsumedJob, ProcessOutcome, StartResult, StepOutcome, StepRoute } from '../engine/worker-backend.ts';
import type { RunFixedFields } from '../domain/run-state.ts';
import { isPickup } from '../domain/step-job.ts';
import { CHAIN_YIELD, eagerDelivery, eagerOffer } from './eager.ts';
import type { Delivery } from './delivery.ts';
import { claimFromPickup } from './pickup.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import type { AttemptSignals } from './attempt-signals.ts';
import { attemptCall, type AttemptInputs } from './attempt-context.ts';
import type { Capabilities } from './capabilities.ts';
import { cpuClock, rssGauge } from './process-gauges.ts';
import type { WorkerEvent } from './events.ts';
import type { Isolation } from './isolated-step.ts';
import { serialiseOutput } from './output-check.ts';
import { RunFieldsCache } from './run-fields-cache.ts';
import { BufferedStepLogger } from './step-logger.ts';
import { LogFlushers } from './log-flusher.ts';
import { errorJson, runStep } from './step-runner.ts';
import { typedParams } from './typed-params.ts';

export interface StepJobsOptions {
  workerId: string;
  engine: Engine;
  lifecycle: StepLifecycle;
  pipelines: Map<string, Pipeline<any, any>>;
  capabilities: Capabilities;
  signals: AttemptSignals;
  runFields: RunFieldsCache;
  clock: Clock;
  logger: Logger;
  services: (run: RunInfo, step: string) => StepServices;
  redact?: (value: unknown) => unknown;
  isolation?: Isolation;
  onEvent?: (event: WorkerEvent) => void;
  /** True while completions may claim their one ready successor for this worker (eager dispatch on, not closing). */
  eager?: () => boolean;
  /** True once the worker is closing (it takes no more steps, pickups included). */
  closing?: () => boolean;
}

/**
 * Runs one step job: checks this worker can run it, starts the attempt through the engine, runs the
 * condition, the map expansion or the handler, and reports how it ended. The engine's step lifecycle
 * records and decides; this module only runs user code and says what happened.
 */
export class StepJobs {
  private readonly cpu = cpuClock();
  private readonly rss = rssGauge();
  private readonly logFlushers = new LogFlushers();
  private leases: LeaseKeeper | undefined;

  constructor(private readonly o: StepJobsOptions) {}

  /**
   * Runs a job's step, then each step its completion claimed for this worker (eager dispatch), in
   * this same slot. The job's outcome is its own step's: an eager step that fails, retries or goes
   * back does so through its own records and, when needed, a job of its own.
   */
  async process(job: ConsumedJob): Promise<ProcessOutcome> {
    if (isPickup(job.data)) return this.pickup(job);
    const first: Delivery = { job, startedAt: this.o.clock.now() };
    const outcome = await this.deliver(first);
    await this.runClaims(first.next);
    first.next = undefined;
    return outcome;
  }

  /** Runs a chain of claimed steps, each claimed by the completion of the one before. */
  private async runClaims(next: Delivery | undefined): Promise<void> {
    // Each delivery is dropped once run: a chain of any length holds one step's inputs at a time.
    while (next) {
      const d = next;
      await this.deliverEager(d);
      next = d.next;
      d.next = undefined;
    }
  }

  /**
   * A pickup job of a run's fan-out list (worker/pickup.ts). Taken with eager dispatch off too: it
   * stands in for the job the listed step does not have, and dropping it there left a mixed fleet's
   * fan-out to the listing worker's one chain, one step at a time. A closing worker puts it back.
   */
  private async pickup(job: ConsumedJob): Promise<ProcessOutcome> {
    if (this.o.closing?.()) return 'hand-back';
    const snapshot = await this.snapshot(job.data.r);
    if (!snapshot) return;
    await this.runClaims(await claimFromPickup(this.o, job, snapshot));
  }

  /** An eagerly claimed step, its lease renewed while it runs. A bug is logged: its lease runs out and the reconciler re-queues it. */
  private async deliverEager(d: Delivery): Promise<void> {
    const { r: runId, s: step } = d.job.data;
    this.leases ??= new LeaseKeeper(this.o.lifecycle.leaseMs, this.o.logger);
    const stop = this.leases.keep(
      () => this.o.lifecycle.renewLease(runId, step, d.token!),
      () => this.o.signals.abortJobs([d.job.id], new AttemptAborted('lock-lost', 'step (its eager lease was lost)')),
    );
    try {
      await this.deliver(d);
    } catch (thrown) {
      this.o.logger.error('eagerly claimed step failed outside its handler; it is re-queued when its lease runs out', { runId, step, error: coerceError(thrown).message });
    } finally {
      stop();
    }
  }

  /** A failure outside user code is an infrastructure fault (hand the step back) or a bug (rethrown). */
  private async deliver(delivery: Delivery): Promise<ProcessOutcome> {
    try {
      return await this.run(delivery);
    } catch (thrown) {
      const reason = endReasonOfThrown(thrown);
      if (!reason) throw thrown;
      return this.end(delivery, reason, 0).catch((again) => {
        // The fault outlasted the hand-back too: the job goes back to the queue all the same.
        this.o.logger.debug('hand-back after an infrastructure fault did not complete', { error: coerceError(again).message });
        return { handBackAfterMs: handBackDelayMs(reason) };
      });
    }
  }

  private async run(d: Delivery): Promise<ProcessOutcome> {
    const { job } = d;
    const { r: runId, s: step, p: pipelineId } = job.data;
    const snapshot = await this.snapshot(runId);
    if (!snapshot) return; // run expired or deleted: nothing to do
    const resolved = resolveStepSpec(stepSpecMap(snapshot), step);
    if (!resolved) return;
    const { spec, instance } = resolved;
    d.snapshot = snapshot;
    let cachedFixed: RunFixedFields | undefined;
    let started: Extract<StartResult, { ok: true }>;
    if (d.claimed) {
      // Claimed by the previous completion (eager dispatch): already started under d.token.
      ({ started, fixed: cachedFixed } = d.claimed);
    } else {
      // A step only starts where its code is: otherwise it waits for a worker that has it.
      const missing = this.o.capabilities.missing(job.data, spec.queue, snapshot.hash);
      if (missing) return this.waitElsewhere(job, snapshot, missing);
      cachedFixed = this.o.runFields.get(runId);
      const start = await this.o.lifecycle.start({
        runId, step, worker: this.o.workerId, attempt: job.attempt, needs: spec.needs, isMapItem: instance !== undefined, withFixed: !cachedFixed,
        codeVersion: this.o.capabilities.codeVersion(pipelineId),
      });
      if (!start.started.ok && start.started.reason === 'wrong-version') {
        // The run was pinned (by its first step) to another code version than ours.
        const pinned = await this.o.lifecycle.runCodeVersion(runId);
        return this.waitElsewhere(job, snapshot, { pool: spec.queue, pipeline: pipelineId, dagHash: snapshot.hash, codeVersion: pinned });
      }
      if (!start.started.ok) {
        this.o.logger.debug('job dropped', { runId, step, reason: start.started.reason });
        return;
      }
      started = start.started;
      d.token = start.token;
    }
    d.startedAt = this.o.clock.now();
    // Hand-off latency: from the moment the step became ready (its job was added) to its start here.
    if (job.attempt === 1 && !started.parked) this.o.onEvent?.({ type: 'handoff', pipeline: pipelineId, latencyMs: d.startedAt - job.readyAt });
    const code = this.o.pipelines.get(pipelineId)?.stepCode(instance?.base ?? step);
    if (!code) {
      const served = [...this.o.pipelines.keys()].join(', ') || 'none';
      const error = new Error(`worker ${this.o.workerId} has no code for pipeline "${pipelineId}" step "${step}" (serves: ${served})`);
      return this.finish(d, 'f', errorJson(error), 0);
    }
    const fixed = cachedFixed ?? this.o.runFields.remember(runId, { ...started.fixed!, params: typedParams(this.o.pipelines.get(pipelineId)?.paramsSchema, started.fixed!.params) });
    const run: RunInfo = {
      id: runId,
      pipelineId,
      trigger: fixed.trigger as TriggerInfo,
      status: started.failedSoFar > 0 ? 'failed' : started.runStatus,
      logicalTime: fixed.logicalTime,
      dagHash: fixed.dagHash,
    };
    const conditionCtx = { params: fixed.params, upstream: started.upstream, upstreamStatus: started.upstreamStatus, run };
    // A map step's condition decides once for the step; its instances never re-evaluate it.
    if (spec.conditional && code.condition && !instance) {
      const decided = await evaluateCondition(code, conditionCtx);
      if (decided !== true) return decided === false ? this.finish(d, 'k', 'condition was false', 0) : this.finish(d, 'f', errorJson(decided), 0);
    }
    if (spec.kind === 'map') return this.expandMap(d, spec, code, conditionCtx);
    return this.execute(d, spec, code, {
      pipelineId, step, attempt: job.attempt, run, params: fixed.params, upstream: started.upstream, upstreamStatus: started.upstreamStatus,
      parked: started.parked, item: instance ? { value: started.item, index: instance.index } : undefined,
    });
  }

  /** The run's DAG; undefined when the run is gone (a Redis fault is thrown, not mistaken for that). */
  private async snapshot(runId: string): Promise<DagSnapshot | undefined> {
    try {
      return await this.o.engine.snapshot(runId);
    } catch (thrown) {
      if (endReasonOfThrown(thrown)) throw thrown;
      return undefined;
    }
  }

  private async execute(d: Delivery, spec: StepSpec, code: StepCode, inputs: AttemptInputs): Promise<ProcessOutcome> {
    const { clock } = this.o;
    const { abort, release } = this.o.signals.track(d.job.id, inputs.run.id);
    const log = new BufferedStepLogger(inputs.step, inputs.attempt, this.o.redact);
    const flusher = this.logFlushers.start(log, (entries) => this.o.lifecycle.appendLogs(inputs.run.id, entries));
    let services: StepServices | undefined;
    const call = attemptCall(inputs, code, log, () => (services ??= this.o.services(inputs.run, inputs.step)), this.o.pipelines.get(inputs.pipelineId)?.sourceFile);
    const cpuBefore = this.cpu.value();
    // A parked step's timeout bounds the whole wait, counted from when it first parked.
    const timeoutMs = inputs.parked ? spec.timeoutMs - (clock.now() - inputs.parked.since) : spec.timeoutMs;
    let result;
    try {
      result = await runStep({
        step: inputs.step,
        timeoutMs: Math.max(1, timeoutMs),
        abort,
        isolated: (spec.isolation ?? this.o.isolation) === 'process' ? call.isolated() : undefined,
        invoke: call.invoke,
      });
    } finally {
      release();
      await flusher.stop();
    }
    const cpuMs = (this.cpu.value() - cpuBefore) / 1000;
    const rest = log.drain();
    if (rest.length > 0) await this.o.lifecycle.appendLogs(inputs.run.id, rest);
    if (result.ok) {
      // Secret values never reach Redis, outputs included (the redactor also matches their JSON-escaped form).
      const outputJson = this.o.redact ? String(this.o.redact(result.outputJson)) : result.outputJson;
      return this.finish(d, 's', outputJson, cpuMs);
    }
    if (result.park) {
      await this.o.lifecycle.park({ runId: inputs.run.id, step: inputs.step, token: d.token!, jobId: d.job.id, ...result.park });
      return;
    }
    const error = this.o.redact ? redactError(result.error, this.o.redact) : result.error;
    return this.end(d, endReasonOf(error, result.retryable, abort), cpuMs, error);
  }

  /**
   * Ends an attempt without an output as the engine decides from `reason`, and tells the queue what
   * that means for the job: retry, hand back (no attempt), fail for good, or nothing.
   */
  private async end(d: Delivery, reason: EndReason, cpuMs: number, thrown?: Error): Promise<ProcessOutcome> {
    const { r: runId, s: step, p: pipeline } = d.job.data;
    const error = 'error' in reason ? reason.error : (thrown ?? new Error(reason.kind));
    const offered = this.offer(d);
    const ended = await this.o.lifecycle.end({
      runId, step, token: d.token, worker: this.o.workerId, attempt: d.job.attempt, maxAttempts: d.job.maxAttempts, backoffMs: d.job.nextBackoffMs,
      reason, errorJson: errorJson(error), resources: this.resources(d, cpuMs), eager: d.claimed !== undefined, offer: offered.offer, pool: offered.pool,
    });
    switch (ended.decision) {
      case 'hand-back':
        if (reason.kind === 'worker-shutdown' || reason.kind === 'infrastructure') {
          const message = reason.kind === 'infrastructure' ? reason.error.message : undefined;
          this.o.onEvent?.({ type: 'step-handed-back', runId, pipeline, step, reason: reason.kind, ...(message ? { message } : {}) });
          if (message) this.o.logger.warn('infrastructure fault: step handed back to the queue (no attempt counted)', { runId, step, error: message });
        }
        return handBackDelayMs(reason) > 0 ? { handBackAfterMs: handBackDelayMs(reason) } : 'hand-back';
      case 'retry':
        this.o.onEvent?.({ type: 'step-retry', pipeline, step, attempt: d.job.attempt });
        return { retry: error };
      case 'stale':
        return;
      case 'fail':
      case 'drop':
        this.claimedNext(d, ended.completed, offered.fixed);
        return this.reportFinished(d, 'f', errorJson(error), ended.completed.ok, cpuMs);
    }
  }

  /**
   * Turns a map step into one instance per item by its `over`. No items: the map step succeeds at once
   * with `[]`. A failing `over` fails the map step like a failing handler would.
   */
  private async expandMap(d: Delivery, spec: StepSpec, code: StepCode, conditionCtx: ConditionContext<Record<string, unknown>, Record<string, unknown>>): Promise<ProcessOutcome> {
    const { r: runId, s: step } = d.job.data;
    let itemsJson: string[];
    try {
      const items = await code.over!(conditionCtx);
      if (!Array.isArray(items)) throw new TypeError(`map step "${step}": over() must return an array, found ${typeof items}`);
      itemsJson = items.map((item, i) => serialiseOutput(`${step}[${i}]`, item));
    } catch (thrown) {
      return this.finish(d, 'f', errorJson(coerceError(thrown)), 0);
    }
    if (itemsJson.length === 0) return this.finish(d, 's', emptyMapOutputJson(spec.minSuccess !== undefined), 0);
    const minSuccess = spec.minSuccess === undefined ? undefined : minSuccessCount(spec.minSuccess, itemsJson.length);
    const expanded = await this.o.lifecycle.expandMap(runId, step, d.token!, itemsJson, { maxParallel: spec.maxParallel ?? 0, now: this.o.clock.now(), minSuccess });
    if (expanded.allDone !== undefined) return this.finish(d, 's', expanded.allDone, 0);
  }

  private async waitElsewhere(job: ConsumedJob, snapshot: DagSnapshot, route: StepRoute): Promise<void> {
    const { r: runId, s: step, p: pipeline } = job.data;
    const waitingFor = await this.o.lifecycle.waitForWorker({ runId, step, jobId: job.id, snapshot, route });
    if (waitingFor) this.o.onEvent?.({ type: 'step-waiting', pipeline, step, waitingFor });
  }

  /** Reports an outcome to the engine (which records it and advances the run), then to metrics. */
  private async finish(d: Delivery, outcome: StepOutcome, payload: string, cpuMs: number): Promise<ProcessOutcome> {
    const { r: runId, s: step } = d.job.data;
    const { offer: eager, pool, fixed } = this.offer(d);
    const result = await this.o.lifecycle.complete({ runId, step, token: d.token!, outcome, payload, resources: this.resources(d, cpuMs), eager, pool });
    this.claimedNext(d, result, fixed);
    return this.reportFinished(d, outcome, payload, result.ok, cpuMs);
  }

  /** What this delivery's completion offers to claim next (eager dispatch), and the step's pool (its fan-out list). */
  private offer(d: Delivery): { offer: EagerOffer | undefined; pool: string | undefined; fixed: RunFixedFields | undefined } {
    const fixed = this.o.runFields.get(d.job.data.r);
    const pool = d.snapshot ? resolveStepSpec(stepSpecMap(d.snapshot), d.job.data.s)?.spec.queue : undefined;
    const offer = this.o.eager?.() && d.snapshot && pool !== undefined && (d.chain ?? 0) < CHAIN_YIELD
      ? eagerOffer(d, d.snapshot, pool, this.o.capabilities, this.o.workerId, fixed)
      : undefined;
    return { offer, pool, fixed };
  }

  /**
   * The step the completion claimed for this worker runs next in this slot. `fixed`: the cached run
   * fields the offer was made with (it asked for them from the script only when they were not cached).
   */
  private claimedNext(d: Delivery, result: CompleteResult, fixed: RunFixedFields | undefined): void {
    if (!result.ok || !result.claimed) return;
    d.next = eagerDelivery(d, result.claimed, fixed, this.o.clock.now());
    this.o.onEvent?.({ type: 'step-claimed', runId: d.job.data.r, pipeline: d.job.data.p, step: result.claimed.step, after: d.job.data.s });
  }

  private reportFinished(d: Delivery, outcome: StepOutcome, payload: string, recorded: boolean, cpuMs: number): ProcessOutcome {
    // A rejected completion (stale, duplicate, cancelled) is not a finished step: metrics count each step once.
    if (!recorded) return;
    this.o.onEvent?.({
      type: 'step-finished', pipeline: d.job.data.p, step: d.job.data.s, attempt: d.job.attempt, cpuMs, durationMs: this.o.clock.now() - d.startedAt,
      status: outcome === 's' ? 'succeeded' : outcome === 'f' ? 'failed' : 'skipped',
    });
    // A recorded final failure also fails the job in BullMQ (its failed set, for dashboards and exporters).
    if (outcome === 'f') return { failed: failureMessage(payload) };
  }

  /** Stored with the step (shown by `status --json`, the API and UI) and sent to metrics. */
  private resources(d: Delivery, cpuMs: number) {
    return { wallMs: this.o.clock.now() - d.startedAt, cpuMs: Math.round(cpuMs * 1000) / 1000, rssBytes: this.rss.value() };
  }
}

async function evaluateCondition(code: StepCode, ctx: ConditionContext<Record<string, unknown>, Record<string, unknown>>): Promise<boolean | Error> {
  try {
    return Boolean(await code.condition!(ctx));
  } catch (thrown) {
    const error = coerceError(thrown);
    error.message = `condition threw: ${error.message}`;
    return error;
  }
}

/** The message of a recorded error payload (errorJson), for the failed job's `failedReason`. */
function failureMessage(payload: string): string {
  try {
    const parsed = JSON.parse(payload) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: the payload is the message
  }
  return payload;
}

function redactError(error: Error, redact: (value: unknown) => unknown): Error {
  error.message = String(redact(error.message));
  if (error.stack) error.stack = String(redact(error.stack));
  return error;
}
