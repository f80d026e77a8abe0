import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors/conveyor-error.ts';
import { createLogger } from './logger.ts';
import { attachMetrics } from './metrics-wiring.ts';
import { loadPipelines } from './pipeline-loader.ts';
import { createRuntime } from './runtime.ts';
import { startWorkerHost, type WorkerHost } from './worker-host.ts';
import { EventTriggers } from './event-triggers.ts';
import { startRetention } from './retention.ts';
import { startOutboxSweeper } from './outbox.ts';

/** How long a starting worker waits for Redis before giving up (orchestrators restart it after). */
const WAIT_FOR_REDIS_MS = 60_000;

export interface WorkerMainOptions {
  config: Config;
  /** Queues to serve (default: config.queues, else every queue the pipelines use). */
  queues?: string[];
  concurrency?: number;
  /** Called for each pipeline file that failed to load (it is skipped, the others are served). */
  onProblem?: (message: string) => void;
  onReady?: (host: WorkerHost) => void;
}

/**
 * A whole worker process: load pipelines, connect, serve until SIGTERM/SIGINT, drain, exit 0.
 * Shared by `conveyor worker` and the deployable entry points in workers/.
 */
export async function runWorkerMain(options: WorkerMainOptions): Promise<void> {
  const { config } = options;
  const loaded = await loadPipelines(config.pipelinesDir, { importTimeoutMs: config.pipelineImportTimeoutMs });
  for (const problem of loaded.problems) options.onProblem?.(problem.message);
  if (loaded.pipelines.length === 0) throw new ConfigError(`no valid pipelines in ${config.pipelinesDir}: nothing to serve`);
  // A worker started before Redis (compose, k8s) waits for it for a while, then fails with one line.
  const runtime = await createRuntime(config, { logger: createLogger(config.logLevel, 'conveyor-worker'), connectTimeoutMs: WAIT_FOR_REDIS_MS });
  // Metrics on config.metricsPort (CONVEYOR_METRICS_PORT=0: none); a port already taken by another
  // worker on this host is a warning, not a reason to stop serving jobs.
  const metrics = await attachMetrics(runtime, { queues: options.queues ?? config.queues, pipelines: loaded.pipelines, onServeError: 'warn' });
  const host = await startWorkerHost(runtime, {
    pipelines: loaded.pipelines,
    queues: options.queues ?? config.queues,
    concurrency: options.concurrency,
    onEvent: (event) => metrics.hub.record(event),
    services: () => ({ monitor: metrics.monitor }),
  });
  // This process finishes runs: it also starts the pipelines that trigger on their success, and
  // delivers such follow-ups that a process which died after finishing a run left in the outbox.
  const triggers = new EventTriggers(runtime, loaded.pipelines);
  runtime.onEngineEvent(triggers.onEngineEvent);
  const outbox = startOutboxSweeper(runtime, triggers);
  const retention = startRetention(runtime, { owner: `worker:${process.pid}` });
  options.onReady?.(host);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await host.stop(config.drainTimeoutMs);
  // Bounded: with Redis unreachable, the periodic tasks' last command and quitting the clients would
  // wait for a reconnect that never comes.
  const closeAll = async () => {
    await Promise.all([retention.stop(), outbox.stop()]).catch(() => {});
    await Promise.all([metrics.close(), runtime.close()]).catch(() => {});
  };
  await Promise.race([closeAll(), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
}

/**
 * What closing servers and Redis clients may take once a process's workers stopped (`conveyor worker`,
 * `conveyor dev`): with Redis unreachable, quitting a client waits for a reconnect that never comes.
 */
export const CLOSE_GRACE_MS = 1_500;
