import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Pipeline } from '../../src/dsl/pipeline.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { startWorkerHost, type WorkerHost, type WorkerHostOptions } from '../../src/app/worker-host.ts';
import type { TestRedis } from './redis-server.ts';

/** A connected runtime on the test's private Redis, under a fresh prefix so tests in a file do not collide. */
export async function testRuntime(redis: TestRedis, overrides: Record<string, string> = {}): Promise<Runtime> {
  const config = loadConfig(
    {
      REDIS_URL: redis.url,
      CONVEYOR_PREFIX: `t${randomBytes(4).toString('hex')}`,
      CONVEYOR_LOG_LEVEL: 'silent',
      CONVEYOR_STALLED_INTERVAL: '1s',
      CONVEYOR_LOCK_DURATION: '2s',
      ...overrides,
    },
    {},
  );
  return createRuntime(config, { logger: silentLogger });
}

export async function withWorker(runtime: Runtime, pipelines: Pipeline<any, any>[], options: Partial<WorkerHostOptions> = {}): Promise<WorkerHost> {
  return startWorkerHost(runtime, { pipelines, concurrency: 8, reconcileEveryMs: 500, reconcileIdleMs: 1_000, ...options });
}
