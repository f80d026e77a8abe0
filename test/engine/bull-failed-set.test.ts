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

// `doomed` fails for good (no retries) until the flag is lowered; `flaky` fails its first attempt only.
let doomedFails = true;
let flakyAttempts = 0;
const pipeline = definePipeline({ id: 'bullset', defaults: { retries: 0 } })
  .step('doomed', async () => {
    if (doomedFails) throw new Error('doomed: bad input');
    return { ok: true };
  })
  .step('flaky', { retries: 2, backoff: { type: 'fixed', delayMs: 10 } }, async () => {
    if (++flakyAttempts === 1) throw new Error('flaky: first attempt fails');
    return { ok: true };
  });

test.serial("a step's final failure leaves its job in BullMQ's failed set; a retried success does not; `retry` of the run still works", async (t) => {
  const rt = await testRuntime(redis);
  const host = await withWorker(rt, [pipeline]);
  try {
    const { runId } = await rt.engine.trigger(pipeline, {});
    const failed = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(failed.status, 'failed', 'Conveyor records the run failed');
    t.is(flakyAttempts, 2, 'flaky was retried once and then succeeded');

    const queue = rt.queues.queue('default');
    // The run is recorded finished before BullMQ moves the last job out of `active`: wait for that, bounded.
    const settled = async () => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const counts = await queue.getJobCounts('failed', 'completed', 'active', 'wait', 'delayed');
        if (counts.active + counts.wait + counts.delayed === 0 || Date.now() > deadline) return counts;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const counts = await settled();
    t.is(counts.active + counts.wait + counts.delayed, 0, 'every job left the queue');
    t.is(counts.failed, 1, 'exactly the finally-failed step is in the failed set');
    const [job] = await queue.getJobs(['failed']);
    t.is(job?.data.s, 'doomed');
    t.regex(job?.failedReason ?? '', /doomed: bad input/, 'the failed job carries the step\'s own error');
    t.is(await queue.getJobState(`${runId}.flaky`), 'unknown', 'the retried-then-succeeded job completed (and was removed as completed jobs are)');

    // The failed job stays in the failed set (retention), and retrying the run re-enqueues the step
    // under its next generation's job id, so the kept job does not block it.
    doomedFails = false;
    await rt.engine.retry(runId);
    const retried = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(retried.status, 'succeeded');
    const after = await settled();
    t.is(after.failed, 1, 'the first generation\'s failed job is kept until its retention ends');
  } finally {
    await host.stop(1_000);
    await rt.close();
  }
});
