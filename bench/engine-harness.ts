import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Pipeline } from '../src/dsl/pipeline.ts';
import { createRuntime, type Runtime } from '../src/app/runtime.ts';
import { startWorkerHost, type WorkerHost } from '../src/app/worker-host.ts';
import type { WorkerEvent } from '../src/worker/worker.ts';

/** A runtime on the bench Redis that reports when each run finishes (from the engine's own event). */
export interface BenchEngine {
  runtime: Runtime;
  host?: WorkerHost;
  /** Triggers a run through the public API and resolves when the engine reports it finished. */
  runToEnd(pipeline: Pipeline<any, any>, timeoutMs?: number): Promise<{ runId: string; ms: number }>;
  close(): Promise<void>;
}

export async function benchEngine(
  url: string,
  options: { pipelines?: Pipeline<any, any>[]; concurrency?: number; onWorkerEvent?: (event: WorkerEvent) => void } = {},
): Promise<BenchEngine> {
  const finished = new Map<string, string>();
  const waiters = new Map<string, () => void>();
  const config = loadConfig({ REDIS_URL: url, CONVEYOR_PREFIX: `b${randomBytes(3).toString('hex')}`, CONVEYOR_LOG_LEVEL: 'silent' }, {});
  const runtime = await createRuntime(config, {
    logger: silentLogger,
    onEngineEvent: (event) => {
      if (event.type !== 'run-finished') return;
      finished.set(event.runId, event.status);
      waiters.get(event.runId)?.();
    },
  });
  const host = options.pipelines?.length
    ? await startWorkerHost(runtime, {
        pipelines: options.pipelines,
        concurrency: options.concurrency ?? 50,
        onEvent: options.onWorkerEvent,
        // The reconciler only acts on idle runs; keep it out of the measured path.
        reconcileEveryMs: 60_000,
        reconcileIdleMs: 120_000,
      })
    : undefined;
  return {
    runtime,
    host,
    async runToEnd(pipeline, timeoutMs = 600_000) {
      const t0 = performance.now();
      const { runId } = await runtime.engine.trigger(pipeline);
      if (!finished.has(runId)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`bench: run ${runId} of "${pipeline.id}" did not finish within ${timeoutMs} ms`)), timeoutMs);
          waiters.set(runId, () => (clearTimeout(timer), resolve()));
        });
      }
      const ms = performance.now() - t0;
      waiters.delete(runId);
      const status = finished.get(runId);
      if (status !== 'succeeded') {
        const view = await runtime.engine.getRun(runId);
        const failed = Object.entries(view.steps).find(([, s]) => s.status === 'failed');
        const why = failed ? `; step "${failed[0]}" failed: ${failed[1].error?.message ?? 'no error recorded'}` : '';
        throw new Error(`bench: run ${runId} of "${pipeline.id}" ended "${status}", expected "succeeded"${why}`);
      }
      return { runId, ms };
    },
    async close() {
      await host?.stop(5_000);
      await runtime.close();
    },
  };
}
