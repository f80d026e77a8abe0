import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis({ extraArgs: ['--maxmemory', '8mb'] });
});
test.after.always(async () => {
  await redis?.destroy();
});

const pipeline = definePipeline({ id: 'mem', defaults: { retries: 0 } })
  .step('a', async ({ params }) => ({ size: JSON.stringify(params).length }))
  .step('b', { needs: ['a'] }, async ({ upstream }) => ({ size: upstream.a.size }));

test.serial('maxmemory reached (noeviction): triggers fail with a clear error and write no run; runs work again once memory is freed', async (t) => {
  const rt = await testRuntime(redis);
  const host = await withWorker(rt, [pipeline]);
  try {
    const ok = await rt.engine.waitForRun((await rt.engine.trigger(pipeline, { params: { n: 1 } })).runId, { timeoutMs: 15_000 });
    t.is(ok.status, 'succeeded');

    // Fill Redis with keys of our own until it refuses writes (noeviction: nothing is silently dropped).
    const filler = 'x'.repeat(256 * 1024);
    let filled = 0;
    for (; filled < 200; filled++) {
      try {
        await rt.redis.set(`filler:${filled}`, filler);
      } catch (error) {
        t.regex((error as Error).message, /OOM/);
        break;
      }
    }
    t.true(filled < 200, 'Redis reached maxmemory');

    const runsBefore = (await rt.redis.keys(`${rt.keys.prefix}:run:*`)).length;
    const refused = await t.throwsAsync(rt.engine.trigger(pipeline, { params: { blob: 'y'.repeat(200_000) } }));
    t.regex(refused!.message, /OOM command not allowed/);
    t.is((await rt.redis.keys(`${rt.keys.prefix}:run:*`)).length, runsBefore, 'the refused run left no run keys behind');
    t.is((await rt.engine.listRuns({ pipeline: 'mem', limit: 10 })).length, 1, 'listing shows only the run that exists');

    // Memory comes back (an operator raises the limit or frees keys): the same engine and worker carry on.
    for (let i = 0; i < filled; i++) await rt.redis.del(`filler:${i}`).catch(() => {});
    const again = await rt.engine.waitForRun((await rt.engine.trigger(pipeline, { params: { n: 2 } })).runId, { timeoutMs: 15_000 });
    t.is(again.status, 'succeeded');
  } finally {
    await host.stop(1_000);
    await rt.close();
  }
});
