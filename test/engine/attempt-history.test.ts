/**
 * Every attempt of a step is recorded (worker, code version, times, error, generation) and the run
 * view shows them: the run page draws one timeline segment per attempt and tells retried run
 * generations apart. A skipped step's view names its upstream steps and how they stand.
 */
import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('attempts: a flaky step lists each attempt with its error; a run retry adds a later generation', async (t) => {
  let calls = 0;
  let healed = false;
  const pipeline = definePipeline({ id: 'flaky', description: 'fails once, then fails for good until healed' })
    .step('load', async () => ({ rows: 1 }))
    .step('flaky', { needs: ['load'], retries: 1, backoff: { type: 'fixed', delayMs: 10 } }, async () => {
      calls++;
      if (!healed) throw new Error(`broken call ${calls}`);
      return { ok: true };
    })
    .step('after', { needs: ['flaky'] }, async () => ({ done: true }));
  const rt = await testRuntime(redis);
  const host = await withWorker(rt, [pipeline]);
  try {
    const { runId } = await rt.engine.trigger(pipeline, {});
    const failed = await rt.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(failed.status, 'failed');
    const first = failed.steps.flaky;
    t.is(first.history?.length, 2, 'two attempts of generation 0');
    t.deepEqual(first.history?.map((a) => [a.attempt, a.generation, a.outcome, a.error?.message]), [
      [1, 0, 'retried', 'broken call 1'],
      [2, 0, 'failed', 'broken call 2'],
    ]);
    for (const a of first.history ?? []) {
      t.truthy(a.worker, 'worker recorded per attempt');
      t.true(Date.parse(a.finishedAt!) >= Date.parse(a.startedAt));
      t.is(a.durationMs, Date.parse(a.finishedAt!) - Date.parse(a.startedAt));
    }
    t.is(failed.steps.load.history, undefined, 'a single attempt is the step itself');
    const skipped = failed.steps.after;
    t.is(skipped.skip, 'upstream-failed');
    t.deepEqual(skipped.upstream, [{ step: 'flaky', status: 'failed' }]);

    healed = true;
    await rt.engine.retry(runId);
    const done = await rt.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(done.status, 'succeeded');
    t.deepEqual(done.steps.flaky.history?.map((a) => [a.generation, a.outcome]), [
      [0, 'retried'],
      [0, 'failed'],
      [1, 'succeeded'],
    ]);
    t.deepEqual(done.steps.after.history?.map((a) => [a.generation, a.outcome]), [[1, 'succeeded']], 'first run in generation 1: listed');
    t.is(done.steps.after.upstream, undefined, 'no longer skipped');
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});
