/**
 * Several real worker processes on one private Redis: sharing a run, taking over a step from a worker
 * killed with SIGKILL, paused with SIGSTOP or stuck in a busy loop, and closing the gap between a
 * recorded completion and the enqueue of its successors. Each test uses its own key prefix and workers.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { startFxWorker, startCliWorker, waitFor, type WorkerProc } from '../fixtures/procs.ts';
import { checkJournal } from '../fixtures/fx-runtime.ts';
import { readRecords } from '../fixtures/fx-effects.ts';
import fanout, { fanoutStepNames } from '../fixtures/pipelines/faults/fx-fanout.ts';
import longPipeline from '../fixtures/pipelines/faults/fx-long.ts';
import busyPipeline from '../fixtures/pipelines/faults/fx-busy.ts';
import chain from '../fixtures/pipelines/faults/fx-chain.ts';
import { faultSuite } from '../fixtures/fault-suite.ts';

const suite = faultSuite(test);

async function fxWorker(prefix: string, concurrency = 4): Promise<WorkerProc> {
  const proc = await startFxWorker({ redisUrl: suite.redis.url, prefix, concurrency });
  suite.procs.push(proc);
  return proc;
}

/** Waits for the first recorded execution of a step and returns the pid that ran it. */
async function runnerOf(runId: string, step: string): Promise<number> {
  await waitFor(async () => (await readRecords(suite.journal, runId, step)).length > 0, 30_000, `${step} to start`);
  return (await readRecords(suite.journal, runId, step))[0].pid;
}

test.serial('two `conveyor worker` processes share one wide run and both execute steps of it', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const a = await startCliWorker({ redisUrl: suite.redis.url, prefix, concurrency: 4 });
  const b = await startCliWorker({ redisUrl: suite.redis.url, prefix, concurrency: 4 });
  suite.procs.push(a, b);
  const { runId } = await runtime.engine.trigger(fanout, { params: { sleepMs: 150 } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 45_000 });
  t.is(view.status, 'succeeded');
  const check = await checkJournal(suite.journal, view);
  t.deepEqual(check.missing, []);
  t.deepEqual(check.afterSuccess, []);
  const pids = new Set(fanoutStepNames.flatMap((s) => check.records[s].map((r) => r.pid)));
  t.true(pids.has(a.pid), `worker A (${a.pid}) ran none of the 40 steps; pids seen: ${[...pids].join(', ')}`);
  t.true(pids.has(b.pid), `worker B (${b.pid}) ran none of the 40 steps; pids seen: ${[...pids].join(', ')}`);
});

test.serial('kill -9 of the worker running a long step: another worker takes it over and the run succeeds', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const a = await fxWorker(prefix);
  const b = await fxWorker(prefix);
  const { runId } = await runtime.engine.trigger(longPipeline, { params: { longMs: 60_000 } });
  const victim = (await runnerOf(runId, 'long')) === a.pid ? a : b;
  const survivor = victim === a ? b : a;
  victim.signal('SIGKILL');
  await victim.exited;
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 45_000 });
  t.is(view.status, 'succeeded');
  const records = await readRecords(suite.journal, runId, 'long');
  t.deepEqual(records.map((r) => r.pid), [victim.pid, survivor.pid], 'executed by the killed worker, then once by the survivor');
  t.like(view.steps.long, { status: 'succeeded', output: { pid: survivor.pid, execution: 2 } });
  t.deepEqual((await checkJournal(suite.journal, view)).afterSuccess, []);
});

test.serial('a worker paused (SIGSTOP) past its lock loses the step: its late completion is rejected as stale', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const a = await fxWorker(prefix);
  const b = await fxWorker(prefix);
  // The first execution sleeps 3 s; SIGSTOP keeps the paused one from finishing until SIGCONT.
  const { runId } = await runtime.engine.trigger(longPipeline, { params: { longMs: 3_000 } });
  const paused = (await runnerOf(runId, 'long')) === a.pid ? a : b;
  const other = paused === a ? b : a;
  paused.signal('SIGSTOP');
  await waitFor(async () => (await runtime.store.stepStatusLetters(runId)).long === 's', 30_000, 'the other worker to complete the step');
  const afterTakeover = await runtime.engine.getRun(runId);
  t.like(afterTakeover.steps.long, { status: 'succeeded', output: { pid: other.pid, execution: 2 } });
  paused.signal('SIGCONT');
  await waitFor(() => paused.events().some((e) => e.event === 'stale-completion'), 30_000, 'the resumed worker to report its stale completion');
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 });
  t.is(view.status, 'succeeded');
  // The resumed worker's result did not overwrite the newer one, and it recorded no second success.
  t.like(view.steps.long, { status: 'succeeded', output: { pid: other.pid, execution: 2 } });
  const successes = [a, b].flatMap((p) => p.events()).filter((e) => e.event === 'step-finished' && e.step === 'long' && e.status === 'succeeded');
  t.is(successes.length, 1, 'one success recorded for the step across both workers');
  t.deepEqual(paused.events().filter((e) => e.event === 'stale-completion').map((e) => e.step), ['long']);
  t.deepEqual((await readRecords(suite.journal, runId, 'long')).map((r) => r.pid), [paused.pid, other.pid]);
  t.deepEqual((await readRecords(suite.journal, runId, 'after')).length, 1);
});

test.serial('store level: completing a step with the token of an older delivery returns reason "stale"', async (t) => {
  const { runtime } = await suite.setup();
  // No worker: this test plays the two deliveries itself.
  const { runId } = await runtime.engine.trigger(chain, { params: {} });
  const oldToken = randomUUID();
  const newToken = randomUUID();
  t.true((await runtime.store.startStep(runId, 'a', oldToken, 'w-old', 1, [], Date.now())).ok);
  t.true((await runtime.store.startStep(runId, 'a', newToken, 'w-new', 1, [], Date.now())).ok);
  const stale = await runtime.store.completeStep(runId, 'a', oldToken, 's', JSON.stringify({ from: 'old' }), Date.now());
  t.deepEqual(stale, { ok: false, reason: 'stale' });
  const fresh = await runtime.store.completeStep(runId, 'a', newToken, 's', JSON.stringify({ from: 'new' }), Date.now());
  t.deepEqual(fresh, { ok: true, finalStatus: undefined, ready: ['b'], listed: 0 });
  const again = await runtime.store.completeStep(runId, 'a', oldToken, 's', JSON.stringify({ from: 'old' }), Date.now());
  t.deepEqual(again, { ok: false, reason: 'stale' });
  const view = await runtime.engine.getRun(runId);
  t.like(view.steps.a, { status: 'succeeded', output: { from: 'new' } });
  await runtime.engine.cancel(runId, 'test');
});

test.serial('completion recorded but successors never enqueued (worker died in between): the reconciler enqueues them', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const { runId } = await runtime.engine.trigger(chain, { params: {} });
  // Play the worker that recorded `a` and died before enqueueing `b`: `b` is now `queued` with no job.
  const token = randomUUID();
  t.true((await runtime.store.startStep(runId, 'a', token, 'w-dead', 1, [], Date.now())).ok);
  const done = await runtime.store.completeStep(runId, 'a', token, 's', JSON.stringify({ pid: 0 }), Date.now());
  t.deepEqual(done, { ok: true, finalStatus: undefined, ready: ['b'], listed: 0 });
  t.is((await runtime.store.stepStatusLetters(runId)).b, 'q');
  const worker = await fxWorker(prefix);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 }).catch((error) => {
    t.log(worker.stderr());
    throw error;
  });
  t.is(view.status, 'succeeded');
  // `a`'s own job was still queued: the worker dropped it (already finished) instead of running it again.
  t.deepEqual(await readRecords(suite.journal, runId, 'a'), []);
  t.is((await readRecords(suite.journal, runId, 'b')).length, 1);
  t.is((await readRecords(suite.journal, runId, 'c')).length, 1);
  t.deepEqual(view.steps.a.output, { pid: 0 });
});

test.serial('an event loop blocked past the lock: the step runs twice, one result wins, the other is stale', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const a = await fxWorker(prefix);
  const b = await fxWorker(prefix);
  const { runId } = await runtime.engine.trigger(busyPipeline, { params: { blockMs: 30_000 } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 45_000 });
  t.is(view.status, 'succeeded');
  const records = await readRecords(suite.journal, runId, 'busy');
  t.is(records.length, 2, 'the blocked execution and the takeover');
  const [blocked, takeover] = records.map((r) => r.pid);
  t.not(blocked, takeover);
  t.like(view.steps.busy, { status: 'succeeded', output: { pid: takeover, execution: 2 } });
  const blockedProc = blocked === a.pid ? a : b;
  await waitFor(() => blockedProc.events().some((e) => e.event === 'stale-completion'), 30_000, 'the blocked worker to report its stale completion');
  t.deepEqual(blockedProc.events().filter((e) => e.event === 'stale-completion').map((e) => e.step), ['busy']);
  t.is((await readRecords(suite.journal, runId, 'after')).length, 1, 'the successor ran once');
});
