import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';
import { CancelledError } from '../errors/conveyor-error.ts';
import type { Pipeline, StepCode } from '../dsl/pipeline.ts';
import type { ConditionContext, ParkedState, RunInfo, StepServices, TriggerInfo } from '../dsl/context.ts';
import { emptyMapOutputJson, minSuccessCount } from '../dsl/map-partial.ts';
import type { UpstreamStatus } from '../dsl/trigger-rules.ts';
import type { StepSpec } from '../dsl/types.ts';
import type { Engine } from '../engine/engine.ts';
import { resolveStepSpec, stepSpecMap } from '../engine/snapshot.ts';
import type { KeySpace } from '../redis/keys.ts';
import { startConsumer, type ConsumedJob, type JobConsumer, type ProcessOutcome } from '../redis/job-consumer.ts';
import type { RunStore, StepOutcome } from '../redis/run-store.ts';
import { decideEnd, DEFAULT_OOM_WINDOW_MS, StepLifecycle, type EndReason } from '../engine/step-lifecycle.ts';
import { refusalMessage } from '../redis/oom.ts';
import { RunFieldsCache } from './run-fields-cache.ts';
import { CpuClock } from './cpu-clock.ts';
import { BufferedStepLogger } from './step-logger.ts';
import { errorJson, runStep } from './step-runner.ts';
import { parkStep } from './park-signal.ts';
import { serialiseOutput } from './output-check.ts';
import { typedParams } from './typed-params.ts';
import type { Isolation } from './isolated-step.ts';
import { WorkerPresence } from '../redis/worker-presence.ts';
import type { StepRoute } from '../domain/step-routes.ts';
import type { DagSnapshot } from '../engine/snapshot.ts';
import { Capabilities } from './capabilities.ts';

export type WorkerEvent =
  | { type: 'step-finished'; pipeline: string; step: string; status: 'succeeded' | 'failed' | 'skipped'; durationMs: number; attempt: number; cpuMs: number }
  | { type: 'step-retry'; pipeline: string; step: string; attempt: number }
  | { type: 'stale-completion'; runId: string; step: string }
  | { type: 'handoff'; pipeline: string; latencyMs: number }
  /** Redis refused one of this worker's writes for memory (`write`: start, complete, logs, enqueue, ...); it is retried. */
  | { type: 'redis-refused'; write: string; message: string }
  /** A step this worker could not run went to wait for one that can ("my-etl@<version>"). */
  | { type: 'step-waiting'; pipeline: string; step: string; waitingFor: string };

export interface WorkerOptions {
  /** Client for commands and scripts (auto-pipelined). */
  redis: Redis;
  /** Client BullMQ consumers use (maxRetriesPerRequest: null); duplicated per queue by BullMQ. */
  bullConnection: Redis;
  /** Client in subscriber mode for cancellations. */
  subscriber: Redis;
  keys: KeySpace;
  store: RunStore;
  engine: Engine;
  pipelines: Pipeline<any, any>[];
  queues: string[];
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long writes Redis refuses for memory are retried, the step's result kept meanwhile (see StepLifecycle). */
  redisOomWindowMs?: number;
  clock: Clock;
  logger: Logger;
  /** Step services (secrets, registry, monitor) for one attempt. */
  services: (run: RunInfo, step: string) => StepServices;
  /** Masks secrets in logs and errors. */
  redact?: (value: unknown) => unknown;
  onEvent?: (event: WorkerEvent) => void;
  id?: string;
  /** How steps that do not choose run their handlers (default 'in-process'). */
  isolation?: Isolation;
}

/**
 * Takes step jobs from its queues, runs the handlers, and reports each outcome through the
 * completion script, then enqueues whatever the script says became ready. Many workers, on many
 * machines, share the same queues.
 */
export class ConveyorWorker {
  readonly id: string;
  private readonly pipelines: Map<string, Pipeline<any, any>>;
  private readonly consumers: JobConsumer[] = [];
  /** runId -> one cancel controller shared by that run's steps running here, and how many there are. */
  private readonly running = new Map<string, { controller: AbortController; steps: number }>();
  private readonly runFields = new RunFieldsCache();
  private readonly cpu = new CpuClock();
  private readonly presence: WorkerPresence;
  private readonly lifecycle: StepLifecycle;
  private readonly capabilities: Capabilities;
  /** Version queues this worker consumes besides its pools (see docs/architecture.md, "Routing"). */
  private readonly routed = new Set<string>();
  private routeTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** The abort reason of steps still running when the drain timeout ends: they are handed back. */
  private readonly shutdown = new CancelledError('step (worker shutdown)');
  private readonly lastQueueError = new Map<string, string>();
  private lastRefusalLog = 0;
  private readonly onRedisReady = () => {
    this.lastQueueError.clear();
    void this.checkMarker();
  };

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    this.pipelines = new Map(options.pipelines.map((p) => [p.id, p]));
    this.lifecycle = new StepLifecycle({
      engine: options.engine,
      store: options.store,
      clock: options.clock,
      logger: options.logger,
      onEvent: (event) => {
        if (event.type === 'stale-completion') options.onEvent?.(event);
      },
      onRunFinished: (runId) => this.runFields.forget(runId),
      oomWindowMs: options.redisOomWindowMs,
      onRedisRefused: (write, oom) => this.reportRefusal(write, oom),
    });
    this.capabilities = new Capabilities(options.pipelines, (p) => options.engine.validate(p).hash, options.queues);
    this.presence = new WorkerPresence(options.redis, options.keys, this.id, options.queues, this.capabilities.list(), () => this.activeSteps(), () => [...this.routed]);
  }

  async start(): Promise<void> {
    // The marker lets a reconnect tell a restarted Redis that kept its data from one that came back empty.
    await this.options.store.setMarker(this.options.clock.now());
    this.options.redis.on('ready', this.onRedisReady);
    await this.options.subscriber.subscribe(this.options.keys.cancelChannel);
    this.options.subscriber.on('message', (channel: string, runId: string) => {
      if (channel === this.options.keys.cancelChannel) this.abortRun(runId, new CancelledError(`run ${runId}`));
    });
    for (const queue of this.options.queues) this.consume(queue);
    await this.watchRoutes();
    this.routeTimer = setInterval(() => void this.watchRoutes(), ROUTE_POLL_MS);
    this.routeTimer.unref();
    await this.presence.start();
    this.options.logger.info('worker started', { worker: this.id, queues: this.options.queues, pipelines: [...this.pipelines.keys()] });
  }

  /**
   * Graceful stop: take no new jobs, let running steps finish for up to `drainMs`, then abort the rest
   * and hand them back to the queue (not counted as attempts). Every wait after the drain timeout is
   * bounded, so a worker whose Redis is unreachable still exits soon after it.
   */
  async close(drainMs = 30_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.routeTimer);
    const drained = Promise.all(this.consumers.map((c) => c.close())).catch(() => {});
    const timedOut = await Promise.race([drained.then(() => false), sleep(drainMs).then(() => true)]);
    // From here on every wait shares one deadline: Redis may be unreachable, and the orchestrator's
    // grace period (drain timeout + a few seconds) must not run out before we exit.
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    if (timedOut) {
      this.options.logger.warn('drain timed out: handing running steps back to the queue', { running: this.activeSteps() });
      for (const runId of this.running.keys()) this.abortRun(runId, this.shutdown);
      // Aborted steps end at once; handing each back is one script and one queue move.
      await until(drained, deadline);
      await until(Promise.all(this.consumers.map((c) => c.close(true))), deadline);
    }
    this.options.redis.off('ready', this.onRedisReady);
    await until(this.presence.stop(), deadline);
    await until(this.options.subscriber.unsubscribe(), deadline);
  }

  private consume(queue: string): void {
    this.consumers.push(
      startConsumer({
        connection: this.options.bullConnection,
        keys: this.options.keys,
        queue,
        concurrency: this.options.concurrency,
        lockDurationMs: this.options.lockDurationMs,
        stalledIntervalMs: this.options.stalledIntervalMs,
        workerName: this.id,
        process: (job) => this.process(job),
        onAbandoned: (job, reason) => void this.abandon(job, reason),
        onError: (error) => this.reportQueueError(queue, error),
      }),
    );
  }

  /** Starts consuming each version queue whose steps this worker can run (one read of the routes hash). */
  private async watchRoutes(): Promise<void> {
    if (this.closing) return;
    try {
      for (const { queue, route } of await this.lifecycle.routes()) {
        if (this.routed.has(queue) || !this.capabilities.canServe(route)) continue;
        this.routed.add(queue);
        this.consume(queue);
        this.options.logger.info('serving version queue', { queue });
      }
    } catch (thrown) {
      this.options.logger.debug('could not read version queues', { error: coerceError(thrown).message });
    }
  }

  /**
   * BullMQ reports the same connection error on every reconnect attempt: log a change once, not a
   * line per retry (an outage would otherwise print one every second per queue).
   */
  private reportQueueError(queue: string, error: Error): void {
    if (this.lastQueueError.get(queue) === error.message) return;
    this.lastQueueError.set(queue, error.message);
    this.options.logger.warn('queue worker error', { queue, error: error.message });
  }

  /**
   * A write refused for memory: the true cause goes to the log (once per REFUSAL_LOG_EVERY_MS, not a
   * line per retry) and to metrics (every refusal).
   */
  private reportRefusal(write: string, oom: Error): void {
    const message = refusalMessage(oom);
    this.options.onEvent?.({ type: 'redis-refused', write, message });
    const now = Date.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_EVERY_MS) return;
    this.lastRefusalLog = now;
    this.options.logger.warn(`${message} (retrying ${write} and every refused write for up to ${Math.round((this.options.redisOomWindowMs ?? DEFAULT_OOM_WINDOW_MS) / 1000)} s; steps keep their results)`, { worker: this.id });
  }

  activeSteps(): number {
    let n = 0;
    for (const entry of this.running.values()) n += entry.steps;
    return n;
  }

  private async process(job: ConsumedJob): Promise<ProcessOutcome> {
    const { r: runId, s: step, p: pipelineId } = job.data;
    const { engine, clock } = this.options;
    const snapshot = await engine.snapshot(runId).catch(() => undefined);
    if (!snapshot) return; // run expired or deleted: nothing to do
    const resolved = resolveStepSpec(stepSpecMap(snapshot), step);
    if (!resolved) return;
    const { spec, instance } = resolved;
    // A step only starts where its code is: otherwise it waits for a worker that has it.
    const missing = this.capabilities.missing(job.data, spec.queue, snapshot.hash);
    if (missing) return this.waitElsewhere(job, snapshot, missing);
    const cachedFixed = this.runFields.get(runId);
    const { token, started } = await this.lifecycle.start({
      runId, step, worker: this.id, attempt: job.attempt, needs: spec.needs, isMapItem: instance !== undefined, withFixed: !cachedFixed,
      codeVersion: this.capabilities.codeVersion(pipelineId),
    });
    if (!started.ok && started.reason === 'wrong-version') {
      // The run was pinned (by its first step) to another code version than ours.
      const pinned = await this.lifecycle.runCodeVersion(runId);
      return this.waitElsewhere(job, snapshot, { pool: spec.queue, pipeline: pipelineId, dagHash: snapshot.hash, codeVersion: pinned });
    }
    if (!started.ok) {
      this.options.logger.debug('job dropped', { runId, step, reason: started.reason });
      return;
    }
    const code = this.pipelines.get(pipelineId)?.stepCode(instance?.base ?? step);
    const startedAt = clock.now();
    // Hand-off latency: from the moment the step became ready (its job was added) to its start here.
    if (job.attempt === 1 && !started.parked) this.options.onEvent?.({ type: 'handoff', pipeline: pipelineId, latencyMs: startedAt - job.readyAt });
    if (!code) {
      const served = [...this.pipelines.keys()].join(', ') || 'none';
      const error = new Error(`worker ${this.id} has no code for pipeline "${pipelineId}" step "${step}" (serves: ${served})`);
      return this.finishStep(runId, pipelineId, step, token, 'f', errorJson(error), job.attempt, startedAt, 0);
    }
    const fixed = cachedFixed ?? this.runFields.remember(runId, { ...started.fixed!, params: typedParams(this.pipelines.get(pipelineId)?.paramsSchema, started.fixed!.params) });
    const run: RunInfo = {
      id: runId,
      pipelineId,
      trigger: fixed.trigger as TriggerInfo,
      status: started.failedSoFar > 0 ? 'failed' : started.runStatus,
      logicalTime: fixed.logicalTime,
      dagHash: fixed.dagHash,
    };
    // A map step's condition decides once for the step; its instances never re-evaluate it.
    if (spec.conditional && code.condition && !instance) {
      const decided = await this.evaluateCondition(code, { params: fixed.params, upstream: started.upstream, upstreamStatus: started.upstreamStatus, run });
      if (decided !== true) {
        const [outcome, payload] = decided === false ? (['k', 'condition was false'] as const) : (['f', errorJson(decided)] as const);
        return this.finishStep(runId, pipelineId, step, token, outcome, payload, job.attempt, startedAt, 0);
      }
    }
    if (spec.kind === 'map') {
      const conditionCtx = { params: fixed.params, upstream: started.upstream, upstreamStatus: started.upstreamStatus, run };
      return this.expandMap(runId, pipelineId, step, spec, code, run, token, conditionCtx, job.attempt, startedAt);
    }
    return this.execute({
      job, runId, pipelineId, step, spec, code, run, token, params: fixed.params, upstream: started.upstream, startedAt, parked: started.parked,
      upstreamStatus: started.upstreamStatus,
      item: instance ? { value: started.item, index: instance.index } : undefined,
    });
  }

  private async execute(a: {
    job: ConsumedJob; runId: string; pipelineId: string; step: string; spec: StepSpec; code: StepCode; run: RunInfo;
    token: string; params: Record<string, unknown>; upstream: Record<string, unknown>; startedAt: number;
    parked: ParkedState | undefined; upstreamStatus: Record<string, UpstreamStatus>;
    item?: { value: unknown; index: number };
  }): Promise<ProcessOutcome> {
    const { clock } = this.options;
    const cancel = this.track(a.runId);
    const log = new BufferedStepLogger(a.step, a.job.attempt, this.options.redact);
    // Services are built on first use: most steps touch none of them, and building a registry client
    // for every no-op step was measurable per-step cost.
    let services: StepServices | undefined;
    const service = () => (services ??= this.options.services(a.run, a.step));
    const cpuBefore = this.cpu.nowUs();
    // A parked step's timeout bounds the whole wait, counted from when it first parked.
    const timeoutMs = a.parked ? a.spec.timeoutMs - (clock.now() - a.parked.since) : a.spec.timeoutMs;
    let result;
    try {
      result = await runStep({
        step: a.step,
        timeoutMs: Math.max(1, timeoutMs),
        cancel,
        isolated: (a.spec.isolation ?? this.options.isolation) === 'process' ? {
          file: this.pipelines.get(a.pipelineId)?.sourceFile,
          log,
          request: {
            pipelineId: a.pipelineId, stepName: a.item ? a.step.replace(/\[\d+\]$/, '') : a.step, step: a.step,
            attempt: a.job.attempt, params: a.params, upstream: a.upstream, upstreamStatus: a.upstreamStatus, run: a.run, parked: a.parked,
            secrets: { ...service().secrets }, item: a.item,
          },
        } : undefined,
        invoke: (signal) => {
          const ctx = {
            params: a.params, upstream: a.upstream, upstreamStatus: a.upstreamStatus, run: a.run, step: a.step, attempt: a.job.attempt, signal, log,
            park: parkStep, parked: a.parked,
            get secrets() { return service().secrets; },
            get registry() { return service().registry; },
            get monitor() { return service().monitor; },
            get events() { return service().events; },
            get artifacts() { return service().artifacts; },
          };
          return a.item ? a.code.handler(ctx, a.item.value, a.item.index) : a.code.handler(ctx);
        },
      });
    } finally {
      this.untrack(a.runId);
    }
    const cpuMs = (this.cpu.nowUs() - cpuBefore) / 1000;
    await this.lifecycle.appendLogs(a.runId, log.drain());
    if (result.ok) {
      // Secret values never reach Redis, outputs included (the redactor also matches their JSON-escaped form).
      const outputJson = this.options.redact ? String(this.options.redact(result.outputJson)) : result.outputJson;
      return this.finishStep(a.runId, a.pipelineId, a.step, a.token, 's', outputJson, a.job.attempt, a.startedAt, cpuMs);
    }
    if (result.park) {
      await this.lifecycle.park({ runId: a.runId, step: a.step, token: a.token, jobId: a.job.id, ...result.park });
      return;
    }
    const error = this.options.redact ? redactError(result.error, this.options.redact) : result.error;
    switch (decideEnd(this.endReason(cancel, result.retryable), a.job.attempt, a.job.maxAttempts)) {
      case 'hand-back':
        // Not recorded as a failure and not an attempt: the job goes back to the queue as it was.
        if (await this.lifecycle.handBack({ runId: a.runId, step: a.step, token: a.token, why: `worker ${this.id} shut down` })) return 'hand-back';
        return;
      case 'retry': {
        const recorded = await this.lifecycle.retry({ runId: a.runId, step: a.step, token: a.token, errorJson: errorJson(error), backoffMs: a.job.nextBackoffMs });
        if (!recorded) return; // another delivery owns the step now
        this.options.onEvent?.({ type: 'step-retry', pipeline: a.pipelineId, step: a.step, attempt: a.job.attempt });
        throw error; // the queue schedules the next attempt with the step's backoff
      }
      case 'drop':
      case 'fail':
        // A cancelled run rejects the completion in its script: recording it is harmless and keeps one path.
        return this.finishStep(a.runId, a.pipelineId, a.step, a.token, 'f', errorJson(error), a.job.attempt, a.startedAt, cpuMs);
    }
  }

  private async waitElsewhere(job: ConsumedJob, snapshot: DagSnapshot, route: StepRoute): Promise<void> {
    const { r: runId, s: step, p: pipeline } = job.data;
    const waitingFor = await this.lifecycle.waitForWorker({ runId, step, jobId: job.id, snapshot, route });
    if (waitingFor) this.options.onEvent?.({ type: 'step-waiting', pipeline, step, waitingFor });
  }

  /** Why an attempt that produced no output ended: this worker's shutdown, a cancel, or the handler. */
  private endReason(cancel: AbortSignal, retryable: boolean): EndReason {
    if (cancel.aborted && cancel.reason === this.shutdown) return { kind: 'shutdown' };
    if (cancel.aborted) return { kind: 'cancelled' };
    return { kind: 'handler-error', retryable };
  }

  /**
   * Runs a map step's `over` and turns the step into one instance per item. No items: the map step
   * succeeds at once with `[]`. A failing `over` fails the map step like a failing handler would.
   */
  private async expandMap(
    runId: string, pipelineId: string, step: string, spec: StepSpec, code: StepCode, run: RunInfo, token: string,
    conditionCtx: ConditionContext<Record<string, unknown>, Record<string, unknown>>, attempt: number, startedAt: number,
  ): Promise<ProcessOutcome> {
    let items: readonly unknown[];
    try {
      const result = await code.over!(conditionCtx);
      if (!Array.isArray(result)) throw new TypeError(`map step "${step}": over() must return an array, found ${typeof result}`);
      items = result;
    } catch (thrown) {
      return this.finishStep(runId, pipelineId, step, token, 'f', errorJson(coerceError(thrown)), attempt, startedAt, 0);
    }
    let itemsJson: string[];
    try {
      itemsJson = items.map((item, i) => serialiseOutput(`${step}[${i}]`, item));
    } catch (thrown) {
      return this.finishStep(runId, pipelineId, step, token, 'f', errorJson(coerceError(thrown)), attempt, startedAt, 0);
    }
    if (itemsJson.length === 0) {
      return this.finishStep(runId, pipelineId, step, token, 's', emptyMapOutputJson(spec.minSuccess !== undefined), attempt, startedAt, 0);
    }
    const minSuccess = spec.minSuccess === undefined ? undefined : minSuccessCount(spec.minSuccess, itemsJson.length);
    const expanded = await this.lifecycle.expandMap(runId, step, token, itemsJson, spec.maxParallel ?? 0, this.options.clock.now(), minSuccess);
    if (expanded.allDone !== undefined) return this.finishStep(runId, pipelineId, step, token, 's', expanded.allDone, attempt, startedAt, 0);
  }

  private async evaluateCondition(code: StepCode, ctx: ConditionContext<Record<string, unknown>, Record<string, unknown>>): Promise<boolean | Error> {
    try {
      return Boolean(await code.condition!(ctx));
    } catch (thrown) {
      const error = coerceError(thrown);
      error.message = `condition threw: ${error.message}`;
      return error;
    }
  }

  /** Reports the outcome to the engine (which records it and advances the run) and to metrics. */
  private async finishStep(runId: string, pipelineId: string, step: string, token: string, outcome: StepOutcome, payload: string, attempt: number, startedAt: number, cpuMs: number): Promise<ProcessOutcome> {
    const now = this.options.clock.now();
    // Stored with the step (shown by `status --json`, the API and UI) and sent to metrics below.
    const resources = { wallMs: now - startedAt, cpuMs: Math.round(cpuMs * 1000) / 1000, rssBytes: process.memoryUsage.rss() };
    const result = await this.lifecycle.complete({ runId, step, token, outcome, payload, resources });
    // A rejected completion (stale, duplicate, cancelled) is not a finished step: metrics count each step once.
    if (result.ok) {
      this.options.onEvent?.({
        type: 'step-finished', pipeline: pipelineId, step, attempt, cpuMs, durationMs: now - startedAt,
        status: outcome === 's' ? 'succeeded' : outcome === 'f' ? 'failed' : 'skipped',
      });
    }
    // A recorded final failure also fails the job in BullMQ (its failed set, for dashboards and exporters).
    if (result.ok && outcome === 'f') return { failed: failureMessage(payload) };
  }

  /**
   * After a reconnect: a missing marker means Redis lost its data (restart without persistence, failover
   * to an empty replica). Nothing can bring those runs back, so say so loudly, once, and re-arm the marker.
   */
  private async checkMarker(): Promise<void> {
    try {
      if (await this.options.store.hasMarker()) return;
      this.options.logger.error(
        `Redis came back empty: marker key ${this.options.keys.marker} is gone, so in-flight runs lost their state and queued steps (runs lost); enable Redis persistence (appendonly yes) to survive restarts`,
        { worker: this.id },
      );
      await this.options.store.setMarker(this.options.clock.now());
    } catch (thrown) {
      this.options.logger.warn('could not check the Redis data marker after reconnect', { error: coerceError(thrown).message });
    }
  }

  /** The queue gave up on a job without our processor finishing it (e.g. it crashed its worker every time). */
  private async abandon(job: ConsumedJob, reason: string): Promise<void> {
    const { r: runId, s: step } = job.data;
    try {
      await this.lifecycle.abandon(runId, step, `step abandoned after repeated worker loss: ${reason}`);
    } catch (thrown) {
      this.options.logger.error('could not record abandoned step', { runId, step, error: coerceError(thrown).message });
    }
  }

  /** The cancel signal of a run's steps here (aborted by `conveyor cancel` and by a drain timeout). */
  private track(runId: string): AbortSignal {
    let entry = this.running.get(runId);
    if (!entry || entry.controller.signal.aborted) {
      entry = { controller: new AbortController(), steps: 0 };
      // Each concurrent step of the run listens on this signal (removed when the step ends): not a leak.
      setMaxListeners(0, entry.controller.signal);
      this.running.set(runId, entry);
    }
    entry.steps++;
    return entry.controller.signal;
  }

  private untrack(runId: string): void {
    const entry = this.running.get(runId);
    if (entry && --entry.steps <= 0) this.running.delete(runId);
  }

  private abortRun(runId: string, reason: Error): void {
    this.running.get(runId)?.controller.abort(reason);
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** Waits for `promise` until `deadline` at most (failures ignored: this is for shutdown, where we leave anyway). */
const until = (promise: Promise<unknown>, deadline: number) => Promise.race([promise.catch(() => {}), sleep(Math.max(0, deadline - Date.now()))]);

/**
 * How long a shutdown may take after the drain timeout (hand-backs, cleanup). The process owner adds
 * its own bounded cleanup; both fit in the 5 s that deployments add to the drain timeout.
 */
export const SHUTDOWN_GRACE_MS = 2_500;

/** At most one log line per this interval for writes Redis refuses for memory (metrics count each). */
const REFUSAL_LOG_EVERY_MS = 10_000;

/** How often a worker looks for new version queues it could serve (one HGETALL of a small hash). */
const ROUTE_POLL_MS = 1_000;
