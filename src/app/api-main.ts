import { systemClock } from '../core/clock.ts';
import type { Config } from '../config/schema.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { startRetention } from './retention.ts';
import { createLogger } from './logger.ts';
import { loadPipelines } from './pipeline-loader.ts';
import { startWorkerHost, type WorkerHost } from './worker-host.ts';
import { attachMetrics } from './metrics-wiring.ts';
import { checkAuthSetup, type AuthConfig } from '../api/auth.ts';
import { scheduleService } from './schedule-service.ts';
import { createApiServer, type ApiServer } from '../api/server.ts';
import { apiRuntimeOf } from './api-runtime.ts';

export interface ServeOptions {
  config: Config;
  /** Serve without tokens on 127.0.0.1 only. */
  insecureLocal?: boolean;
  port?: number;
  host?: string;
  /** Also run an in-process worker for the loaded pipelines (local use, tests). */
  withWorker?: boolean;
  /** Pipelines to serve instead of loading `config.pipelinesDir`. */
  pipelines?: Pipeline<any, any>[];
  strictResponses?: boolean;
  metrics?: () => Promise<{ contentType: string; body: string }>;
  onProblem?: (message: string) => void;
}

export interface RunningApi {
  url: string;
  server: ApiServer;
  runtime: Runtime;
  worker: WorkerHost | undefined;
  close(): Promise<void>;
}

/**
 * The API process (composition root for `conveyor serve` and `conveyor dev`). Starts: checks the auth setup first (no token → refuse unless --insecure-local,
 * which binds to loopback), connects, loads pipelines, and listens.
 */
export async function startApi(options: ServeOptions): Promise<RunningApi> {
  const { config } = options;
  const host = options.insecureLocal ? '127.0.0.1' : (options.host ?? config.apiHost);
  const auth: AuthConfig = { adminTokens: config.apiAdminTokens, readTokens: config.apiReadTokens, insecureLocal: options.insecureLocal ?? false };
  checkAuthSetup(auth, host);
  const logger = createLogger(config.logLevel, 'conveyor-api');
  const runtime = await createRuntime(config, { logger });
  let worker: WorkerHost | undefined;
  try {
    let pipelines = options.pipelines;
    if (!pipelines) {
      const loaded = await loadPipelines(config.pipelinesDir, { importTimeoutMs: config.pipelineImportTimeoutMs });
      for (const problem of loaded.problems) options.onProblem?.(problem.message);
      pipelines = loaded.pipelines;
    }
    const schedules = scheduleService({ redis: runtime.redis, keys: runtime.keys, engine: runtime.engine, pipelines, clock: systemClock, logger });
    for (const problem of schedules.problems) options.onProblem?.(problem);
    const registry = runtime.registry;
    // Metrics of this process on CONVEYOR_METRICS_PORT like every other process (that is what
    // Prometheus scrapes), and on the API's own /metrics for a quick look behind the same auth.
    const attached = options.metrics ? undefined : await attachMetrics(runtime, { pipelines, onServeError: 'warn' });
    const metrics = options.metrics ?? (async () => ({ contentType: attached!.hub.contentType, body: await attached!.hub.metrics() }));
    const server = createApiServer({ runtime: apiRuntimeOf(runtime), pipelines, registry, schedules, auth, strictResponses: options.strictResponses, metrics, allowedHosts: config.apiAllowedHosts });
    if (options.withWorker) {
      worker = await startWorkerHost(runtime, { pipelines });
      if (attached) worker.onEvent((event) => attached.hub.record(event));
    }
    const url = await server.listen(options.port ?? config.apiPort, host);
    const retention = startRetention(runtime, { owner: `api:${process.pid}` });
    return {
      url,
      server,
      runtime,
      worker,
      async close() {
        await server.close();
        await retention.stop();
        await worker?.stop(config.drainTimeoutMs);
        await attached?.close();
        await runtime.close();
      },
    };
  } catch (error) {
    await worker?.stop(0).catch(() => {});
    await runtime.close();
    throw error;
  }
}
