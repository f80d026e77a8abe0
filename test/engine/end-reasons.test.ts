/**
 * How an attempt ends when the fault is not the handler's: Redis goes away while a step is running,
 * the step's result cannot be recorded. That is an infrastructure end: the step is handed back to
 * the queue, no attempt of the user's is consumed, and it is not recorded as a handler failure.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { definePipeline } from '../../src/index.ts';
import type { WorkerEvent } from '../../src/worker/worker.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { attachMetrics } from '../../src/app/metrics-wiring.ts';

let redis: TestRedis;
test.before(async () => {
  // AOF: the run's state survives the restart below (a graceful stop writes it out).
  redis = await startTestRedis({ appendonly: true });
});
test.after.always(async () => {
  await redis?.destroy();
});

/** Resolves when `predicate` holds, polled every 20 ms for at most `ms` (then rejects with `what`). */
async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let openGate!: () => void;
const gate = new Promise<void>((resolve) => (openGate = resolve));
let executions = 0;

// No retries: before infrastructure faults were told apart, the lost write consumed the only attempt
// and the queue's give-up was recorded as the step's failure.
const pipeline = definePipeline({ id: 'infra-end', defaults: { retries: 0 } })
  .step('a', async () => {
    executions++;
    if (executions === 1) await gate;
    return { done: true };
  });

test.serial('Redis stopped while a step runs: its result cannot be written, the step is handed back (no attempt used) and the run succeeds', async (t) => {
  // The job's lock outlasts the outage: the queue could record the lost write as a failed attempt
  // (with a shorter lock the job would merely stall and be redelivered, hiding the difference).
  const rt = await testRuntime(redis, { CONVEYOR_LOCK_DURATION: '30s' });
  const host = await withWorker(rt, [pipeline], { concurrency: 2 });
  const events: WorkerEvent[] = [];
  host.onEvent((event) => events.push(event));
  const metrics = await attachMetrics(rt, { serve: false, failureWebhook: false, workerHost: host });
  try {
    const { runId } = await rt.engine.trigger(pipeline, {});
    await until(() => executions === 1, 'the step to start');

    await redis.stop();
    openGate(); // the handler returns while nothing can be recorded
    await until(() => events.some((e) => e.type === 'step-handed-back'), 'the worker to hand the step back');
    await redis.start();

    await until(async () => {
      try {
        return ['succeeded', 'failed', 'cancelled'].includes((await rt.engine.getRun(runId)).status);
      } catch {
        return false; // the runtime's client is reconnecting
      }
    }, 'the run to end', 60_000);
    const view = await rt.engine.getRun(runId);
    t.is(view.status, 'succeeded', JSON.stringify(view.steps.a));
    t.is(view.steps.a!.attempts, 1, 'the hand-back is not one of the user\'s attempts');
    t.is(executions, 2, 'the result that could not be written is produced again by the next delivery');
    const handedBack = events.find((e) => e.type === 'step-handed-back');
    t.like(handedBack, { type: 'step-handed-back', runId, step: 'a', reason: 'infrastructure' });
    t.false(events.some((e) => e.type === 'step-finished' && e.status === 'failed'), 'no failure was recorded');
    t.regex(await metrics.hub.metrics(), /conveyor_step_hand_backs_total\{pipeline="infra-end",reason="infrastructure"\} 1\b/);
    // Back to the queue by the worker's hand, delayed a second (no hot loop if the fault outlives it),
    // not by the stall checker: the queue's event stream recorded the move.
    const admin = new Redis(redis.url);
    try {
      const entries = await admin.xrange(`${rt.keys.bullPrefix}:default:events`, '-', '+');
      t.true(entries.some(([, fields]) => fields[1] === 'delayed'), JSON.stringify(entries.map(([, f]) => f[1])));
      t.false(entries.some(([, fields]) => fields[1] === 'stalled'));
    } finally {
      admin.disconnect();
    }
  } finally {
    await metrics.close();
    await host.stop(1_000);
    await rt.close();
  }
});

let lockExecutions = 0;
let firstAbort: unknown;
const lockPipeline = definePipeline({ id: 'lock-end', defaults: { retries: 0 } })
  .step('a', async ({ signal }) => {
    lockExecutions++;
    if (lockExecutions > 1) return { done: true };
    // The first delivery runs until something aborts it: here, the loss of its job's lock.
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    firstAbort = signal.reason;
    throw signal.reason;
  });

test.serial('a lost job lock aborts the attempt as an infrastructure end: handed back, no attempt used, the run succeeds', async (t) => {
  const rt = await testRuntime(redis);
  // One slot: the job's next delivery cannot start here while the first still runs.
  const host = await withWorker(rt, [lockPipeline], { concurrency: 1 });
  const events: WorkerEvent[] = [];
  host.onEvent((event) => events.push(event));
  const admin = new Redis(redis.url);
  try {
    const { runId } = await rt.engine.trigger(lockPipeline, {});
    await until(() => lockExecutions === 1, 'the step to start');
    // The fault: the job's lock disappears (as when it expired during a pause), so renewal fails.
    const locks = await admin.keys(`${rt.keys.bullPrefix}:*:lock`);
    t.is(locks.length, 1, locks.join(', '));
    await admin.del(...locks);

    const view = await rt.engine.waitForRun(runId, { timeoutMs: 30_000 });
    t.is(view.status, 'succeeded', JSON.stringify(view.steps.a));
    t.is(view.steps.a!.attempts, 1, 'the lost lock is not one of the user\'s attempts');
    t.is(lockExecutions, 2);
    t.is(view.steps.a!.handBacks, 1, 'recorded as a hand-back');
    t.like(firstAbort, { why: 'lock-lost' });
    t.like(events.find((e) => e.type === 'step-handed-back'), { runId, step: 'a', reason: 'infrastructure' });
  } finally {
    admin.disconnect();
    await host.stop(1_000);
    await rt.close();
  }
});
