import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataQualityEvent, ModelMetricEvent, MonitoringEvent, ReportFigure } from './events.ts';
import { LabelGuard, baseStepName } from './label-guard.ts';
import { MemorySampler } from './memory-sampler.ts';
import { startMetricsServer as serveMetrics, type MetricsServer, type MetricsServerOptions } from './metrics-server.ts';

export const METRIC_PREFIX = 'conveyor_';

/** Seconds; steps run from milliseconds (a lookup) to hours (training). */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600];
/** Seconds between a step finishing and its successor starting. */
const HANDOFF_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];
const LATENESS_BUCKETS = [0.1, 0.5, 1, 2, 5, 15, 60, 300, 3600];

export interface QueueStats {
  queue: string;
  /** BullMQ job counts by state (wait, active, delayed, failed, prioritized). */
  counts: Record<string, number>;
  oldestWaitingAgeMs: number;
  /** Set for a version queue: its steps wait for a worker with this pipeline at this version. */
  waitingFor?: { pipeline: string; version: string };
}

export interface WorkerStats {
  queues: string[];
  running: number;
}

/**
 * prom-client also reports `nodejs_active_{handles,requests,resources}_total` gauges, which `promtool
 * check metrics` rejects ("non-counter metrics should not have _total suffix"). They are the sums of
 * the per-type `nodejs_active_*` gauges it reports beside them: drop them.
 */
function dropSuffixedGauges(registry: Registry, prefix: string): void {
  for (const what of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`${prefix}nodejs_active_${what}_total`);
}

/** What a process knows up front: its pipelines, their steps and schedules (plain data: monitoring does not import dsl). */
export interface KnownPipeline {
  id: string;
  steps: readonly string[];
  schedules: readonly string[];
}

/** Label values that panels and alerts select on; their counters are created at 0 so queries see 0, not "no data". */
const RUN_TRIGGERS = ['manual', 'schedule', 'event', 'retry'] as const;
const RUN_FINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
const TICK_SKIP_REASONS = ['missed', 'overlap', 'paused', 'queue-full'] as const;
const SCHEDULER_ERROR_KINDS = ['tick', 'scheduler'] as const;

/** Gathers figures at scrape time (queue depth, Redis INFO...) and hands them to the hub's setters. */
export type Collector = (hub: MetricsHub) => Promise<void>;

export interface MetricsHubOptions {
  /** Process CPU/memory, event loop lag, GC (prom-client default metrics). Default true. */
  defaultMetrics?: boolean;
  /** Distinct values a label may take before it reports `_other`. Default 500. */
  labelLimit?: number;
  /** A per-step peak RSS sampler (a 250 ms timer, unref'd). Default true. */
  sampleMemory?: boolean;
  /** Versions kept per model and metric in `conveyor_model_metric` from events (older series are removed). Default 1. */
  versionsPerModel?: number;
  /** Longest a collector may take during a scrape. Default 5 s. */
  collectTimeoutMs?: number;
}

/**
 * Prometheus metrics for Conveyor, fed by typed events (`record`) and by collectors run on each
 * scrape. Labels never carry run ids: every series is bounded by pipelines, steps, queues, models and
 * datasets, and a `LabelGuard` caps each label regardless.
 */
export class MetricsHub {
  readonly registry = new Registry();
  private readonly guard: LabelGuard;
  private readonly memory: MemorySampler | undefined;
  private readonly collectors = new Map<string, Collector>();
  private readonly modelVersions = new Map<string, string[]>();
  private readonly versionsPerModel: number;
  private readonly collectTimeoutMs: number;

  readonly runsStarted: Counter<'pipeline' | 'trigger'>;
  readonly runsFinished: Counter<'pipeline' | 'status'>;
  readonly runDuration: Histogram<'pipeline' | 'status'>;
  readonly stepDuration: Histogram<'pipeline' | 'step' | 'status'>;
  readonly stepRetries: Counter<'pipeline' | 'step'>;
  readonly staleCompletions: Counter;
  readonly stepHandBacks: Counter;
  readonly stepEagerClaims: Counter;
  readonly stepsWaitingForWorker: Gauge;
  readonly redisRefusedWrites: Counter<'write'>;
  readonly handoffLatency: Histogram<'pipeline'>;
  readonly stepCpu: Counter<'pipeline' | 'step'>;
  readonly stepPeakRss: Gauge<'pipeline' | 'step'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly queueOldest: Gauge<'queue'>;
  readonly workersActive: Gauge;
  readonly workersByQueue: Gauge<'queue'>;
  readonly workerRunningSteps: Gauge;
  readonly tickLateness: Histogram<'pipeline' | 'schedule'>;
  readonly ticksFired: Counter<'pipeline' | 'schedule' | 'catchup'>;
  readonly ticksSkipped: Counter<'pipeline' | 'schedule' | 'reason'>;
  readonly ticksCaughtUp: Counter<'pipeline' | 'schedule'>;
  readonly ticksQueued: Counter<'pipeline' | 'schedule'>;
  readonly schedulerErrors: Counter<'kind'>;
  readonly modelMetric: Gauge<'model' | 'version' | 'metric'>;
  readonly modelMetricTime: Gauge<'model' | 'metric'>;
  readonly aliasChanges: Counter<'model' | 'alias' | 'action'>;
  readonly dataNullRate: Gauge<'dataset' | 'feature'>;
  readonly dataDriftPsi: Gauge<'dataset' | 'feature'>;
  readonly dataDriftKs: Gauge<'dataset' | 'feature'>;
  readonly dataCheckPassed: Gauge<'dataset' | 'check'>;
  readonly dataChecks: Counter<'dataset' | 'check' | 'result'>;
  readonly artifactBytes: Gauge;
  readonly redisUsedMemory: Gauge;
  readonly redisClients: Gauge;
  readonly collectErrors: Counter<'collector'>;

  constructor(options: MetricsHubOptions = {}) {
    this.guard = new LabelGuard(options.labelLimit ?? 500);
    this.versionsPerModel = Math.max(1, options.versionsPerModel ?? 1);
    this.collectTimeoutMs = options.collectTimeoutMs ?? 5_000;
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Counter<L>({ name: p + name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name: p + name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name: p + name, help, labelNames, buckets, registers });

    this.runsStarted = counter('runs_started_total', 'Runs created, by pipeline and trigger type.', ['pipeline', 'trigger']);
    this.runsFinished = counter('runs_finished_total', 'Runs that reached a final status.', ['pipeline', 'status']);
    this.runDuration = histogram('run_duration_seconds', 'Run wall time from creation to final status.', ['pipeline', 'status'], DURATION_BUCKETS);
    this.stepDuration = histogram('step_duration_seconds', 'Step attempt wall time (final attempts: succeeded, failed or skipped).', ['pipeline', 'step', 'status'], DURATION_BUCKETS);
    this.stepRetries = counter('step_retries_total', 'Step attempts that failed and were scheduled again.', ['pipeline', 'step']);
    this.redisRefusedWrites = counter('redis_oom_refused_writes_total', 'Worker writes Redis refused for memory (OOM) and that were retried, by write (start, complete, logs, enqueue, ...).', ['write']);
    this.staleCompletions = counter('step_stale_completions_total', 'Completions rejected because another delivery owned the step (lost lock).');
    this.stepHandBacks = counter('step_hand_backs_total', 'Attempts handed back to the queue without counting as one (reason: worker-shutdown, infrastructure).', ['pipeline', 'reason']);
    this.stepEagerClaims = counter('step_eager_claims_total', 'Steps a completion handed straight to its worker (eager dispatch), skipping the queue.', ['pipeline']);
    this.stepsWaitingForWorker = gauge('steps_waiting_for_worker', 'Steps waiting for a worker with their pipeline at this version (read at scrape time).', ['pipeline', 'version']);
    this.handoffLatency = histogram('step_handoff_latency_seconds', 'Time from an upstream step finishing to its successor starting.', ['pipeline'], HANDOFF_BUCKETS);
    this.stepCpu = counter('step_cpu_seconds_total', 'CPU time (user + system) of the worker process while the step ran.', ['pipeline', 'step']);
    this.stepPeakRss = gauge('step_peak_rss_bytes', "Peak resident memory of the worker process during the step's latest attempt.", ['pipeline', 'step']);
    this.queueJobs = gauge('queue_jobs', 'Jobs in each queue by state (read from BullMQ at scrape time).', ['queue', 'state']);
    this.queueOldest = gauge('queue_oldest_waiting_age_seconds', 'Age of the oldest job waiting in the queue (0 when none waits).', ['queue']);
    this.workersActive = gauge('workers_active', 'Workers that sent a heartbeat within the last 15 s.');
    this.workersByQueue = gauge('workers_by_queue', 'Live workers serving each queue.', ['queue']);
    this.workerRunningSteps = gauge('workers_running_steps', 'Steps running on all live workers.');
    this.tickLateness = histogram('scheduler_tick_lateness_seconds', 'Delay between a schedule tick and the launch of its run.', ['pipeline', 'schedule'], LATENESS_BUCKETS);
    this.ticksFired = counter('scheduler_ticks_fired_total', 'Schedule ticks that launched a run (catchup="true": fired while catching up).', ['pipeline', 'schedule', 'catchup']);
    this.ticksSkipped = counter('scheduler_ticks_skipped_total', 'Schedule ticks that launched nothing, by reason (missed, overlap, paused, queue-full).', ['pipeline', 'schedule', 'reason']);
    this.ticksCaughtUp = counter('scheduler_ticks_caught_up_total', 'Ticks fired by catch-up after scheduler downtime.', ['pipeline', 'schedule']);
    this.ticksQueued = counter('scheduler_ticks_queued_total', 'Ticks held back by the overlap policy "queue".', ['pipeline', 'schedule']);
    this.schedulerErrors = counter('scheduler_errors_total', 'Scheduler failures (kind="tick": a launch failed).', ['kind']);
    this.modelMetric = gauge('model_metric', 'Latest recorded value of a model metric (e.g. live accuracy).', ['model', 'version', 'metric']);
    this.modelMetricTime = gauge('model_metric_timestamp_seconds', 'When the latest value of a model metric was recorded.', ['model', 'metric']);
    this.aliasChanges = counter('model_alias_changes_total', 'Registry alias moves (set, rollback, delete).', ['model', 'alias', 'action']);
    this.dataNullRate = gauge('data_null_rate', 'Share of missing values per column in the latest validated batch.', ['dataset', 'feature']);
    this.dataDriftPsi = gauge('data_drift_psi', 'Population stability index of a feature against the reference data.', ['dataset', 'feature']);
    this.dataDriftKs = gauge('data_drift_ks', 'Kolmogorov-Smirnov D of a numeric feature against the reference data.', ['dataset', 'feature']);
    this.dataCheckPassed = gauge('data_check_passed', '1 when the data check passed on the latest batch, else 0.', ['dataset', 'check']);
    this.dataChecks = counter('data_checks_total', 'Data check results (result="passed"|"failed").', ['dataset', 'check', 'result']);
    this.artifactBytes = gauge('artifact_store_bytes', 'Bytes held by the artifact store.');
    this.redisUsedMemory = gauge('redis_used_memory_bytes', 'Redis INFO used_memory.');
    this.redisClients = gauge('redis_connected_clients', 'Redis INFO connected_clients.');
    this.collectErrors = counter('metrics_collect_errors_total', 'Scrape-time collectors that failed or timed out.', ['collector']);

    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: p });
      dropSuffixedGauges(this.registry, p);
    }
    if (options.sampleMemory !== false) {
      this.memory = new MemorySampler();
      this.memory.start();
    }
  }

  private l(label: string, value: string | undefined): string {
    return this.guard.value(label, value);
  }

  /** Records one event; unknown event types are ignored (newer emitters, older hub). */
  record(event: MonitoringEvent): void {
    switch (event.type) {
      case 'run-started':
        this.runsStarted.inc({ pipeline: this.l('pipeline', event.pipeline), trigger: this.l('trigger', event.trigger) });
        return;
      case 'run-finished': {
        const labels = { pipeline: this.l('pipeline', event.pipeline), status: this.l('status', event.status) };
        this.runsFinished.inc(labels);
        this.runDuration.observe(labels, Math.max(0, event.durationMs) / 1000);
        return;
      }
      case 'step-finished': {
        const pipeline = this.l('pipeline', event.pipeline);
        const step = this.l('step', baseStepName(event.step));
        this.stepDuration.observe({ pipeline, step, status: this.l('status', event.status) }, Math.max(0, event.durationMs) / 1000);
        // inc(0) too: the series exists from a step's first finish, whatever the CPU sampling saw.
        this.stepCpu.inc({ pipeline, step }, Math.max(0, event.cpuMs) / 1000);
        if (this.memory && event.status !== 'skipped') this.stepPeakRss.set({ pipeline, step }, this.memory.peakSince(Date.now() - event.durationMs));
        return;
      }
      case 'step-retry':
        this.stepRetries.inc({ pipeline: this.l('pipeline', event.pipeline), step: this.l('step', baseStepName(event.step)) });
        return;
      case 'stale-completion':
        this.staleCompletions.inc();
        return;
      case 'step-handed-back':
        this.stepHandBacks.inc({ pipeline: this.l('pipeline', event.pipeline), reason: this.l('reason', event.reason) });
        return;
      case 'step-claimed':
        this.stepEagerClaims.inc({ pipeline: this.l('pipeline', event.pipeline) });
        return;
      case 'redis-refused':
        this.redisRefusedWrites.inc({ write: this.l('write', event.write) });
        return;
      case 'handoff':
        this.handoffLatency.observe({ pipeline: this.l('pipeline', event.pipeline) }, Math.max(0, event.latencyMs) / 1000);
        return;
      case 'tick-fired': {
        const labels = { pipeline: this.l('pipeline', event.pipeline), schedule: this.l('schedule', event.schedule) };
        this.tickLateness.observe(labels, Math.max(0, event.latenessMs) / 1000);
        this.ticksFired.inc({ ...labels, catchup: String(event.catchup) });
        return;
      }
      case 'tick-skipped':
        this.ticksSkipped.inc({ pipeline: this.l('pipeline', event.pipeline), schedule: this.l('schedule', event.schedule), reason: this.l('reason', event.reason) });
        return;
      case 'tick-queued':
        this.ticksQueued.inc({ pipeline: this.l('pipeline', event.pipeline), schedule: this.l('schedule', event.schedule) });
        return;
      case 'tick-caught-up': {
        const labels = { pipeline: this.l('pipeline', event.pipeline), schedule: this.l('schedule', event.schedule) };
        // Dropped ticks are counted one by one by their own tick-skipped events.
        this.ticksCaughtUp.inc(labels, event.fired);
        return;
      }
      case 'tick-failed':
        this.schedulerErrors.inc({ kind: 'tick' });
        return;
      case 'scheduler-error':
        this.schedulerErrors.inc({ kind: 'scheduler' });
        return;
      case 'model-metric':
        this.setModelMetric(event);
        return;
      case 'alias-moved':
        this.aliasChanges.inc({ model: this.l('model', event.event.model), alias: this.l('alias', event.event.alias), action: event.event.action });
        return;
      case 'data-quality':
        this.recordDataQuality(event);
        return;
      default:
        return;
    }
  }

  private setModelMetric(event: Omit<ModelMetricEvent, 'type'>): void {
    const model = this.l('model', event.model);
    const metric = this.l('metric', event.metric);
    const version = this.l('version', event.version);
    // Keep only the newest versions' series: versions grow forever, dashboards want the current one.
    const key = `${model}\u0000${metric}`;
    const versions = (this.modelVersions.get(key) ?? []).filter((v) => v !== version);
    versions.push(version);
    while (versions.length > this.versionsPerModel) this.modelMetric.remove({ model, metric, version: versions.shift()! });
    this.modelVersions.set(key, versions);
    this.modelMetric.set({ model, version, metric }, event.value);
    this.modelMetricTime.set({ model, metric }, event.at / 1000);
  }

  private recordDataQuality(event: DataQualityEvent): void {
    this.setDataQuality(event.figures);
    for (const f of event.figures) {
      if (f.metric !== 'check_passed') continue;
      this.dataChecks.inc({ dataset: this.l('dataset', f.dataset), check: this.l('check', f.check), result: f.value >= 1 ? 'passed' : 'failed' });
    }
  }

  /** Sets the data-quality gauges (no counters): for events and for scrape-time reads of the latest figures. */
  setDataQuality(figures: readonly ReportFigure[]): void {
    for (const f of figures) {
      const dataset = this.l('dataset', f.dataset);
      if (f.metric === 'check_passed') this.dataCheckPassed.set({ dataset, check: this.l('check', f.check) }, f.value);
      else if (Number.isFinite(f.value)) {
        const gauge = f.metric === 'null_rate' ? this.dataNullRate : f.metric === 'drift_psi' ? this.dataDriftPsi : this.dataDriftKs;
        gauge.set({ dataset, feature: this.l('feature', f.feature) }, f.value);
      }
    }
  }

  /** Replaces every model-metric series with these latest points (scrape of the Redis time series). */
  setModelMetrics(latest: ReadonlyArray<{ model: string; version: string; metric: string; value: number; at: number }>): void {
    this.modelMetric.reset();
    this.modelMetricTime.reset();
    this.modelVersions.clear();
    for (const point of latest) this.setModelMetric(point);
  }

  setQueueStats(stats: readonly QueueStats[]): void {
    this.queueJobs.reset();
    this.queueOldest.reset();
    this.stepsWaitingForWorker.reset();
    for (const s of stats) {
      const queue = this.l('queue', s.queue);
      for (const [state, n] of Object.entries(s.counts)) this.queueJobs.set({ queue, state: this.l('state', state) }, n);
      this.queueOldest.set({ queue }, s.oldestWaitingAgeMs / 1000);
      if (s.waitingFor) {
        const waiting = (s.counts.wait ?? 0) + (s.counts.prioritized ?? 0) + (s.counts.delayed ?? 0);
        this.stepsWaitingForWorker.inc({ pipeline: this.l('pipeline', s.waitingFor.pipeline), version: this.l('version', s.waitingFor.version) }, waiting);
      }
    }
  }

  setWorkers(workers: readonly WorkerStats[]): void {
    this.workersActive.set(workers.length);
    this.workerRunningSteps.set(workers.reduce((n, w) => n + w.running, 0));
    this.workersByQueue.reset();
    const byQueue = new Map<string, number>();
    for (const w of workers) for (const q of w.queues) byQueue.set(q, (byQueue.get(q) ?? 0) + 1);
    for (const [queue, n] of byQueue) this.workersByQueue.set({ queue: this.l('queue', queue) }, n);
  }

  /** Takes Redis `INFO` text (any sections) and sets used_memory and connected_clients. */
  setRedisInfo(info: string): void {
    const field = (name: string) => {
      const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
      return m ? Number(m[1]) : undefined;
    };
    const used = field('used_memory');
    const clients = field('connected_clients');
    if (used !== undefined) this.redisUsedMemory.set(used);
    if (clients !== undefined) this.redisClients.set(clients);
  }

  setArtifactStoreBytes(bytes: number): void {
    this.artifactBytes.set(bytes);
  }

  /**
   * Creates the labelled counters of these pipelines at 0 (runs by trigger and status, step retries,
   * schedule ticks). Prometheus has no series for a counter never incremented, so without this a
   * dashboard shows "No data" and `rate(...{status="failed"})` is empty instead of 0 until the first failure.
   */
  declarePipelines(pipelines: readonly KnownPipeline[]): void {
    for (const kind of SCHEDULER_ERROR_KINDS) this.schedulerErrors.inc({ kind }, 0);
    for (const p of pipelines) {
      const pipeline = this.l('pipeline', p.id);
      for (const trigger of RUN_TRIGGERS) this.runsStarted.inc({ pipeline, trigger }, 0);
      for (const status of RUN_FINAL_STATUSES) this.runsFinished.inc({ pipeline, status }, 0);
      for (const name of p.steps) this.stepRetries.inc({ pipeline, step: this.l('step', name) }, 0);
      for (const name of p.schedules) {
        const labels = { pipeline, schedule: this.l('schedule', name) };
        this.ticksCaughtUp.inc(labels, 0);
        this.ticksQueued.inc(labels, 0);
        for (const catchup of ['false', 'true']) this.ticksFired.inc({ ...labels, catchup }, 0);
        for (const reason of TICK_SKIP_REASONS) this.ticksSkipped.inc({ ...labels, reason }, 0);
      }
    }
  }

  /** Registers a scrape-time collector under a name (a second one with the same name replaces it). */
  addCollector(name: string, collector: Collector): void {
    this.collectors.set(name, collector);
    this.collectErrors.inc({ collector: name }, 0);
  }

  /** Runs the collectors (a failing one is counted and skipped), then renders the exposition text. */
  async metrics(): Promise<string> {
    await Promise.all(
      [...this.collectors].map(async ([name, collect]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`collector ${name} took over ${this.collectTimeoutMs} ms`)), this.collectTimeoutMs);
        });
        try {
          await Promise.race([collect(this), timeout]);
        } catch {
          this.collectErrors.inc({ collector: name });
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return this.registry.metrics();
  }

  /** Serves this hub on `/metrics` and `/healthz`. */
  startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
    return serveMetrics(this, options);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops the memory sampler. */
  close(): void {
    this.memory?.stop();
  }
}
