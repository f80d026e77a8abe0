import test from 'ava';
import { randomBytes } from 'node:crypto';
import { definePipeline } from '../../src/index.ts';
import { startRetention } from '../../src/app/retention.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const p = definePipeline({ id: 'short', defaults: { retries: 0 } }).step('only', async () => ({ ok: true }));

/** Every key of this prefix, and the size of every run index (the indexes a run can be in, and the pipeline map). */
async function footprint(rt: Runtime): Promise<{ keys: number; indexes: Record<string, number> }> {
  const indexes: Record<string, number> = {};
  for (const key of rt.keys.runIndexes(p.id)) indexes[key] = await rt.redis.zcard(key);
  indexes[rt.keys.runPipelines] = await rt.redis.hlen(rt.keys.runPipelines);
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await rt.redis.scan(cursor, 'MATCH', `${rt.keys.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    // The retention lease comes and goes with the passes: not part of the footprint.
    keys += batch.filter((k) => k !== rt.keys.global('retention:lease')).length;
  } while (cursor !== '0');
  return { keys, indexes };
}

/** A run through the engine's own trigger and finish path (cancel ends it without a worker). */
async function shortRun(rt: Runtime): Promise<void> {
  const { runId } = await rt.engine.trigger(p);
  await rt.engine.cancel(runId, 'test');
}

test('10,000 short runs with a tiny retention: with nobody running a command, every index and the key count return to the baseline', async (t) => {
  t.timeout(120_000);
  const env = { CONVEYOR_PREFIX: `t${randomBytes(4).toString('hex')}`, CONVEYOR_RETENTION: '1ms' };
  // Two replicas, as with several workers: the lease lets one prune per interval, the other stays idle.
  const [a, b] = [await testRuntime(redis, env), await testRuntime(redis, env)];
  try {
    await shortRun(a); // the queue's own bookkeeping keys exist from the first run on
    await a.store.pruneFinished(Date.now());
    const baseline = await footprint(a);
    t.true(Object.values(baseline.indexes).every((n) => n === 0), JSON.stringify(baseline.indexes));

    for (let done = 0; done < 10_000; done += 200) await Promise.all(Array.from({ length: 200 }, () => shortRun(a)));
    const grown = await footprint(a);
    t.is(grown.indexes[a.keys.runsIndex], 10_000);
    t.is(grown.indexes[a.keys.pipelineRuns(p.id)], 10_000);

    const tasks = [startRetention(a, { intervalMs: 50, owner: 'a' }), startRetention(b, { intervalMs: 50, owner: 'b' })];
    try {
      let now = grown;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        now = await footprint(a);
        if (now.keys === baseline.keys && Object.values(now.indexes).every((n) => n === 0)) break;
        await new Promise((resolve) => setTimeout(resolve, 100)); // bounded poll
      }
      t.deepEqual(now, baseline);
    } finally {
      await Promise.all(tasks.map((task) => task.stop()));
    }
  } finally {
    await a.close();
    await b.close();
  }
});

test('pruning removes a run from its per-pipeline index although the run hash expired long before', async (t) => {
  const rt = await testRuntime(redis, { CONVEYOR_RETENTION: '1ms' });
  try {
    const { runId } = await rt.engine.trigger(p);
    await rt.engine.cancel(runId, 'test');
    for (const deadline = Date.now() + 5_000; Date.now() < deadline && (await rt.redis.exists(rt.keys.run(runId).run)); ) {
      await new Promise((resolve) => setTimeout(resolve, 10)); // bounded poll for the 1 ms expiry
    }
    t.is(await rt.redis.exists(rt.keys.run(runId).run), 0, 'the run hash expired');
    t.is(await rt.store.pruneFinished(Date.now()), 1);
    t.is(await rt.redis.zscore(rt.keys.pipelineRuns(p.id), runId), null);
    t.is(await rt.redis.zscore(rt.keys.runsIndex, runId), null);
  } finally {
    await rt.close();
  }
});

test('runs from before the id index (an upgrade) join it on the next retention pass, so a prefix finds them', async (t) => {
  const rt = await testRuntime(redis, { CONVEYOR_PREFIX: `up${randomBytes(3).toString('hex')}` });
  const retention = startRetention(rt, { owner: 'test', intervalMs: 60_000 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await rt.engine.trigger(p, { runId: `old-run-${String(i).padStart(2, '0')}` })).runId);
    // As a version without the index left them: in the run list, not in the id index.
    await rt.redis.del(rt.keys.runIdsLex);
    t.deepEqual(await rt.store.runIdsByPrefix('old-run-', 0, 100), []);
    await retention.runOnce();
    // Before: they stayed unfindable by prefix for good (exact ids only).
    t.deepEqual((await rt.store.runIdsByPrefix('old-run-', 0, 100)).sort(), ids.sort());
    t.is(await rt.store.backfillIdIndex(), 0, 'nothing left to add');
  } finally {
    await retention.stop();
    await rt.close();
  }
});
