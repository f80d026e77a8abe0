import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { coerceError } from '../core/coerce-error.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { RunInfo, StepServices } from '../dsl/context.ts';
import type { Engine } from '../engine/engine.ts';
import { AttemptAborted } from '../engine/end-reason.ts';
import { DEFAULT_OOM_WINDOW_MS, type StepLifecycle } from '../engine/step-lifecycle.ts';
import type { JobConsumer, WorkerBackend } from '../engine/worker-backend.ts';
import { AttemptSignals } from './attempt-signals.ts';
import { SHUTDOWN_GRACE_MS, sleep, until } from './bounded.ts';
import { Capabilities } from './capabilities.ts';
import type { WorkerEvent } from './events.ts';
import type { Isolation } from './isolated-step.ts';
import { OutageLog } from './outage-log.ts';
import { RunFieldsCache } from './run-fields-cache.ts';
import { StepJobs } from './step-jobs.ts';
import { isPickup } from '../domain/step-job.ts';

export type { WorkerEvent } from './events.ts';
export { SHUTDOWN_GRACE_MS } from './bounded.ts';

export interface WorkerOptions {
  /** The engine's side of the worker: lifecycle, queues, cancels, presence (see engine/worker-backend.ts). */
  backend: WorkerBackend;
  engine: Engine;
  pipelines: Pipeline<any, any>[];
  queues: string[];
  concurrency: number;
  /** How long writes Redis refuses for memory are retried (for the log line; the backend retries). */
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
  /** Completions claim their one ready successor for this worker (see docs/internals.md, "Eager hand-off"). */
  eagerDispatch?: boolean;
}

/**
 * A worker process's steady state: consumes its pool queues and the version queues it can serve,
 * hands each job to StepJobs, aborts attempts on cancel, drain timeout or lost lock, and stops
 * within a bounded time. Many workers, on many machines, share the same queues.
 */
export class ConveyorWorker {
  readonly id: string;
  private readonly consumers: JobConsumer[] = [];
  private readonly signals = new AttemptSignals();
  private readonly runFields = new RunFieldsCache();
  private readonly presence: { start(): Promise<void>; stop(): Promise<void> };
  private readonly lifecycle: StepLifecycle;
  private readonly capabilities: Capabilities;
  private readonly jobs: StepJobs;
  private readonly outages: OutageLog;
  /** Version queues this worker consumes besides its pools (see docs/internals.md, "Routing"). */
  private readonly routed = new Set<string>();
  private routeTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    this.outages = new OutageLog(options.logger, this.id, options.redisOomWindowMs ?? DEFAULT_OOM_WINDOW_MS);
    this.lifecycle = options.backend.lifecycle({
      onEvent: (event) => {
        if (event.type === 'stale-completion') options.onEvent?.(event);
      },
      onRunFinished: (runId) => this.runFields.forget(runId),
      onRedisRefused: (write, message) => {
        options.onEvent?.({ type: 'redis-refused', write, message });
        this.outages.refused(write, message);
      },
    });
    this.capabilities = new Capabilities(options.pipelines, (p) => options.engine.validate(p).hash, options.queues);
    this.jobs = new StepJobs({
      workerId: this.id, engine: options.engine, lifecycle: this.lifecycle, pipelines: new Map(options.pipelines.map((p) => [p.id, p])),
      capabilities: this.capabilities, signals: this.signals, runFields: this.runFields, clock: options.clock, logger: options.logger,
      services: options.services, redact: options.redact, isolation: options.isolation, onEvent: options.onEvent,
      // A closing worker claims nothing more: its drain only waits for what it already runs.
      eager: () => options.eagerDispatch === true && !this.closing,
      closing: () => this.closing,
    });
    this.presence = options.backend.presence({
      id: this.id, queues: options.queues, pipelines: this.capabilities.list(), running: () => this.activeSteps(), versionQueues: () => [...this.routed],
    });
  }

  async start(): Promise<void> {
    await this.options.backend.connect({
      onCancel: (runId) => this.signals.abortRun(runId, new AttemptAborted('cancelled-by-user', `run ${runId}`)),
      onReconnect: () => this.outages.reconnected(),
    });
    for (const queue of this.options.queues) this.consume(queue);
    await this.watchRoutes();
    this.routeTimer = setInterval(() => void this.watchRoutes(), ROUTE_POLL_MS);
    this.routeTimer.unref();
    await this.presence.start();
    this.options.logger.info('worker started', { worker: this.id, queues: this.options.queues, pipelines: this.options.pipelines.map((p) => p.id) });
  }

  /**
   * Graceful stop: take no new jobs, let running steps finish for up to `drainMs`, then abort the rest
   * and hand them back to the queue (not counted as attempts). Every wait after the drain timeout is
   * bounded, so a worker whose Redis is unreachable still exits soon after it.
   */
  close(drainMs = 30_000): Promise<void> {
    // A second call (a second signal) waits for the same drain instead of returning at once.
    this.closed ??= this.drainAndClose(drainMs);
    return this.closed;
  }

  private async drainAndClose(drainMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.routeTimer);
    const drained = Promise.all(this.consumers.map((c) => c.close())).catch(() => {});
    const timedOut = await Promise.race([drained.then(() => false), sleep(drainMs).then(() => true)]);
    // From here on every wait shares one deadline: Redis may be unreachable, and the orchestrator's
    // grace period (drain timeout + a few seconds) must not run out before we exit.
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    if (timedOut) {
      this.options.logger.warn('drain timed out: handing running steps back to the queue', { running: this.activeSteps() });
      this.signals.abortAll(new AttemptAborted('worker-shutdown', 'step (worker shutdown)'));
      // Aborted steps end at once; handing each back is one script and one queue move.
      await until(drained, deadline);
      await until(Promise.all(this.consumers.map((c) => c.close(true))), deadline);
    }
    await until(this.presence.stop(), deadline);
    await until(this.options.backend.disconnect(), deadline);
  }

  activeSteps(): number {
    return this.signals.size;
  }

  private consume(queue: string): void {
    this.consumers.push(
      this.options.backend.consume(queue, this.id, this.options.concurrency, {
        process: (job) => this.jobs.process(job),
        // A pickup job holds no step: if the queue gives up on it, its claimed steps' leases run out.
        onAbandoned: (job, reason) => void (isPickup(job.data) || this.abandon(job.data.r, job.data.s, reason)),
        // Another delivery may own these steps now: stop their handlers; their end is a hand-back.
        onLockLost: (jobIds) => this.signals.abortJobs(jobIds, new AttemptAborted('lock-lost', 'step (its job lock was lost)')),
        onError: (error) => this.outages.queueError(queue, error),
      }),
    );
  }

  /** Starts consuming each version queue whose steps this worker can run (one read of the routes hash). */
  private async watchRoutes(): Promise<void> {
    if (this.closing) return;
    try {
      const routes = await this.lifecycle.routes();
      // close() may have begun while the routes were read: it closes only the consumers it saw then,
      // so a queue consumed from here on would take jobs during the drain and outlive it.
      if (this.closing) return;
      for (const { queue, route } of routes) {
        if (this.routed.has(queue) || !this.capabilities.canServe(route)) continue;
        this.routed.add(queue);
        this.consume(queue);
        this.options.logger.info('serving version queue', { queue });
      }
    } catch (thrown) {
      this.options.logger.debug('could not read version queues', { error: coerceError(thrown).message });
    }
  }

  /** The queue gave up on a job without our processor finishing it (e.g. it crashed its worker every time). */
  private async abandon(runId: string, step: string, reason: string): Promise<void> {
    try {
      await this.lifecycle.abandon(runId, step, `step abandoned after repeated worker loss: ${reason}`);
    } catch (thrown) {
      this.options.logger.error('could not record abandoned step', { runId, step, error: coerceError(thrown).message });
    }
  }
}

/** How often a worker looks for new version queues it could serve (one HGETALL of a small hash). */
const ROUTE_POLL_MS = 1_000;
