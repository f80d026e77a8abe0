/**
 * A running step's log lines are stored while it runs (not only when its attempt ends): a long
 * training step's progress is visible in `conveyor logs`, `run --wait --logs` and the run page.
 */
import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { waitFor } from '../fixtures/procs.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('log lines of a running step are readable before the step ends, in order, and none twice', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const pipeline = definePipeline({ id: 'long-train', description: 'logs, then waits to be released' })
    .step('train', async ({ log }) => {
      log.info('epoch 1');
      log.info('epoch 2');
      await released;
      log.info('done');
      return { ok: true };
    });
  const rt = await testRuntime(redis);
  const host = await withWorker(rt, [pipeline]);
  try {
    const { runId } = await rt.engine.trigger(pipeline, {});
    // Before the fix the lines were stored only when the attempt ended: this wait timed out.
    await waitFor(async () => (await rt.store.readLogs(runId)).length >= 2, 10_000, 'the running step’s first lines in Redis');
    const whileRunning = await rt.engine.getRun(runId);
    t.is(whileRunning.steps.train.status, 'running', 'the lines came while the step still ran');
    release();
    const done = await rt.engine.waitForRun(runId, { timeoutMs: 10_000 });
    t.is(done.status, 'succeeded');
    t.deepEqual((await rt.store.readLogs(runId)).map((e) => e.msg), ['epoch 1', 'epoch 2', 'done']);
  } finally {
    release();
    await host.stop(0);
    await rt.close();
  }
});
