import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { isoChain } from '../fixtures/isolation/pipelines.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost, WorkerHostOptions } from '../../src/app/worker-host.ts';
import type { Pipeline } from '../../src/dsl/index.ts';
import type { WorkerEvent } from '../../src/worker/worker.ts';
import { waitFor } from '../fixtures/procs.ts';
import { MetricsHub } from '../../src/monitoring/metrics-hub.ts';
import { CHAIN_YIELD } from '../../src/worker/eager.ts';

/**
 * Eager dispatch on in-process workers (docs/internals.md, "Eager hand-off"): a step claimed by its
 * upstream's completion behaves as a queued step does — retries with their backoff and attempt count,
 * timeouts, cancel, isolation 'process', its recorded worker, metrics events — and a worker claims
 * only what it would take from the queue. Crash safety with real processes: test/faults/eager.test.ts.
 */

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

async function withEager(
  pipelines: Pipeline<any, any>[],
  fn: (rt: Runtime, host: WorkerHost, events: WorkerEvent[]) => Promise<void>,
  o: { env?: Record<string, string>; host?: Partial<WorkerHostOptions> } = {},
): Promise<void> {
  const rt = await testRuntime(redis, o.env);
  const events: WorkerEvent[] = [];
  const host = await withWorker(rt, pipelines, o.host);
  host.onEvent((event) => events.push(event));
  try {
    await fn(rt, host, events);
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
}

const claimedSteps = (events: WorkerEvent[]) => events.flatMap((e) => (e.type === 'step-claimed' ? [e.step] : []));
const fixed = { type: 'fixed' as const, delayMs: 10 };

test('a chain hands each successor straight to its worker: claimed, recorded with that worker, finished once each', async (t) => {
  const p = definePipeline({ id: 'eager-chain' })
    .step('a', () => 1)
    .step('b', { needs: ['a'] }, ({ upstream }) => upstream.a + 1)
    .step('c', { needs: ['b'] }, ({ upstream }) => upstream.b + 1);
  await withEager([p], async (rt, host, events) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual([view.steps.a.output, view.steps.b.output, view.steps.c.output], [1, 2, 3]);
    t.deepEqual(claimedSteps(events), ['b', 'c']);
    t.is(view.steps.c.worker, host.worker.id);
    t.is(view.steps.c.attempts, 1);
    const finished = () => events.filter((e) => e.type === 'step-finished').map((e) => (e as { step: string }).step);
    // The event follows the recorded completion that ended the run.
    await waitFor(() => finished().length >= 3, 15_000, 'three step-finished events');
    t.deepEqual(finished().sort(), ['a', 'b', 'c'], 'one step-finished per step');
    const hub = new MetricsHub({ sampleMemory: false, defaultMetrics: false });
    for (const event of events) hub.record(event);
    t.regex(await hub.metrics(), /conveyor_step_eager_claims_total\{pipeline="eager-chain"\} 2/);
    hub.close();
  });
});

test('an eagerly claimed step retries through its queue with its backoff; attempts count on from the eager one', async (t) => {
  const p = definePipeline({ id: 'eager-flaky' })
    .step('a', () => 1)
    .step('flaky', { needs: ['a'], retries: 3, backoff: fixed }, ({ attempt }) => {
      if (attempt < 3) throw new Error(`transient #${attempt}`);
      return { attempt };
    });
  await withEager([p], async (rt, _host, events) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual(claimedSteps(events), ['flaky']);
    t.is(view.steps.flaky.attempts, 3);
    t.deepEqual(view.steps.flaky.output, { attempt: 3 });
    t.deepEqual(events.flatMap((e) => (e.type === 'step-retry' ? [e.attempt] : [])), [1, 2]);
  });
});

test('an eagerly claimed step that keeps failing fails after its attempts, and its dependents are skipped', async (t) => {
  let calls = 0;
  const p = definePipeline({ id: 'eager-exhaust' })
    .step('a', () => 1)
    .step('broken', { needs: ['a'], retries: 1, backoff: fixed }, () => {
      calls++;
      throw new Error('still broken');
    })
    .step('after', { needs: ['broken'] }, () => 1);
  await withEager([p], async (rt) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'failed');
    t.is(calls, 2);
    t.like(view.steps.broken, { status: 'failed', attempts: 2, error: { message: 'still broken' } });
    t.is(view.steps.after.status, 'skipped');
  });
});

test('an eagerly claimed step times out like a queued one: retried, then failed with a TimeoutError', async (t) => {
  const p = definePipeline({ id: 'eager-timeout' })
    .step('a', () => 1)
    .step('slow', { needs: ['a'], retries: 1, backoff: fixed, timeoutMs: 100 }, ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', resolve)));
  await withEager([p], async (rt, _host, events) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.deepEqual(claimedSteps(events), ['slow']);
    t.like(view.steps.slow, { status: 'failed', attempts: 2, error: { name: 'TimeoutError' } });
  });
});

test('cancel aborts an eagerly claimed step and drops its result', async (t) => {
  let aborted = false;
  let started = false;
  const p = definePipeline({ id: 'eager-cancel' })
    .step('a', () => 1)
    .step('hold', { needs: ['a'] }, ({ signal }) => {
      started = true;
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve((aborted = true))));
    });
  await withEager([p], async (rt, _host, events) => {
    const { runId } = await rt.engine.trigger(p);
    await waitFor(() => started, 15_000, 'hold to start');
    await rt.engine.cancel(runId);
    await waitFor(() => aborted, 15_000, 'hold to be aborted');
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(view.status, 'cancelled');
    t.deepEqual(claimedSteps(events), ['hold']);
    t.is(view.steps.hold.status, 'cancelled');
  });
});

test('an eagerly claimed step with isolation "process" runs in its own process', async (t) => {
  await withEager([isoChain], async (rt, _host, events) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(isoChain)).runId, { timeoutMs: 60_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual(claimedSteps(events), ['second']);
    const second = view.steps.second.output as { pid: number; firstPid: number };
    t.is(second.firstPid, process.pid);
    t.not(second.pid, process.pid);
  });
});

test('a worker claims only what it would take from the queue: a successor in a pool it does not serve goes to that queue', async (t) => {
  const p = definePipeline({ id: 'eager-pools' })
    .step('a', () => 1)
    .step('gpu', { needs: ['a'], queue: 'gpu' }, () => 2);
  await withEager([p], async (rt, _host, events) => {
    const { runId } = await rt.engine.trigger(p);
    await waitFor(async () => (await rt.queues.jobPresence('gpu', [`${runId}.gpu`])).get(`${runId}.gpu`) === 'present', 15_000, 'a job for gpu in its queue');
    t.deepEqual(claimedSteps(events), []);
    t.is((await rt.store.stepStatusLetters(runId)).gpu, 'q');
    const gpuWorker = await withWorker(rt, [p], { queues: ['gpu'] });
    try {
      t.is((await rt.engine.waitForRun(runId, { timeoutMs: 15_000 })).status, 'succeeded');
    } finally {
      await gpuWorker.stop(2_000);
    }
  }, { host: { queues: ['default'] } });
});

test('CONVEYOR_EAGER_DISPATCH=0: every step goes through its queue', async (t) => {
  const p = definePipeline({ id: 'eager-off' }).step('a', () => 1).step('b', { needs: ['a'] }, () => 2);
  await withEager([p], async (rt, _host, events) => {
    t.is((await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 })).status, 'succeeded');
    t.deepEqual(claimedSteps(events), []);
  }, { env: { CONVEYOR_EAGER_DISPATCH: '0' } });
});

/** root → f0 … f(width-1) → join; each fan step takes `ms` (honouring its signal) and returns its index. */
function fanPipeline(id: string, width: number, ms: number, started?: string[]): Pipeline<any, any> {
  const hold = (signal: AbortSignal) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
  let p: Pipeline<any, any> = definePipeline({ id, defaults: { retries: 0 } }).step('root', () => 'r');
  const names: string[] = [];
  for (let i = 0; i < width; i++) {
    names.push(`f${i}`);
    p = p.step(`f${i}`, { needs: ['root'] }, async ({ signal, upstream }: { signal: AbortSignal; upstream: { root: string } }) => {
      started?.push(`f${i}`);
      await hold(signal);
      return `${upstream.root}${i}`;
    });
  }
  return p.step('join', { needs: names }, ({ upstream }: { upstream: Record<string, string> }) => Object.keys(upstream).length);
}

test('a fan-out waits on the run\'s list, not as one queue job per step: chains of claims work through it, and pickup jobs bring in the other workers', async (t) => {
  const width = 40;
  const p = fanPipeline('fan-list', width, 20);
  await withEager([p], async (rt, host, events) => {
    const other = await withWorker(rt, [p], { concurrency: 2 });
    const otherEvents: WorkerEvent[] = [];
    other.onEvent((event) => otherEvents.push(event));
    try {
      const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 30_000 });
      t.is(view.status, 'succeeded');
      t.is(view.steps.join.output, width);
      const fan = Array.from({ length: width }, (_, i) => `f${i}`);
      for (const [i, step] of fan.entries()) t.like(view.steps[step], { status: 'succeeded', attempts: 1, output: `r${i}` });
      // Every fan step was claimed (from the completion of root, or from the list), none taken from a job.
      t.deepEqual([...claimedSteps(events), ...claimedSteps(otherEvents)].filter((s) => s.startsWith('f')).sort(), [...fan].sort());
      const workers = new Set(fan.map((step) => view.steps[step].worker));
      t.deepEqual([...workers].sort(), [host.worker.id, other.worker.id].sort(), 'both workers ran fan steps');
      t.is(await rt.redis.exists(rt.keys.fanOutList(view.id, 'default')), 0, 'the list is gone once the run ended');
    } finally {
      await other.stop(2_000);
    }
  }, { host: { concurrency: 2 } });
});

test('cancel during a fan-out: no listed step starts afterwards, the run ends cancelled, and a leftover list expires on its own', async (t) => {
  const started: string[] = [];
  const p = fanPipeline('fan-cancel', 20, 60_000, started);
  await withEager([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    await waitFor(() => started.length === 2, 15_000, 'two fan steps to start');
    await rt.engine.cancel(runId, 'test');
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(view.status, 'cancelled');
    // The running steps end on their signal; their completions are dropped and claim nothing more.
    await waitFor(async () => {
      const steps = (await rt.engine.getRun(runId)).steps;
      return started.every((step) => steps[step].status === 'cancelled');
    }, 15_000, 'the running fan steps to be cancelled');
    t.is(started.length, 2, `only the two running steps ever started: ${started.join(', ')}`);
    const list = rt.keys.fanOutList(runId, 'default');
    if (await rt.redis.exists(list)) t.true((await rt.redis.pttl(list)) > 0, 'a leftover list has an expiry');
  }, { host: { concurrency: 2 } });
});

test('a job for a step a claim holds (the reconciler\'s copy of a listed step) is dropped while the claim\'s lease lives', async (t) => {
  const started: string[] = [];
  const p = fanPipeline('fan-copy', 3, 60_000, started);
  await withEager([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    await waitFor(() => started.length === 1, 15_000, 'one fan step to start');
    const held = started[0]!;
    const copy = await rt.store.startStep(runId, held, 'copy-token', 'elsewhere', 1, ['root'], Date.now());
    t.deepEqual(copy, { ok: false, reason: 'not-ready' });
    await rt.engine.cancel(runId, 'test');
  }, { host: { concurrency: 1 } });
});

test('a slot yields after CHAIN_YIELD claims in a row: the next step goes through the queue, behind other runs\' jobs, then claiming resumes', async (t) => {
  let p: Pipeline<any, any> = definePipeline({ id: 'eager-yield' }).step('c0', () => 0);
  const length = CHAIN_YIELD + 5;
  for (let i = 1; i < length; i++) p = p.step(`c${i}`, { needs: [`c${i - 1}`] }, () => i);
  await withEager([p], async (rt, _host, events) => {
    t.is((await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 30_000 })).status, 'succeeded');
    const claimed = claimedSteps(events);
    t.false(claimed.includes(`c${CHAIN_YIELD + 1}`), 'the step after the hundredth claim came from its queue');
    t.deepEqual(claimed.length, length - 2, 'every other step was claimed');
  }, { host: { concurrency: 1 } });
});
