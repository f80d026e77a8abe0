import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * The baselines: what plain BullMQ does on the same Redis with the same concurrency. `engine` jobs carry
 * the options the engine gives every step job (src/redis/step-queues.ts: custom job id, attempts and
 * backoff, removeOnComplete, removeOnFail by age), so the ratio shows what the engine's bookkeeping
 * costs on top of the queue; `defaults` is BullMQ out of the box (generated ids, completed jobs kept).
 */
export type RawOptions = 'engine' | 'defaults';

function jobOptions(kind: RawOptions, jobId: string): JobsOptions {
  if (kind === 'defaults') return {};
  return { jobId, attempts: 1, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } };
}

export function connection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export async function withQueue<T>(url: string, fn: (queueName: string, prefix: string, client: Redis) => Promise<T>): Promise<T> {
  const client = connection(url);
  const prefix = `raw${randomBytes(3).toString('hex')}`;
  try {
    return await fn('bench', prefix, client);
  } finally {
    client.disconnect();
  }
}

/** `n` no-op jobs added with one addBulk, processed at `concurrency`: jobs/s from first add to last completion. */
export async function rawWide(url: string, n: number, concurrency: number, kind: RawOptions = 'engine'): Promise<{ jobsPerSec: number; ms: number }> {
  return withQueue(url, async (name, prefix, client) => {
    const queue = new Queue(name, { connection: client, prefix });
    let done = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const workerClient = connection(url);
    const worker = new Worker(name, async () => null, { connection: workerClient, prefix, concurrency, autorun: false });
    worker.on('completed', () => {
      if (++done === n) resolveAll();
    });
    void worker.run();
    await worker.waitUntilReady();
    const jobs = Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i }, opts: jobOptions(kind, `w.${i}`) }));
    const t0 = performance.now();
    await queue.addBulk(jobs);
    await all;
    const ms = performance.now() - t0;
    await worker.close();
    workerClient.disconnect();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    return { jobsPerSec: (n / ms) * 1000, ms };
  });
}

/**
 * A chain of `n` jobs where each job's processor adds the next: hops/s. Concurrency 1 is the baseline
 * (the next job comes back with moveToFinished); at higher concurrency idle slots race for each job.
 */
export async function rawChain(url: string, n: number, concurrency = 1, kind: RawOptions = 'engine'): Promise<{ hopsPerSec: number; ms: number }> {
  return withQueue(url, async (name, prefix, client) => {
    const queue = new Queue(name, { connection: client, prefix });
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const workerClient = connection(url);
    const worker = new Worker(
      name,
      async (job) => {
        const i = job.data.i as number;
        if (i + 1 < n) await queue.add('hop', { i: i + 1 }, jobOptions(kind, `c.${i + 1}`));
        return null;
      },
      { connection: workerClient, prefix, concurrency, autorun: false },
    );
    worker.on('completed', (job) => {
      if (job.data.i === n - 1) resolveAll();
    });
    void worker.run();
    await worker.waitUntilReady();
    const t0 = performance.now();
    await queue.add('hop', { i: 0 }, jobOptions(kind, 'c.0'));
    await all;
    const ms = performance.now() - t0;
    await worker.close();
    workerClient.disconnect();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    return { hopsPerSec: (n / ms) * 1000, ms };
  });
}
