/** Shared by the fleet tests: one private Redis per file, worker groups started from fixture folders. */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { killAll, newPrefix, ROOT, startCliWorker, type WorkerProc } from '../fixtures/procs.ts';
import { fxClient, fxRuntime } from '../fixtures/fx-runtime.ts';
import type { Runtime } from '../../src/app/runtime.ts';

export const FOLDER = (name: string) => join(ROOT, 'test/fixtures/pipelines', name);

export interface Fleet {
  redis: TestRedis;
  journal: Redis;
  /** A fresh prefix and a runtime of the test process on it. */
  setup(): Promise<{ prefix: string; runtime: Runtime }>;
  /** `count` real `conveyor worker` processes serving a fixture folder. */
  workers(prefix: string, folder: string, count: number, extra?: Record<string, string>): Promise<WorkerProc[]>;
  close(): Promise<void>;
}

export async function startFleet(): Promise<Fleet> {
  const redis = await startTestRedis();
  const journal = fxClient(redis.url);
  const procs: WorkerProc[] = [];
  const runtimes: Runtime[] = [];
  return {
    redis,
    journal,
    async setup() {
      const prefix = newPrefix();
      const runtime = await fxRuntime(redis.url, prefix);
      runtimes.push(runtime);
      return { prefix, runtime };
    },
    async workers(prefix, folder, count, extra = {}) {
      // One at a time: several processes compiling their pipelines at once on a loaded CI machine
      // can each miss the start deadline.
      const started: WorkerProc[] = [];
      for (let i = 0; i < count; i++) {
        const worker = await startCliWorker({ redisUrl: redis.url, prefix, pipelines: FOLDER(folder), concurrency: 4, extra });
        procs.push(worker);
        started.push(worker);
      }
      return started;
    },
    async close() {
      await killAll(procs);
      await Promise.all(runtimes.map((r) => r.close().catch(() => {})));
      journal.disconnect();
      await redis.destroy();
    },
  };
}
