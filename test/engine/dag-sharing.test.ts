import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime } from '../helpers/harness.ts';
import type { Runtime } from '../../src/app/runtime.ts';

// The DAG snapshot is stored once per pipeline version (content hash), kept while any run of that
// version is unfinished and expiring with the finished ones. No worker here: the store's bookkeeping
// (trigger, finish, retry) is what is checked.

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const DAY = 86_400_000;

function pipeline() {
  return definePipeline({ id: 'shared-dag' })
    .step('a', async () => 1)
    .step('b', { needs: ['a'] }, async () => 2);
}

async function dagKeys(rt: Runtime): Promise<string[]> {
  const [shared, perRun] = await Promise.all([rt.redis.keys(`${rt.keys.prefix}:dag:*`), rt.redis.keys(`${rt.keys.prefix}:run:*:dag`)]);
  return [...shared, ...perRun].sort();
}

test('runs of one pipeline version share one snapshot, readable by a process that did not trigger them', async (t) => {
  const rt = await testRuntime(redis);
  const other = await testRuntime(redis, { CONVEYOR_PREFIX: rt.keys.prefix });
  try {
    const p = pipeline();
    const hash = rt.engine.validate(p).hash;
    const first = await rt.engine.trigger(p);
    const second = await rt.engine.trigger(p);
    t.deepEqual(await dagKeys(rt), [rt.keys.dag(hash).snapshot, rt.keys.dag(hash).users].sort());
    t.deepEqual((await rt.redis.smembers(rt.keys.dag(hash).users)).sort(), [first.runId, second.runId].sort());
    const snapshot = await other.engine.snapshot(second.runId);
    t.is(snapshot.hash, hash);
    t.deepEqual(snapshot.steps.map((s) => s.name), ['a', 'b']);
  } finally {
    await other.close();
    await rt.close();
  }
});

test('the snapshot has no expiry while a run uses it, and expires with the last finished run', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const p = pipeline();
    const { snapshot, users } = rt.keys.dag(rt.engine.validate(p).hash);
    const first = await rt.engine.trigger(p);
    const second = await rt.engine.trigger(p);
    await rt.engine.store.markFinished(first.runId, { finishedAt: Date.now(), retentionMs: DAY });
    t.is(await rt.redis.pttl(snapshot), -1, 'second run still unfinished');
    await rt.engine.store.markFinished(second.runId, { finishedAt: Date.now(), retentionMs: 2 * DAY });
    const ttl = await rt.redis.pttl(snapshot);
    t.true(ttl > DAY && ttl <= 2 * DAY, `expiry follows the longest retention, got ${ttl} ms`);
    t.is(await rt.redis.exists(users), 0);
    // A shorter retention later never shortens it (a run expiring later still needs it).
    await rt.engine.store.markFinished(first.runId, { finishedAt: Date.now(), retentionMs: 1_000 });
    t.true((await rt.redis.pttl(snapshot)) > DAY);
  } finally {
    await rt.close();
  }
});

test('a repeated trigger of a finished run and a retry keep the bookkeeping right', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const p = pipeline();
    const { snapshot, users } = rt.keys.dag(rt.engine.validate(p).hash);
    const { runId } = await rt.engine.trigger(p, { runId: 'fixed-run' });
    await rt.engine.store.markFinished(runId, { finishedAt: Date.now(), retentionMs: DAY });
    const repeat = await rt.engine.trigger(p, { runId: 'fixed-run' });
    t.false(repeat.created);
    t.is(await rt.redis.exists(users), 0, 'a finished run repeated is no user');
    t.true((await rt.redis.pttl(snapshot)) > 0, 'and the snapshot still expires');

    await rt.redis.hset(rt.keys.run(runId).run, 'status', 'failed');
    await rt.engine.store.retryRun(runId, { now: Date.now() });
    t.deepEqual(await rt.redis.smembers(users), [runId], 'a retried run uses the snapshot again');
    t.is(await rt.redis.pttl(snapshot), -1);
  } finally {
    await rt.close();
  }
});
