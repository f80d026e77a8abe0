import type { EngineEvent } from '../engine/engine.ts';
import { coerceError } from '../core/coerce-error.ts';
import { ConfigError } from '../errors/conveyor-error.ts';
import { MetricsHub, type KnownPipeline, type MetricsHubOptions } from '../monitoring/metrics-hub.ts';
import type { MetricsServer } from '../monitoring/metrics-server.ts';
import type { MonitoringEvent } from '../monitoring/events.ts';
import type { SchedulerEvent } from '../scheduler/events.ts';
import { createStepMonitorClient, type StepMonitorClient } from '../monitoring/step-monitor-client.ts';
import { ModelMetricsStore, type RetentionPolicy } from '../redis/model-metrics-store.ts';
import { liveWorkers } from '../redis/worker-presence.ts';
import { parseRoutes, routeVersion } from '../domain/step-routes.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import { postWebhook, type WebhookOptions } from '../registry/webhook.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { Runtime } from './runtime.ts';
import type { WorkerHost } from './worker-host.ts';

export { MetricsHub, type MetricsHubOptions } from '../monitoring/metrics-hub.ts';
export { createStepMonitorClient, isStepMonitorClient, type StepMonitorClient, type MonitorPoint } from '../monitoring/step-monitor-client.ts';
export { ModelMetricsStore, type ModelMetricPoint, type ModelMetricLatest, type RetentionPolicy } from '../redis/model-metrics-store.ts';

export interface AttachMetricsOptions {
  /** A hub made beforehand (e.g. shared by several runtimes in a test); default: a new one. */
  hub?: MetricsHub;
  hubOptions?: MetricsHubOptions;
  /** Its step events feed the step metrics; its queues are reported even when idle. */
  workerHost?: WorkerHost;
  /** Alias moves feed `conveyor_model_alias_changes_total`; its artifact store size is reported. Default runtime.registry. */
  registry?: ModelRegistry;
  /** More queues to report (besides the worker host's, config.queues and those live workers serve). */
  queues?: string[];
  /** Their labelled counters start at 0 (runs, retries, ticks), so panels and alerts see 0 rather than no data. */
  pipelines?: readonly Pipeline<any, any>[];
  /** Serve /metrics and /healthz. Default: config.metricsPort on config.metricsHost; `false` or port 0: no server. */
  serve?: { port: number; host?: string } | false;
  /** POST failed runs here; default config.failureWebhook; `false` turns it off. */
  failureWebhook?: string | false;
  webhookOptions?: WebhookOptions;
  modelMetricRetention?: Partial<RetentionPolicy>;
  /** When the port is taken: 'throw' (default) or 'warn' and go on without a server (several workers on one host). */
  onServeError?: 'throw' | 'warn';
}

export interface MetricsAttachment {
  hub: MetricsHub;
  /** Undefined when serving is off. */
  server: MetricsServer | undefined;
  modelMetrics: ModelMetricsStore;
  /** Pass as `onEvent` when constructing a Scheduler (it takes its listener at construction). */
  onSchedulerEvent: (event: SchedulerEvent) => void;
  /** For `ctx.monitor`: StepServices.monitor. One client serves every step of this process. */
  monitor: StepMonitorClient;
  /** Waits for failure notifications still being delivered. */
  flush(): Promise<void>;
  /** Detaches listeners, stops the server and the hub's sampler. Does not close the runtime. */
  close(): Promise<void>;
}

/** Artifact directories can be large: walk them at most once a minute. */
const ARTIFACT_SIZE_TTL_MS = 60_000;

/**
 * Connects a process's events to Prometheus metrics and serves them. Call it once per process
 * (worker, scheduler, API) right after `createRuntime` / `startWorkerHost`:
 *
 *   const metrics = await attachMetrics(runtime, { workerHost, registry });
 *   new Scheduler({ ..., onEvent: metrics.onSchedulerEvent });
 *
 * Counters (runs, steps, ticks) count what happened in this process; gauges read at scrape time
 * (queues, workers, Redis, model metrics, data quality) describe the whole deployment, so every
 * process reports the same values and dashboards aggregate them with `max`.
 */
export async function attachMetrics(runtime: Runtime, options: AttachMetricsOptions = {}): Promise<MetricsAttachment> {
  const hub = options.hub ?? new MetricsHub(options.hubOptions);
  const record = (event: MonitoringEvent) => hub.record(event);
  const detach: Array<() => void> = [];
  const modelMetrics = new ModelMetricsStore(runtime.redis, runtime.keys, options.modelMetricRetention);

  if (options.pipelines) hub.declarePipelines(options.pipelines.map(knownPipeline));
  detach.push(runtime.onEngineEvent(record));
  if (options.workerHost) detach.push(options.workerHost.onEvent(record));
  const registry = options.registry ?? runtime.registry;
  if (registry) detach.push(registry.onAliasMoved((event) => hub.record({ type: 'alias-moved', event })));

  const fixedQueues = new Set([...(options.queues ?? []), ...(options.workerHost?.queues ?? []), ...(runtime.config.queues ?? [])]);
  hub.addCollector('cluster', async (h) => {
    const now = runtime.clock.now();
    const workers = await liveWorkers(runtime.redis, runtime.keys, now);
    h.setWorkers(workers);
    // Version queues too (`<queue>~<pipeline>~<version>`, see docs/internals.md): what waits in them
    // waits for a worker with that pipeline version (steps_waiting_for_worker).
    const routes = new Map(parseRoutes(await runtime.store.routes()).map(({ queue, route }) => [queue, route]));
    const queues = [...new Set([...fixedQueues, ...workers.flatMap((w) => w.queues), ...routes.keys()])].sort();
    const stats = await Promise.all(
      queues.map(async (queue) => {
        const route = routes.get(queue);
        return {
          queue,
          counts: await runtime.queues.counts(queue),
          oldestWaitingAgeMs: await runtime.queues.oldestWaitingAgeMs(queue, now),
          // The version as `waiting for a worker with <pipeline>@<version>` names it (status, API, CLI).
          ...(route ? { waitingFor: { pipeline: route.pipeline, version: routeVersion(route) } } : {}),
        };
      }),
    );
    h.setQueueStats(stats);
  });
  hub.addCollector('redis', async (h) => {
    const [memory, clients] = await Promise.all([runtime.redis.info('memory'), runtime.redis.info('clients')]);
    h.setRedisInfo(`${memory}\n${clients}`);
  });
  hub.addCollector('model-metrics', async (h) => {
    h.setModelMetrics(await modelMetrics.latest());
    for (const dataset of await modelMetrics.dataQuality()) h.setDataQuality(dataset.figures);
  });
  if (registry) {
    const artifacts = registry.artifacts;
    let cached: { at: number; bytes: number } | undefined;
    hub.addCollector('artifacts', async (h) => {
      const now = Date.now();
      if (!cached || now - cached.at > ARTIFACT_SIZE_TTL_MS) cached = { at: now, bytes: await artifacts.sizeBytes() };
      h.setArtifactStoreBytes(cached.bytes);
    });
  }

  const notifier = createFailureNotifier(runtime, options.failureWebhook === false ? undefined : (options.failureWebhook ?? runtime.config.failureWebhook), options.webhookOptions);
  if (notifier) detach.push(runtime.onEngineEvent(notifier.listener));

  const serve = options.serve === undefined ? { port: runtime.config.metricsPort, host: runtime.config.metricsHost } : options.serve;
  let server: MetricsServer | undefined;
  if (serve && serve.port > 0) {
    try {
      server = await hub.startMetricsServer({ port: serve.port, host: serve.host, health: async () => void (await runtime.redis.ping()) });
      runtime.logger.info('metrics server listening', { url: `${server.url}/metrics` });
    } catch (error) {
      const message = `metrics server: could not listen on ${serve.host ?? runtime.config.metricsHost}:${serve.port} (${coerceError(error).message}); set CONVEYOR_METRICS_PORT to a free port, or 0 to turn it off`;
      if (options.onServeError !== 'warn') {
        for (const off of detach) off();
        if (!options.hub) hub.close();
        throw new ConfigError(message);
      }
      runtime.logger.warn(`${message}; running without /metrics`);
    }
  }

  return {
    hub,
    server,
    modelMetrics,
    onSchedulerEvent: record,
    monitor: createStepMonitorClient(modelMetrics, { onEvent: record }),
    flush: async () => notifier?.flush(),
    async close() {
      for (const off of detach) off();
      await notifier?.flush();
      await server?.close();
      if (!options.hub) hub.close();
    },
  };
}

function knownPipeline(pipeline: Pipeline<any, any>): KnownPipeline {
  const { id, steps, schedules } = pipeline.spec;
  return { id, steps: steps.map((s) => s.name), schedules: schedules.map((s, i) => s.name ?? String(i)) };
}

export interface FailureNotification {
  runId: string;
  pipeline: string;
  status: string;
  failedSteps: Array<{ step: string; error: string | undefined; attempts: number }>;
  durationMs: number;
  finishedAt: string;
}

/**
 * An engine listener that POSTs every failed run to `url` (retried with backoff by postWebhook).
 * Delivery is at least once: receivers should de-duplicate by runId.
 */
export function createFailureNotifier(runtime: Runtime, url: string | undefined, options: WebhookOptions = {}): { listener: (event: EngineEvent) => void; flush(): Promise<void> } | undefined {
  if (!url) return undefined;
  const pending = new Set<Promise<void>>();
  const send = async (event: Extract<EngineEvent, { type: 'run-finished' }>) => {
    const body: FailureNotification = {
      runId: event.runId,
      pipeline: event.pipeline,
      status: event.status,
      failedSteps: [],
      durationMs: event.durationMs,
      finishedAt: new Date(runtime.clock.now()).toISOString(),
    };
    try {
      const run = await runtime.engine.getRun(event.runId);
      body.failedSteps = Object.entries(run.steps)
        .filter(([, s]) => s.status === 'failed')
        .map(([step, s]) => ({ step, error: errorMessage(s.error), attempts: s.attempts }));
      if (run.finishedAt) body.finishedAt = new Date(run.finishedAt).toISOString();
    } catch (error) {
      runtime.logger.warn('failure webhook: could not read the run; sending without step details', { runId: event.runId, error: coerceError(error).message });
    }
    try {
      const result = await postWebhook(url, body, options);
      runtime.logger.info('failure webhook delivered', { runId: event.runId, status: result.status, attempts: result.attempts });
    } catch (error) {
      runtime.logger.error('failure webhook not delivered', { runId: event.runId, error: coerceError(error).message });
    }
  };
  return {
    listener(event) {
      if (event.type !== 'run-finished' || event.status !== 'failed') return;
      const p = send(event).finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

function errorMessage(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return JSON.stringify(error);
}

export interface MonitorSnapshot {
  at: number;
  workers: Array<{ id: string; host: string; queues: string[]; running: number; lastSeenMsAgo: number }>;
  queues: Array<{ queue: string; counts: Record<string, number>; oldestWaitingAgeMs: number }>;
  runs: Array<{ id: string; pipeline: string; status: string; createdAt: number; durationMs: number | undefined }>;
  models: Array<{ model: string; metric: string; version: string; value: number; at: number; trend: number[] }>;
}

/** One frame of `conveyor monitor`: live workers, queue backlogs, recent runs, model metric trends. */
export async function monitorSnapshot(runtime: Runtime, options: { model?: string; runs?: number; points?: number } = {}): Promise<MonitorSnapshot> {
  const at = runtime.clock.now();
  const store = new ModelMetricsStore(runtime.redis, runtime.keys);
  const [workers, runs, latest] = await Promise.all([
    liveWorkers(runtime.redis, runtime.keys, at),
    runtime.engine.listRuns({ limit: options.runs ?? 10 }),
    store.latest({ model: options.model }),
  ]);
  const queueNames = [...new Set([...(runtime.config.queues ?? []), ...workers.flatMap((w) => w.queues), ...['default']])].sort();
  const queues = await Promise.all(
    queueNames.map(async (queue) => ({ queue, counts: await runtime.queues.counts(queue), oldestWaitingAgeMs: await runtime.queues.oldestWaitingAgeMs(queue, at) })),
  );
  const models = await Promise.all(
    latest.map(async (l) => ({ ...l, trend: (await store.series(l.model, l.metric, { limit: options.points ?? 30 })).map((p) => p.value) })),
  );
  return {
    at,
    workers: workers.map((w) => ({ id: w.id, host: w.host, queues: w.queues, running: w.running, lastSeenMsAgo: Math.max(0, at - w.lastSeen) })),
    queues,
    runs: runs.map((r) => ({ id: r.id, pipeline: r.pipeline, status: r.status, createdAt: r.createdAt, durationMs: r.finishedAt ? r.finishedAt - r.createdAt : undefined })),
    models,
  };
}
