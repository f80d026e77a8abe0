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
