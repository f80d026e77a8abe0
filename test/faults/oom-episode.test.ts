import test from 'ava';
import { Redis } from 'ioredis';
import { definePipeline } from '../../src/index.ts';
import { explainRedisError } from '../../src/redis/oom.ts';
import type { WorkerEvent } from '../../src/worker/worker.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

/** Resolves when `predicate` holds, polled every 20 ms for at most `ms` (then rejects with `what`). */
async function until(predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The middle steps hold until the test opens the gate, so they finish while Redis refuses writes.
let openGate!: () => void;
const gate = new Promise<void>((resolve) => (openGate = resolve));
const executions = new Map<string, number>();
const ran = (runId: string, step: string) => executions.set(`${runId}.${step}`, (executions.get(`${runId}.${step}`) ?? 0) + 1);
let held = 0;

const pipeline = definePipeline({ id: 'oom', defaults: { retries: 3, backoff: { type: 'fixed', delayMs: 50 } } })
  .step('a', async ({ run }) => {
    ran(run.id, 'a');
    return { n: 1 };
  })
  .step('b', { needs: ['a'] }, async ({ run, upstream, log }) => {
    ran(run.id, 'b');
    held++;
    await gate;
    log.info('b finished its work');
    return { n: upstream.a.n + 1 };
  })
  .step('c', { needs: ['a'] }, async ({ run, upstream }) => {
    ran(run.id, 'c');
    held++;
    await gate;
    return { n: upstream.a.n + 2 };
  })
  .step('d', { needs: ['b', 'c'] }, async ({ run, upstream }) => {
    ran(run.id, 'd');
    return { n: upstream.b.n + upstream.c.n };
  });

test.serial('a Redis memory episode (noeviction) while runs are in flight: refused writes are retried, every run succeeds, no finished handler re-runs', async (t) => {
  // Locks outlast the episode (as the 30 s default outlasts a short one); refused writes are retried for a minute.
  const rt = await testRuntime(redis, { CONVEYOR_LOCK_DURATION: '20s', CONVEYOR_REDIS_OOM_WINDOW: '60s' });
  const events: WorkerEvent[] = [];
  const hosts = [await withWorker(rt, [pipeline], { concurrency: 8 }), await withWorker(rt, [pipeline], { concurrency: 8 })];
  for (const host of hosts) host.onEvent((event) => events.push(event));
  const admin = new Redis(redis.url);
  try {
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) runIds.push((await rt.engine.trigger(pipeline, {})).runId);
    await until(() => held === 12, 'every run to be inside b and c');

    // Memory runs out: the limit goes just above what is used, and our own keys fill the rest.
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(used + 64 * 1024));
    const filler = 'x'.repeat(16 * 1024);
    let filled = 0;
    for (; filled < 1_000; filled++) {
      try {
        await admin.set(`filler:${filled}`, filler);
      } catch (error) {
        t.regex((error as Error).message, /OOM/);
        break;
      }
    }
    t.true(filled < 1_000, 'Redis reached maxmemory');
    // Client buffers come and go by kilobytes: hold the episode steady until the test frees memory.
    const full = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(full - 256 * 1024));

    // The held steps finish now: their logs and completions are refused, and kept by their workers.
    openGate();
    await until(() => events.some((e) => e.type === 'redis-refused'), 'a worker write refused for memory');
    const refused = events.find((e) => e.type === 'redis-refused') as Extract<WorkerEvent, { type: 'redis-refused' }>;
    t.regex(refused.message, /^Redis refused writes: OOM command not allowed/);

    // A trigger during the episode names the cause, also where Redis discards a whole MULTI.
    await t.throwsAsync(rt.engine.trigger(pipeline, {}), { message: /^Redis refused writes: OOM/ });
    const discarded = await admin.multi().set('m1', filler).set('m2', filler).exec().catch((error: unknown) => error);
    t.regex((discarded as Error).message, /EXECABORT/);
    t.regex((explainRedisError(discarded) as Error).message, /^Redis refused writes: OOM/);

    // Memory comes back.
    for (let i = 0; i < filled; i++) await admin.del(`filler:${i}`);
    await admin.config('SET', 'maxmemory', '0');

    for (const runId of runIds) {
      const run = await rt.engine.waitForRun(runId, { timeoutMs: 20_000 });
      t.is(run.status, 'succeeded', `run ${runId}`);
      t.deepEqual(Object.fromEntries(Object.entries(run.steps).map(([name, s]) => [name, s.attempts])), { a: 1, b: 1, c: 1, d: 1 }, 'no attempt was spent on the episode');
    }
    for (const runId of runIds) {
      for (const step of ['a', 'b', 'c', 'd']) t.is(executions.get(`${runId}.${step}`), 1, `${runId}.${step} ran once`);
    }
    t.true(events.filter((e) => e.type === 'step-retry').length === 0, 'no step was retried for a memory episode');
  } finally {
    openGate();
    await admin.config('SET', 'maxmemory', '0').catch(() => {});
    admin.disconnect();
    for (const host of hosts) await host.stop(1_000);
    await rt.close();
  }
});
