/**
 * SIGTERM drain of a real `conveyor worker`: a step still running when the drain timeout ends is handed
 * back to the queue (not failed, not counted as an attempt) and the worker exits 0; with Redis
 * unreachable the worker still exits within drain timeout + 5 s, logging connection changes without stacks.
 */
import test from 'ava';
import { startTestRedis } from '../helpers/redis-server.ts';
import { newPrefix, startCliWorker, waitFor } from '../fixtures/procs.ts';
import { fxRuntime } from '../fixtures/fx-runtime.ts';
import { readRecords } from '../fixtures/fx-effects.ts';
import long from '../fixtures/pipelines/faults/fx-long.ts';
import { faultSuite } from '../fixtures/fault-suite.ts';

const suite = faultSuite(test);

test.serial('SIGTERM past the drain timeout hands the running step back: not failed, no attempt counted, exit 0; the next worker finishes it', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const first = await startCliWorker({ redisUrl: suite.redis.url, prefix, extra: { CONVEYOR_DRAIN_TIMEOUT: '1s' } });
  suite.procs.push(first);
  // `long` has no retries (retries: 0): counting the hand-back as an attempt would fail the run.
  const { runId } = await runtime.engine.trigger(long, { params: { longMs: 60_000 } });
  await waitFor(async () => (await readRecords(suite.journal, runId, 'long')).length > 0, 30_000, 'step long to start');
  first.signal('SIGTERM');
  t.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr());
  const handedBack = await runtime.engine.getRun(runId);
  t.is(handedBack.steps.long.status, 'queued', 'handed back, not failed');
  t.is(handedBack.status, 'running');
  t.is(handedBack.steps.long.error, undefined, 'a hand-back records no error');

  const second = await startCliWorker({ redisUrl: suite.redis.url, prefix });
  suite.procs.push(second);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 });
  t.is(view.status, 'succeeded', second.stderr());
  t.is(view.steps.long.attempts, 1, 'the hand-back was not an attempt');
  t.is((view.steps.long.output as { pid: number }).pid, second.pid);
  t.is((await readRecords(suite.journal, runId, 'long')).length, 2, 'executed by the first worker, then again by the second');
});

test.serial('SIGTERM with Redis unreachable: the worker exits within drain timeout + 5 s, one log line per connection change, no stacks', async (t) => {
  const own = await startTestRedis();
  try {
    const prefix = newPrefix();
    const runtime = await fxRuntime(own.url, prefix);
    suite.runtimes.push(runtime);
    const worker = await startCliWorker({ redisUrl: own.url, prefix, extra: { CONVEYOR_DRAIN_TIMEOUT: '2s' } });
    suite.procs.push(worker);
    await runtime.close();
    await own.stop();
    // Wait until the worker has noticed (its "connection error" line), then ask it to stop.
    await waitFor(() => /redis connection error/.test(worker.stderr()), 30_000, 'the worker to see Redis go away');
    const signalledAt = Date.now();
    worker.signal('SIGTERM');
    const exit = await Promise.race([worker.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 20_000))]);
    const tookMs = Date.now() - signalledAt;
    t.deepEqual(exit, { code: 0, signal: null }, worker.stderr());
    t.true(tookMs <= 2_000 + 5_000, `exited ${tookMs} ms after SIGTERM (bound: drain 2 s + 5 s)`);
    const stderr = worker.stderr();
    t.notRegex(stderr, /^\s+at /m, 'no stack traces');
    // The worker's clients each report the change once (not once per reconnect attempt).
    const lines = stderr.split('\n').filter((l) => /redis connection error|ECONNREFUSED/.test(l));
    t.true(lines.length <= 10, `${lines.length} connection lines:\n${lines.join('\n')}`);
  } finally {
    await own.destroy();
  }
});
