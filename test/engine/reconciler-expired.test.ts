import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { Reconciler } from '../../src/engine/reconciler.ts';
import { testRuntime } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('the reconciler drops a run whose keys expired from the active set; pruning then removes its index entries', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const p = definePipeline({ id: 'expiring' }).step('a', () => 1);
    const { runId } = await rt.engine.trigger(p);
    await rt.redis.del(...rt.keys.runKeyList(runId)); // as if its retention had passed before the bookkeeping
    const reconciler = new Reconciler({ engine: rt.engine, store: rt.store, queues: rt.queues, clock: rt.clock, logger: rt.logger, idleMs: 0, intervalMs: 60_000 });
    const report = await reconciler.pass();
    t.is(report.checked, 1);
    t.is(await rt.redis.zscore(rt.keys.activeRuns, runId), null, 'left the active set');
    t.not(await rt.redis.zscore(rt.keys.finishedRuns, runId), null, 'entered the finished index, where pruning finds it');
    t.is(await rt.store.pruneFinished(Date.now() + 1), 1);
    t.deepEqual(await rt.store.listRunIds({ pipeline: 'expiring', limit: 10 }), []);
  } finally {
    await rt.close();
  }
});

test('a claim whose lease ran out is re-queued while the run\'s other steps go on (a dead worker in a fan-out), not only once the run idles', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const p = definePipeline({ id: 'fan-lease' })
      .step('root', () => 1)
      .step('a', { needs: ['root'] }, () => 1)
      .step('b', { needs: ['root'] }, () => 1)
      .step('c', { needs: ['root'] }, () => 1);
    const { runId } = await rt.engine.trigger(p);
    // Play a worker that completes root, claiming a (lease already run out: it died) and listing b, c.
    const token = 'root-token';
    t.true((await rt.store.startStep(runId, 'root', token, 'w-dead', 1, [], Date.now())).ok);
    const claim = { steps: ['a', 'b', 'c'], token: 'a-token', worker: 'w-dead', leaseDeadline: Date.now() - 1, codeVersion: '', withFixed: false, needsOf: () => ['root'] };
    const done = await rt.store.completeStep(runId, 'root', token, 's', '1', Date.now(), { claim, pool: 'default' });
    t.like(done, { ok: true, listed: 2, claimed: { step: 'a' } });
    // The run progresses (a sibling was just claimed from the list): it is not idle.
    const pickedUp = await rt.store.pickup(runId, 'default', { token: 'b-token', worker: 'w-live', leaseDeadline: Date.now() + 60_000, codeVersion: '', withFixed: false, needsOf: () => ['root'] }, Date.now());
    t.is(pickedUp?.step, 'b');
    await rt.store.completeStep(runId, 'b', 'b-token', 's', '1', Date.now(), { pool: 'default' });
    const reconciler = new Reconciler({ engine: rt.engine, store: rt.store, queues: rt.queues, clock: rt.clock, logger: rt.logger, idleMs: 60_000, intervalMs: 60_000 });
    await rt.redis.zadd(rt.keys.activeRuns, 0, runId); // due for a look
    await reconciler.pass();
    t.is((await rt.queues.jobPresence('default', [`${runId}.a`])).get(`${runId}.a`), 'present', 'a, whose lease ran out, is back in its queue');
    t.deepEqual(await rt.redis.zrange(rt.keys.run(runId).leases, 0, -1), ['a'], 'b\'s lease ended with its completion; a\'s stays until its job starts it');
    t.is((await rt.store.startStep(runId, 'a', 'job-token', 'w-live', 2, ['root'], Date.now())).ok, true, 'the job takes the expired claim over');
    await reconciler.pass();
    await rt.redis.zadd(rt.keys.activeRuns, 0, runId);
    await reconciler.pass();
    t.is(await rt.redis.exists(rt.keys.run(runId).leases), 0, 'the taken-over claim\'s entry is forgotten');
  } finally {
    await rt.close();
  }
});

test('an idle run whose queued steps wait on a fan-out list gets one pickup job, not a job per listed step', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const p = definePipeline({ id: 'fan-idle' })
      .step('root', () => 1)
      .step('a', { needs: ['root'] }, () => 1)
      .step('b', { needs: ['root'] }, () => 1)
      .step('c', { needs: ['root'] }, () => 1);
    const { runId } = await rt.engine.trigger(p);
    // Play a worker that completed root, claimed a (still running, lease alive: a long step) and listed b, c.
    t.true((await rt.store.startStep(runId, 'root', 'root-token', 'w', 1, [], Date.now())).ok);
    const claim = { steps: ['a', 'b', 'c'], token: 'a-token', worker: 'w', leaseDeadline: Date.now() + 60_000, codeVersion: '', withFixed: false, needsOf: () => ['root'] };
    t.like(await rt.store.completeStep(runId, 'root', 'root-token', 's', '1', Date.now(), { claim, pool: 'default' }), { ok: true, listed: 2 });
    const reconciler = new Reconciler({ engine: rt.engine, store: rt.store, queues: rt.queues, clock: rt.clock, logger: rt.logger, idleMs: 0, intervalMs: 60_000 });
    await reconciler.pass();
    await rt.redis.zadd(rt.keys.activeRuns, 0, runId);
    await reconciler.pass();
    const presence = await rt.queues.jobPresence('default', [`${runId}.b`, `${runId}.c`, `${runId}.*reconciler`]);
    t.deepEqual([...presence.values()], ['missing', 'missing', 'present'], 'b and c stay on the list; one pickup, however many passes');
    t.deepEqual(await rt.store.fanOutSteps(runId, 'default'), ['b', 'c']);
    await rt.engine.cancel(runId, 'test');
  } finally {
    await rt.close();
  }
});
