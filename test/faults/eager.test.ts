/**
 * Eager hand-off crash safety with real `conveyor` worker processes, a real redis-server and kill -9
 * (docs/internals.md, "Eager hand-off"; RELIABILITY.md). A worker whose completion of `a` claimed
 * `b` is killed (1) right after the claim, before b's handler starts, (2) while b runs, (3) after b's
 * handler returned, before its completion is recorded. Each time the run still finishes, each step's
 * outcome is recorded exactly once (the events channel carries one completion per step), and a
 * completion under the killed delivery's fence token is refused. Kill points are exact: the fixture
 * worker stops itself there (test/fixtures/stop-points.ts) or the step holds on a gate.
 */
import test from 'ava';
import type { Redis } from 'ioredis';
import { ROOT, startFxWorker, waitFor, type WorkerProc } from '../fixtures/procs.ts';
import { fxClient } from '../fixtures/fx-runtime.ts';
import { readRecords } from '../fixtures/fx-effects.ts';
import { openGate } from '../fixtures/fleet-gate.ts';
import egChain from '../fixtures/pipelines/eager/eg-chain.ts';
import egFan, { FAN_WIDTH } from '../fixtures/pipelines/eager/eg-fan.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { StoredStepInfo } from '../../src/redis/run-schema.ts';
import { parseStepInfo } from '../../src/redis/step-info-codec.ts';
import { faultSuite } from '../fixtures/fault-suite.ts';

const suite = faultSuite(test);

const EAGER_PIPELINES = `${ROOT}/test/fixtures/pipelines/eager`;

let feed: Redis;
/** Every message of the run events channels, in order ("<runId>|<step>|<outcome>"). */
const published: string[] = [];

test.before(async () => {
  await suite.ready;
  feed = fxClient(suite.redis.url);
  feed.on('pmessage', (_pattern, _channel, message: string) => published.push(message));
  await feed.psubscribe('*');
});

test.after.always(() => {
  feed?.disconnect();
});

async function worker(prefix: string, extra: Record<string, string> = {}): Promise<WorkerProc & { id: string }> {
  const proc = await startFxWorker({ redisUrl: suite.redis.url, prefix, pipelines: EAGER_PIPELINES, extra });
  suite.procs.push(proc);
  return Object.assign(proc, { id: String(proc.events().find((e) => e.event === 'ready')!.worker) });
}

async function stepInfo(runtime: Runtime, runId: string, step: string): Promise<StoredStepInfo> {
  // Either form a record may take (a finished step's is compact): the store's own reader.
  return parseStepInfo((await runtime.redis.hget(runtime.keys.run(runId).info, step)) ?? '{}') ?? {};
}

/** b is running under an eager claim of `owner`: a lease, attempt 1, and no BullMQ job for it. */
async function assertClaimedBy(t: import('ava').ExecutionContext, runtime: Runtime, runId: string, owner: string): Promise<string> {
  const info = await stepInfo(runtime, runId, 'b');
  t.is((await runtime.store.stepStatusLetters(runId)).b, 'r');
  t.is(info.w, owner, 'b was claimed for the worker that completed a');
  t.is(info.a, 1);
  t.true(typeof info.ld === 'number', 'b holds a lease');
  t.truthy(info.cv, 'the claimed attempt records its code version');
  t.is(info.cv, (await stepInfo(runtime, runId, 'a')).cv, 'the same code version as the step before it on this worker');
  t.is((await runtime.queues.jobPresence('default', [`${runId}.b`])).get(`${runId}.b`), 'missing', 'b never went through the queue');
  return info.t!;
}

/** The run finished once, every step's outcome published once, and the killed delivery's token is refused. */
async function assertExactlyOnce(t: import('ava').ExecutionContext, runtime: Runtime, runId: string, oldToken: string, survivor: WorkerProc): Promise<void> {
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  // On failure: the survivor's log and each step's record (a stall past the limit under load shows here).
  t.is(view.status, 'succeeded', `${survivor.stderr()}\n${JSON.stringify(view.steps)}`);
  for (const step of ['a', 'b', 'c']) {
    t.is(published.filter((m) => m === `${runId}|${step}|s`).length, 1, `one recorded completion of ${step}`);
  }
  t.is(published.filter((m) => m === `${runId}||succeeded`).length, 1, 'the run ended once');
  t.like(view.steps.b, { status: 'succeeded', attempts: 1, output: { pid: survivor.pid, step: 'b' } });
  t.is((await readRecords(suite.journal, runId, 'c')).length, 1, 'c ran once');
  const late = await runtime.store.completeStep(runId, 'b', oldToken, 's', JSON.stringify({ pid: 0, step: 'late' }), Date.now());
  t.deepEqual(late, { ok: false, reason: 'stale' }, 'a completion under the killed delivery\'s fence token is refused');
  t.like((await runtime.engine.getRun(runId)).steps.b, { output: { pid: survivor.pid } });
}

test.serial('kill -9 right after the completion claimed the successor, before its handler starts: the lease runs out, another worker runs it once', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const victim = await worker(prefix, { FX_STOP_AT: 'claimed:b' });
  const { runId } = await runtime.engine.trigger(egChain, { params: {} });
  await waitFor(() => victim.events().some((e) => e.event === 'stopped-at'), 30_000, 'the victim to stop right after claiming b');
  const oldToken = await assertClaimedBy(t, runtime, runId, victim.id);
  t.is((await readRecords(suite.journal, runId, 'b')).length, 0, 'b\'s handler had not started');
  victim.signal('SIGKILL');
  await victim.exited;
  const survivor = await worker(prefix);
  await assertExactlyOnce(t, runtime, runId, oldToken, survivor);
  t.deepEqual((await readRecords(suite.journal, runId, 'b')).map((r) => r.pid), [survivor.pid]);
});

test.serial('kill -9 while the eagerly claimed successor runs: it is re-queued when its lease expires and runs again elsewhere', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const victim = await worker(prefix);
  const { runId } = await runtime.engine.trigger(egChain, { params: { holdAt: 'b' } });
  await waitFor(async () => (await readRecords(suite.journal, runId, 'b')).length > 0, 30_000, 'b to start on the victim');
  const oldToken = await assertClaimedBy(t, runtime, runId, victim.id);
  victim.signal('SIGKILL');
  await victim.exited;
  await openGate(suite.journal, runId);
  const survivor = await worker(prefix);
  await assertExactlyOnce(t, runtime, runId, oldToken, survivor);
  t.deepEqual((await readRecords(suite.journal, runId, 'b')).map((r) => r.pid), [victim.pid, survivor.pid]);
});

test.serial('kill -9 after the successor\'s handler returned, before its completion was recorded: it runs again elsewhere, recorded once', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const victim = await worker(prefix, { FX_STOP_AT: 'before-complete:b' });
  const { runId } = await runtime.engine.trigger(egChain, { params: {} });
  await waitFor(() => victim.events().some((e) => e.event === 'stopped-at'), 30_000, 'the victim to stop before completing b');
  const oldToken = await assertClaimedBy(t, runtime, runId, victim.id);
  t.deepEqual((await readRecords(suite.journal, runId, 'b')).map((r) => r.pid), [victim.pid], 'b\'s handler ran on the victim');
  victim.signal('SIGKILL');
  await victim.exited;
  const survivor = await worker(prefix);
  await assertExactlyOnce(t, runtime, runId, oldToken, survivor);
  t.deepEqual((await readRecords(suite.journal, runId, 'b')).map((r) => r.pid), [victim.pid, survivor.pid]);
});

test.serial('a worker paused before completing an eager step resumes after another took it over: its late completion is refused as stale', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const paused = await worker(prefix, { FX_STOP_AT: 'before-complete:b' });
  const { runId } = await runtime.engine.trigger(egChain, { params: {} });
  await waitFor(() => paused.events().some((e) => e.event === 'stopped-at'), 30_000, 'the worker to stop before completing b');
  const oldToken = await assertClaimedBy(t, runtime, runId, paused.id);
  const other = await worker(prefix);
  await assertExactlyOnce(t, runtime, runId, oldToken, other);
  paused.signal('SIGCONT');
  await waitFor(() => paused.events().some((e) => e.event === 'stale-completion' && e.step === 'b'), 30_000, 'the resumed worker to report its stale completion');
  t.like((await runtime.engine.getRun(runId)).steps.b, { status: 'succeeded', output: { pid: other.pid } });
  t.is(published.filter((m) => m === `${runId}|b|s`).length, 1, 'still one recorded completion of b');
});

test.serial('an eager step that runs past its first lease and the reconciler\'s idle time keeps it (renewed), is never re-queued and runs once', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const owner = await worker(prefix);
  const { runId } = await runtime.engine.trigger(egChain, { params: { holdAt: 'b' } });
  await waitFor(async () => (await readRecords(suite.journal, runId, 'b')).length > 0, 30_000, 'b to start');
  await assertClaimedBy(t, runtime, runId, owner.id);
  const firstDeadline = (await stepInfo(runtime, runId, 'b')).ld!;
  // The first deadline passed 2 s ago (the fixture reconciler looks every 0.5 s at runs idle for 1 s) and the lease is held.
  await waitFor(async () => Date.now() > firstDeadline + 2_000 && ((await stepInfo(runtime, runId, 'b')).ld ?? 0) > Date.now(), 30_000, 'the lease renewed past its first deadline');
  t.is((await runtime.queues.jobPresence('default', [`${runId}.b`])).get(`${runId}.b`), 'missing', 'not re-queued while its lease is renewed');
  await openGate(suite.journal, runId);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 });
  t.is(view.status, 'succeeded');
  t.deepEqual((await readRecords(suite.journal, runId, 'b')).map((r) => r.pid), [owner.pid], 'b ran once');
  t.is(published.filter((m) => m === `${runId}|b|s`).length, 1);
});

test.serial('SIGTERM past the drain timeout hands an eagerly claimed step back: queued again, no attempt counted, the next worker finishes it', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const first = await worker(prefix, { CONVEYOR_DRAIN_TIMEOUT: '1s' });
  const { runId } = await runtime.engine.trigger(egChain, { params: { holdAt: 'b' } });
  await waitFor(async () => (await readRecords(suite.journal, runId, 'b')).length > 0, 30_000, 'b to start');
  await assertClaimedBy(t, runtime, runId, first.id);
  first.signal('SIGTERM');
  t.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr());
  const handedBack = await runtime.engine.getRun(runId);
  t.is(handedBack.steps.b.status, 'queued', 'handed back, not failed');
  t.is((await runtime.queues.jobPresence('default', [`${runId}.b`])).get(`${runId}.b`), 'present', 'b\'s job is in the queue');
  t.true(first.events().some((e) => e.event === 'step-handed-back' && e.step === 'b'));
  await openGate(suite.journal, runId);
  const second = await worker(prefix);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 });
  t.is(view.status, 'succeeded', second.stderr());
  t.like(view.steps.b, { attempts: 1, output: { pid: second.pid } });
  t.deepEqual((await readRecords(suite.journal, runId, 'b')).map((r) => r.pid), [first.pid, second.pid]);
});

test.serial('kill -9 of a worker working through a fan-out list: the steps it held run again elsewhere, every other one runs once, each recorded once', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const victim = await worker(prefix, { FX_CONCURRENCY: '2' });
  const { runId } = await runtime.engine.trigger(egFan, { params: { hold: true } });
  // Its two slots: the completion of root claimed one fan step, a pickup job claimed the next.
  const fanSteps = Array.from({ length: FAN_WIDTH }, (_, i) => `f${i}`);
  const started = async () => {
    const records = await Promise.all(fanSteps.map(async (step) => ((await readRecords(suite.journal, runId, step)).length > 0 ? [step] : [])));
    return records.flat();
  };
  await waitFor(async () => (await started()).length === 2, 30_000, 'two fan steps to start on the victim');
  const held = await started();
  const letters = await runtime.store.stepStatusLetters(runId);
  const listed = await runtime.redis.lrange(runtime.keys.fanOutList(runId, 'default'), 0, -1);
  t.is(listed.length, FAN_WIDTH - 2, 'the other fan steps wait on the list, not in the queue');
  for (const step of held) {
    t.is(letters[step], 'r');
    t.like(await stepInfo(runtime, runId, step), { w: victim.id, a: 1 });
    t.is((await runtime.queues.jobPresence('default', [`${runId}.${step}`])).get(`${runId}.${step}`), 'missing', `${step} has no queue job`);
  }
  victim.signal('SIGKILL');
  await victim.exited;
  await openGate(suite.journal, runId);
  const survivor = await worker(prefix);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  // On failure: the survivor's log and each step's record (a stall past the limit under load shows here).
  t.is(view.status, 'succeeded', `${survivor.stderr()}\n${JSON.stringify(view.steps)}`);
  for (const step of ['root', ...fanSteps, 'join']) {
    t.is(published.filter((m) => m === `${runId}|${step}|s`).length, 1, `one recorded completion of ${step}`);
    const runs = (await readRecords(suite.journal, runId, step)).map((r) => r.pid);
    if (held.includes(step)) t.deepEqual(runs, [victim.pid, survivor.pid], `${step} ran on the victim, then again on the survivor`);
    else if (step !== 'root') t.deepEqual(runs, [survivor.pid], `${step} ran once`);
    if (step !== 'root') t.like(view.steps[step], { status: 'succeeded', output: { pid: survivor.pid } });
  }
  t.is(published.filter((m) => m === `${runId}||succeeded`).length, 1, 'the run ended once');
  t.is(await runtime.redis.exists(runtime.keys.fanOutList(runId, 'default')), 0, 'no list is left');
});
