import test from 'ava';
import { randomBytes } from 'node:crypto';
import { definePipeline } from '../../src/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { waitFor } from '../fixtures/procs.ts';
import type { Pipeline } from '../../src/dsl/index.ts';
import { Reconciler } from '../../src/engine/reconciler.ts';
import { StepLifecycle } from '../../src/engine/step-lifecycle.ts';

/**
 * Attacks on fan-out lists (docs/internals.md, "Fan-out lists"): store-driven cases play the workers'
 * scripts in a chosen order; in-process cases run real workers. A test that found a bug says, in its
 * comment or its commit, which fix it holds to (each fails on the code before that fix).
 */

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const now = () => Date.now();
const offer = (steps: string[], token: string, needs: Record<string, string[]> = {}) => ({
  steps, token, worker: 'w1', leaseDeadline: now() + 60_000, codeVersion: '', withFixed: false,
  needsOf: (s: string) => needs[s] ?? ['root'],
});

function fan3(id: string) {
  return definePipeline({ id })
    .step('root', () => 1)
    .step('f0', { needs: ['root'] }, () => 1)
    .step('f1', { needs: ['root'], retries: 3, backoff: { type: 'fixed', delayMs: 60_000 } }, () => 1)
    .step('f2', { needs: ['root'] }, () => 1)
    .step('join', { needs: ['f0', 'f1', 'f2'] }, () => 1);
}

// A listed step can also get a job (the reconciler's copy while the run idled). If that job starts
// it and the attempt fails with a backoff, the step is `queued` again, waiting for its delayed retry
// job — and its stale list entry is still there. The next chain pops the entry and claims the step at
// once as attempt 1: the backoff is skipped and the attempt count starts over (retries + 1 attempts
// become unbounded by the list's copies). Fixed in includes/eager-claim.lua claimListed: an entry is
// claimed only for a step not yet started in the run's current generation.
test('a stale list entry does not claim a step that waits for its retry backoff (started meanwhile through a job)', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const { runId } = await rt.engine.trigger(fan3('stale-entry-retry'));
    t.true((await rt.store.startStep(runId, 'root', 'root-t', 'w1', 1, [], now())).ok);
    const done = await rt.store.completeStep(runId, 'root', 'root-t', 's', '1', now(), { claim: offer(['f0', 'f1', 'f2'], 'f0-t'), pool: 'default' });
    t.like(done, { ok: true, listed: 2, claimed: { step: 'f0' } });
    // The reconciler's copy of f1 starts it through a job; the attempt fails and waits 60 s for its retry.
    t.true((await rt.store.startStep(runId, 'f1', 'f1-job', 'w2', 1, ['root'], now())).ok);
    t.true(await rt.store.recordRetry(runId, 'f1', 'f1-job', JSON.stringify({ message: 'transient' }), now(), now() + 60_000));
    // f0 completes with nothing ready: its worker takes the list's next step.
    const next = await rt.store.completeStep(runId, 'f0', 'f0-t', 's', '1', now(), { claim: offer([], 'next-t'), pool: 'default' });
    t.true(next.ok);
    const claimed = next.ok ? next.claimed?.step : undefined;
    t.not(claimed, 'f1', 'f1 waits for its backoff: it must not be claimed now');
    t.is(claimed, 'f2');
    t.is((await rt.store.stepStatusLetters(runId)).f1, 'q');
  } finally {
    await rt.close();
  }
});

// Same with a parked step (ctx.park): parked, it is `queued` with a delayed resume job; a stale entry
// would start it anew at once (no parked state handed to the handler, attempt 1).
test('a stale list entry does not claim a parked step', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const { runId } = await rt.engine.trigger(fan3('stale-entry-park'));
    t.true((await rt.store.startStep(runId, 'root', 'root-t', 'w1', 1, [], now())).ok);
    await rt.store.completeStep(runId, 'root', 'root-t', 's', '1', now(), { claim: offer(['f0', 'f1', 'f2'], 'f0-t'), pool: 'default' });
    t.true((await rt.store.startStep(runId, 'f1', 'f1-job', 'w2', 1, ['root'], now())).ok);
    t.truthy(await rt.store.parkStep(runId, 'f1', 'f1-job', JSON.stringify({ polls: 1 }), now(), `${runId}.f1.p1`));
    const next = await rt.store.completeStep(runId, 'f0', 'f0-t', 's', '1', now(), { claim: offer([], 'next-t'), pool: 'default' });
    t.is(next.ok ? next.claimed?.step : undefined, 'f2');
  } finally {
    await rt.close();
  }
});

// Cancel leaves the list behind (its 24 h expiry); engine.retry starts a new generation whose jobs
// run the reset steps. An old entry may still claim a reset step that never started in the new
// generation (its new job is then dropped under the claim's lease): it runs once, attempt 1. But once
// the new generation started it (and its attempt failed into a backoff), the old entry must not.
test('after cancel and retry, an old generation\'s list entry does not claim a step the new generation started', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const { runId } = await rt.engine.trigger(fan3('stale-entry-gen'));
    t.true((await rt.store.startStep(runId, 'root', 'root-t', 'w1', 1, [], now())).ok);
    await rt.store.completeStep(runId, 'root', 'root-t', 's', '1', now(), { claim: offer(['f0', 'f1', 'f2'], 'f0-t'), pool: 'default' });
    await rt.engine.cancel(runId, 'test');
    // Before the finish bookkeeping deleted the run's lists, a cancel left them (24 h expiry) and a
    // retry found the old generation's entries; put them back to attack claimListed's check alone.
    t.is(await rt.redis.exists(rt.keys.fanOutList(runId, 'default')), 0, 'the cancelled run\'s list is gone');
    await rt.redis.rpush(rt.keys.fanOutList(runId, 'default'), 'f1|root', 'f2|root');
    await rt.engine.retry(runId);
    // Generation 1 starts f1 through its job; the attempt fails into a backoff.
    t.true((await rt.store.startStep(runId, 'f1', 'f1-g1', 'w2', 1, ['root'], now())).ok);
    t.true(await rt.store.recordRetry(runId, 'f1', 'f1-g1', JSON.stringify({ message: 'transient' }), now(), now() + 60_000));
    t.true((await rt.store.startStep(runId, 'f0', 'f0-g1', 'w2', 1, ['root'], now())).ok);
    const next = await rt.store.completeStep(runId, 'f0', 'f0-g1', 's', '1', now(), { claim: offer([], 'next-t'), pool: 'default' });
    t.is(next.ok ? next.claimed?.step : undefined, 'f2', 'the old entry of f1 is dropped; f2 (never started in generation 1) is claimed');
    const pickedUp = await rt.store.pickup(runId, 'default', { token: 'p-t', worker: 'w3', leaseDeadline: now() + 60_000, codeVersion: '', withFixed: false, needsOf: () => ['root'] }, now());
    t.is(pickedUp, undefined);
  } finally {
    await rt.close();
  }
});

/** A second runtime on `rt`'s Redis and prefix, with its own settings (a worker configured otherwise). */
async function sibling(rt: Runtime, env: Record<string, string>): Promise<Runtime> {
  return createRuntime(loadConfig({
    REDIS_URL: redis.url, CONVEYOR_PREFIX: rt.config.prefix, CONVEYOR_LOG_LEVEL: 'silent', CONVEYOR_STALLED_INTERVAL: '1s', CONVEYOR_LOCK_DURATION: '2s', ...env,
  }, {}), { logger: silentLogger });
}

/** root → f0 … f(width-1); each fan step holds `ms` and counts how many run at once. */
function parallelFan(id: string, width: number, ms: number, seen: { now: number; max: number; started: string[] }): Pipeline<any, any> {
  let p: Pipeline<any, any> = definePipeline({ id, defaults: { retries: 0 } }).step('root', () => 'r');
  for (let i = 0; i < width; i++) {
    p = p.step(`f${i}`, { needs: ['root'] }, async () => {
      seen.started.push(`f${i}`);
      seen.max = Math.max(seen.max, ++seen.now);
      await new Promise((resolve) => setTimeout(resolve, ms));
      seen.now--;
      return i;
    });
  }
  return p;
}

// A fleet where some workers have CONVEYOR_EAGER_DISPATCH=0 (a rollout, a kill switch on some hosts):
// the eager worker lists a fan-out and adds pickup jobs, but a worker with eager dispatch off drops
// every pickup it takes (step-jobs.ts `pickup`: `if (!this.o.eager?.()) return`). The listed steps
// then run one after another in the listing worker's chain while the other workers idle, and the run
// never goes idle, so the reconciler does not step in either. Fixed in step-jobs.ts: a pickup is the
// listed step's stand-in for a job, so any worker that serves the run takes it (its completion,
// claiming nothing more, leaves a pickup for the rest); only a closing worker hands it back.
test('a worker with eager dispatch off takes part in a fan-out listed by an eager worker', async (t) => {
  const rt = await testRuntime(redis);
  const seen = { now: 0, max: 0, started: [] as string[] };
  const p = parallelFan('fan-mixed', 6, 400, seen);
  const eager = await withWorker(rt, [p], { concurrency: 1, reconcileIdleMs: 60_000 });
  const offRt = await sibling(rt, { CONVEYOR_EAGER_DISPATCH: '0' });
  let off: Awaited<ReturnType<typeof withWorker>> | undefined;
  try {
    const { runId } = await rt.engine.trigger(p);
    await waitFor(() => seen.started.length >= 1, 15_000, 'the eager worker to claim the first fan step');
    off = await withWorker(offRt, [p], { concurrency: 4, reconcileIdleMs: 60_000 });
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 30_000 });
    t.is(view.status, 'succeeded');
    t.true(seen.max >= 2, `fan steps ran ${seen.max} at a time`);
    t.true(new Set(Object.values(view.steps).map((s) => s.worker)).has(off.worker.id), 'the eager-off worker ran some');
  } finally {
    await off?.stop(2_000);
    await eager.stop(2_000);
    await offRt.close();
    await rt.close();
  }
});

// A listed step that fails for good ends through lifecycle.end, whose completion carries no eager
// offer and no pool: it claims no next entry and adds no pickup, so each such failure ends a chain
// for good. Once the pickups are used up (CONVEYOR_FANOUT_PICKUPS, or a fan-out wider than 256), the
// rest of the list has no chain and waits for the reconciler to find the run idle. Fixed in
// step-jobs.ts `end` (+ lifecycle.end): a final failure offers like a success, so the chain goes on.
test('a fan-out whose listed steps fail for good still works through its list (failures do not end the chains)', async (t) => {
  const rt = await testRuntime(redis, { CONVEYOR_FANOUT_PICKUPS: '1' });
  let p: Pipeline<any, any> = definePipeline({ id: 'fan-failing', defaults: { retries: 0 } }).step('root', () => 'r');
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    names.push(`f${i}`);
    p = p.step(`f${i}`, { needs: ['root'] }, () => {
      throw new Error(`f${i} fails`);
    });
  }
  p = p.step('collect', { needs: names, runWhen: 'all-done' }, ({ upstreamStatus }: { upstreamStatus: Record<string, string> }) => Object.values(upstreamStatus).filter((s) => s === 'failed').length);
  const host = await withWorker(rt, [p], { concurrency: 1, reconcileIdleMs: 60_000 });
  try {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 10_000 });
    t.is(view.steps.collect.output, 6);
    t.is(await rt.redis.exists(rt.keys.fanOutList(view.id, 'default')), 0);
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});

// The reverse order of the stale-entry case: the reconciler added a copy job for a listed step while
// the run idled; a chain then claims the step from the list, and its attempt fails into a retry. The
// eager retry adds the step's job (same deterministic id, with the backoff delay and n = attempts
// used) — but the copy still waits under that id, so the add is a no-op: the copy runs the retry at
// once (no backoff) as attempt 1 (no n), and the step gets one attempt more than its retries allow.
// Fixed in step-lifecycle.ts requeueEager (Engine.enqueue `replace`): the waiting copy is removed
// first. An active copy (being delivered that very moment) cannot be removed: that race remains.
test('an eagerly claimed listed step that retries gets its backoff even when a copy job of it waits in the queue', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const { runId } = await rt.engine.trigger(fan3('copy-then-retry'));
    t.true((await rt.store.startStep(runId, 'root', 'root-t', 'w1', 1, [], now())).ok);
    await rt.store.completeStep(runId, 'root', 'root-t', 's', '1', now(), { claim: offer(['f0', 'f1', 'f2'], 'f0-t'), pool: 'default' });
    // A copy job of the listed (queued, jobless) f1 waits in the queue (the reconciler of earlier
    // versions gave each listed step of an idle run one; now it adds a pickup instead).
    await rt.engine.enqueue(runId, ['f1']);
    t.is((await rt.queues.jobPresence('default', [`${runId}.f1`])).get(`${runId}.f1`), 'present', 'the copy of f1 waits');
    // A chain claims f1 from the list before the copy is delivered; the attempt fails, retries left.
    const lifecycle = new StepLifecycle({ engine: rt.engine, store: rt.store, clock: rt.clock, logger: rt.logger });
    const claimed = await lifecycle.pickup({ runId, pool: 'default', worker: 'w1', codeVersion: '', withFixed: false, needsOf: () => ['root'] });
    t.is(claimed?.step, 'f1');
    const ended = await lifecycle.end({
      runId, step: 'f1', token: claimed!.token, worker: 'w1', attempt: 1, maxAttempts: 4, backoffMs: 60_000,
      reason: { kind: 'handler-error', error: new Error('transient'), retryable: true }, errorJson: JSON.stringify({ message: 'transient' }), eager: true,
    });
    t.is(ended.decision, 'retry');
    const job = await rt.queues.queue('default').getJob(`${runId}.f1`);
    t.is(job?.data.n, 1, 'the job of the retry counts the eager attempt');
    t.true(await job!.isDelayed(), 'the retry waits for its backoff');
  } finally {
    await rt.close();
  }
});

// Pool concurrency: a worker serving `default` and `gpu` with concurrency 1 runs at most one step of
// each pool at a time. Claims stay in the slot's own pool (src/worker/eager.ts): before, root's
// completion claimed g into the `default` slot, which then worked through g's whole `gpu` fan-out
// list while the gpu slot's pickups ran the same list (two gpu steps at once). Fails on 7404e85.
test('a worker with one gpu slot runs one gpu step at a time through a gpu fan-out', async (t) => {
  const rt = await testRuntime(redis);
  const seen = { now: 0, max: 0, started: [] as string[] };
  let p: Pipeline<any, any> = definePipeline({ id: 'fan-gpu', defaults: { retries: 0 } })
    .step('root', () => 1)
    .step('g', { needs: ['root'], queue: 'gpu' }, () => 1);
  for (let i = 0; i < 6; i++) {
    p = p.step(`h${i}`, { needs: ['g'], queue: 'gpu' }, async () => {
      seen.started.push(`h${i}`);
      seen.max = Math.max(seen.max, ++seen.now);
      await new Promise((resolve) => setTimeout(resolve, 300));
      seen.now--;
      return i;
    });
  }
  const host = await withWorker(rt, [p], { concurrency: 1, queues: ['default', 'gpu'], reconcileIdleMs: 60_000 });
  try {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'succeeded');
    t.is(seen.max, 1, `gpu steps ran ${seen.max} at a time`);
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});

// Held: listed siblings with condition skips, runWhen rules and a map step after the fan-out, in two
// pools, on two eager workers: every step runs once with the right upstream outputs, the rules decide
// as without lists, and no list or lease is left when the run ends.
test('a mixed fan-out (conditions, runWhen, a map after it, two pools) runs each step once with the right inputs', async (t) => {
  const rt = await testRuntime(redis);
  const runs: Record<string, number> = {};
  const count = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
  let p: Pipeline<any, any> = definePipeline({ id: 'fan-mixed-rules', defaults: { retries: 0 } }).step('root', () => 10);
  const names: string[] = [];
  for (let i = 0; i < 12; i++) {
    const name = `s${i}`;
    names.push(name);
    const gpu = i % 4 === 3;
    p = p.step(name, {
      needs: ['root'], ...(gpu ? { queue: 'gpu' } : {}),
      ...(i % 5 === 1 ? { if: () => false } : {}),
    }, ({ upstream }: { upstream: { root: number } }) => {
      count(name);
      if (i % 6 === 2) throw new Error(`${name} fails`);
      return upstream.root + i;
    });
  }
  p = p
    .step('anyOk', { needs: names, runWhen: 'one-succeeded' }, ({ upstream }: { upstream: Record<string, unknown> }) => (count('anyOk'), Object.keys(upstream).length))
    .step('allDone', { needs: names, runWhen: 'all-done' }, ({ upstreamStatus }: { upstreamStatus: Record<string, string> }) => {
      count('allDone');
      return Object.values(upstreamStatus).sort().join(',');
    })
    .map('each', { needs: ['s0', 's4'], over: ({ upstream }) => [upstream.s0 as number, upstream.s4 as number] }, (_ctx, item: number) => item * 2)
    .step('after', { needs: ['each'] }, ({ upstream }) => (count('after'), upstream.each));
  const a = await withWorker(rt, [p], { concurrency: 2, reconcileIdleMs: 60_000 });
  const b = await withWorker(rt, [p], { concurrency: 2, reconcileIdleMs: 60_000 });
  const claimed: string[] = [];
  for (const host of [a, b]) host.onEvent((e) => void (e.type === 'step-claimed' && claimed.push(e.step)));
  try {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 20_000 });
    t.true(claimed.filter((s) => /^s\d+$/.test(s)).length >= 4, `fan steps went through claims and the list: ${claimed.join(',')}`);
    // s2 and s8 fail, but they are not leaves (the default outcome rule): the run succeeds.
    t.is(view.status, 'succeeded');
    for (let i = 0; i < 12; i++) {
      const s = view.steps[`s${i}`];
      if (i % 5 === 1) t.is(s.status, 'skipped', `s${i}`);
      else if (i % 6 === 2) t.is(s.status, 'failed', `s${i}`);
      else t.like(s, { status: 'succeeded', output: 10 + i, attempts: 1 }, `s${i}`);
    }
    for (const [name, n] of Object.entries(runs)) t.is(n, 1, `${name} ran once`);
    t.is(view.steps.anyOk.status, 'succeeded');
    t.is(view.steps.allDone.output, [...Array(12).keys()].map((i) => (i % 5 === 1 ? 'skipped' : i % 6 === 2 ? 'failed' : 'succeeded')).sort().join(','));
    t.deepEqual(view.steps.after.output, [20, 28]);
    for (const pool of ['default', 'gpu']) t.is(await rt.redis.exists(rt.keys.fanOutList(view.id, pool)), 0, `no ${pool} list left`);
    t.is(await rt.redis.exists(rt.keys.run(view.id).leases), 0);
  } finally {
    await a.stop(2_000);
    await b.stop(2_000);
    await rt.close();
  }
});

// A dead worker's claim in a progressing fan-out: the reconciler checks the run because one lease
// expired, but then treated every open step as for an idle run — each listed step (queued, no job by
// design) was "lost" and got a job: a 10,000-step list became 10,000 queue jobs (and copy jobs, whose
// races the tests above cover) because one worker died. Fixed in reconciler.ts: a run that is not
// idle is checked only for its expired claims.
test('a lease that expires while the run progresses re-queues that claim only, not every listed step', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const { runId } = await rt.engine.trigger(fan3('lease-only'));
    t.true((await rt.store.startStep(runId, 'root', 'root-t', 'w1', 1, [], now())).ok);
    const dead = { ...offer(['f0', 'f1', 'f2'], 'f0-t'), leaseDeadline: now() - 1 };
    t.like(await rt.store.completeStep(runId, 'root', 'root-t', 's', '1', now(), { claim: dead, pool: 'default' }), { ok: true, listed: 2 });
    const reconciler = new Reconciler({ engine: rt.engine, store: rt.store, queues: rt.queues, clock: rt.clock, logger: rt.logger, idleMs: 60_000, intervalMs: 60_000 });
    await rt.redis.zadd(rt.keys.activeRuns, 0, runId); // due for a look; its updatedAt is fresh
    await reconciler.pass();
    const presence = await rt.queues.jobPresence('default', [`${runId}.f0`, `${runId}.f1`, `${runId}.f2`]);
    t.is(presence.get(`${runId}.f0`), 'present', 'the expired claim is re-queued');
    t.is(presence.get(`${runId}.f1`), 'missing', 'a listed step stays on the list');
    t.is(presence.get(`${runId}.f2`), 'missing');
  } finally {
    await rt.close();
  }
});

// A list of another pool than the last completion's, whose entries jobs ran (the reconciler's copies,
// or completions that took nothing from it: eager dispatch off, a slot at CHAIN_YIELD), stayed after
// the run ended for the lists' 24 h expiry — past a shorter retention and a deleted run. Fixed in
// Engine.finish: the run's lists of every pool are deleted.
test('no fan-out list of any pool is left once the run ended', async (t) => {
  const rt = await testRuntime(redis);
  try {
    const p = definePipeline({ id: 'list-leak' })
      .step('root', () => 1)
      .step('g', { needs: ['root'], queue: 'gpu' }, () => 1)
      .step('h0', { needs: ['g'], queue: 'gpu' }, () => 1)
      .step('h1', { needs: ['g'], queue: 'gpu' }, () => 1)
      .step('d', { needs: ['root'] }, () => 1);
    const { runId } = await rt.engine.trigger(p);
    const run = async (step: string, needs: string[], o: Parameters<typeof rt.store.completeStep>[6] = {}) => {
      t.true((await rt.store.startStep(runId, step, `${step}-t`, 'w', 1, needs, now())).ok, `${step} starts`);
      return rt.store.completeStep(runId, step, `${step}-t`, 's', '1', now(), o);
    };
    await run('root', []);
    // g's completion (its worker serves gpu) lists h1; h1 then runs from a job (the reconciler's copy).
    t.true((await rt.store.startStep(runId, 'g', 'g-t', 'w', 1, ['root'], now())).ok);
    const listed = await rt.store.completeStep(runId, 'g', 'g-t', 's', '1', now(), { claim: offer(['h0', 'h1'], 'h0-t', { h0: ['g'], h1: ['g'] }), pool: 'gpu' });
    t.like(listed, { ok: true, listed: 1, claimed: { step: 'h0' } });
    await run('h1', ['g'], { pool: 'gpu' });
    t.like(await rt.store.completeStep(runId, 'h0', 'h0-t', 's', '1', now(), { pool: 'gpu' }), { ok: true, listed: 1 });
    const end = await run('d', ['root'], { pool: 'default' });
    t.like(end, { ok: true, finalStatus: 'succeeded' });
    await rt.engine.finish(runId, 'succeeded');
    t.is(await rt.redis.exists(rt.keys.fanOutList(runId, 'gpu')), 0, 'the gpu list is gone');
  } finally {
    await rt.close();
  }
});

// A pool shared by pipelines: a worker without the run's pipeline used to drop the pickup jobs it
// took, so when incapable workers grabbed them first the capable workers that would have joined got
// none and the fan-out ran in the listing worker's one chain. A pickup is now routed like a step's
// job: to the version queue capable workers consume (StepLifecycle.routePickup). Fails on 7404e85.
test('a capable worker joins a fan-out even when a worker without the pipeline took the pickups first', async (t) => {
  const rt = await testRuntime(redis);
  const seen = { now: 0, max: 0, started: [] as string[] };
  const p = parallelFan('fan-shared-pool', 6, 400, seen);
  const other = definePipeline({ id: 'unrelated' }).step('x', () => 1);
  const eager = await withWorker(rt, [p], { concurrency: 1, reconcileIdleMs: 60_000 });
  let incapable: Awaited<ReturnType<typeof withWorker>> | undefined;
  let capable: Awaited<ReturnType<typeof withWorker>> | undefined;
  try {
    const { runId } = await rt.engine.trigger(p);
    await waitFor(() => seen.started.length >= 1, 15_000, 'the eager worker to claim the first fan step');
    incapable = await withWorker(rt, [other], { concurrency: 4, queues: ['default'], reconcileIdleMs: 60_000 });
    await waitFor(async () => (await rt.queues.counts('default')).wait === 0, 15_000, 'the pickups to be taken');
    capable = await withWorker(rt, [p], { concurrency: 4, reconcileIdleMs: 60_000 });
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 30_000 });
    t.is(view.status, 'succeeded');
    t.true(seen.max >= 2, `fan steps ran ${seen.max} at a time`);
  } finally {
    await capable?.stop(2_000);
    await incapable?.stop(2_000);
    await eager.stop(2_000);
    await rt.close();
  }
});
