import test from 'ava';
import { z } from 'zod';
import { definePipeline, NonRetriableError, ValidationError } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import type { Pipeline } from '../../src/dsl/index.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

/** Runs `fn` with a fresh runtime + in-process worker serving `pipelines`. */
async function withEngine(pipelines: Pipeline<any, any>[], fn: (rt: Runtime, host: WorkerHost) => Promise<void>): Promise<void> {
  const rt = await testRuntime(redis);
  const host = await withWorker(rt, pipelines);
  try {
    await fn(rt, host);
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
}

const fast = { retries: 0, backoff: { type: 'fixed' as const, delayMs: 10 } };

/** Waits for `promise`, failing after `ms` with what was awaited. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

test('diamond: the join receives both branches typed outputs; run succeeds', async (t) => {
  const p = definePipeline({ id: 'diamond', defaults: fast })
    .step('load', async () => ({ rows: 10 }))
    .step('left', { needs: ['load'] }, async ({ upstream }) => ({ doubled: upstream.load.rows * 2 }))
    .step('right', { needs: ['load'] }, async ({ upstream }) => ({ squared: upstream.load.rows ** 2 }))
    .step('join', { needs: ['left', 'right'] }, async ({ upstream }) => ({ sum: upstream.left.doubled + upstream.right.squared }));
  await withEngine([p], async (rt) => {
    const rssBefore = process.memoryUsage().rss;
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    const rssAfter = process.memoryUsage().rss;
    t.is(view.status, 'succeeded');
    t.deepEqual(view.steps.join.output, { sum: 120 });
    t.deepEqual(Object.keys(view.steps), ['load', 'left', 'right', 'join']);
    const resources = view.steps.join.resources!;
    // The worker runs in this process and reports process-wide RSS: it must be this process's figure
    // (within a factor of 2 of what we read around the run), not a placeholder.
    t.true(resources.wallMs >= 0 && resources.cpuMs >= 0, JSON.stringify(resources));
    const [low, high] = [Math.min(rssBefore, rssAfter) / 2, Math.max(rssBefore, rssAfter) * 2];
    t.true(resources.rssBytes >= low && resources.rssBytes <= high, `rssBytes ${resources.rssBytes} outside [${low}, ${high}] around this process's RSS`);
  });
});

test('wide fan-in: 200 parallel steps all feed one join', async (t) => {
  let p: any = definePipeline({ id: 'wide', defaults: fast }).step('start', async () => ({ n: 1 }));
  const names: string[] = [];
  for (let i = 0; i < 200; i++) {
    names.push(`w${i}`);
    p = p.step(`w${i}`, { needs: ['start'] }, async () => ({ i }));
  }
  p = p.step('join', { needs: names }, async ({ upstream }: { upstream: Record<string, { i: number }> }) => ({ total: Object.values(upstream).reduce((a, u) => a + u.i, 0) }));
  await withEngine([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 30_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual(view.steps.join.output, { total: (199 * 200) / 2 });
  });
});

test('`if` false skips the step, dependents with the default runWhen are skipped, and the run still succeeds', async (t) => {
  const p = definePipeline({ id: 'cond', params: z.object({ min: z.number() }), defaults: fast })
    .step('train', async () => ({ accuracy: 0.8 }))
    .step('deploy', { needs: ['train'], if: ({ upstream, params }) => upstream.train.accuracy >= params.min }, async () => ({ deployed: true }))
    .step('announce', { needs: ['deploy'] }, async () => ({ ok: true }))
    .step('notify', { needs: ['deploy'], runWhen: 'upstream-done' }, async ({ upstream }) => ({ deployed: upstream.deploy?.deployed ?? false }));
  await withEngine([p], async (rt) => {
    const low = await rt.engine.waitForRun((await rt.engine.trigger(p, { params: { min: 0.9 } })).runId, { timeoutMs: 15_000 });
    t.is(low.status, 'succeeded');
    t.is(low.steps.deploy.status, 'skipped');
    t.is(low.steps.deploy.reason, 'condition was false');
    t.is(low.steps.announce.status, 'skipped');
    t.deepEqual(low.steps.notify.output, { deployed: false });
    const high = await rt.engine.waitForRun((await rt.engine.trigger(p, { params: { min: 0.5 } })).runId, { timeoutMs: 15_000 });
    t.is(high.steps.deploy.status, 'succeeded');
    t.is(high.steps.announce.status, 'succeeded');
    t.deepEqual(high.steps.notify.output, { deployed: true });
  });
});

test('runWhen: upstream-failed runs only on failure; upstream-done always; default skips after a failure', async (t) => {
  const make = (fail: boolean) =>
    definePipeline({ id: `rw-${fail ? 'fail' : 'ok'}`, defaults: fast })
      .step('work', async () => {
        if (fail) throw new NonRetriableError('bad input');
        return { ok: true };
      })
      .step('next', { needs: ['work'] }, async () => ({ ran: true }))
      .step('always', { needs: ['work'], runWhen: 'upstream-done' }, async () => ({ ran: true }))
      .step('alert', { needs: ['work'], runWhen: 'upstream-failed' }, async () => ({ alerted: true }));
  const failing = make(true);
  const passing = make(false);
  await withEngine([failing, passing], async (rt) => {
    const f = await rt.engine.waitForRun((await rt.engine.trigger(failing)).runId, { timeoutMs: 15_000 });
    t.is(f.status, 'failed');
    t.is(f.steps.work.status, 'failed');
    t.is(f.steps.work.error?.message, 'bad input');
    t.is(f.steps.next.status, 'skipped');
    t.is(f.steps.next.reason, 'an upstream step failed');
    t.is(f.steps.always.status, 'succeeded');
    t.deepEqual(f.steps.alert.output, { alerted: true });
    const ok = await rt.engine.waitForRun((await rt.engine.trigger(passing)).runId, { timeoutMs: 15_000 });
    t.is(ok.status, 'succeeded');
    t.is(ok.steps.alert.status, 'skipped');
    t.is(ok.steps.next.status, 'succeeded');
  });
});

test('retries then success: attempts counted, output from the successful attempt', async (t) => {
  const p = definePipeline({ id: 'flaky', defaults: { retries: 3, backoff: { type: 'exponential', delayMs: 20 } } })
    .step('flaky', async ({ attempt }) => {
      if (attempt < 3) throw new Error(`transient #${attempt}`);
      return { attempt };
    });
  await withEngine([p], async (rt) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'succeeded');
    t.is(view.steps.flaky.attempts, 3);
    t.deepEqual(view.steps.flaky.output, { attempt: 3 });
  });
});

test('retries exhausted: the step fails, downstream is skipped, the run fails', async (t) => {
  let calls = 0;
  const p = definePipeline({ id: 'exhaust', defaults: { retries: 2, backoff: { type: 'fixed', delayMs: 10 } } })
    .step('always-fails', async () => {
      calls++;
      throw new Error('still broken');
    })
    .step('after', { needs: ['always-fails'] }, async () => ({}));
  await withEngine([p], async (rt) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'failed');
    t.is(calls, 3);
    t.is(view.steps['always-fails'].attempts, 3);
    t.is(view.steps['always-fails'].error?.message, 'still broken');
    t.is(view.steps.after.status, 'skipped');
  });
});

test('NonRetriableError fails at once despite retries left', async (t) => {
  let calls = 0;
  const p = definePipeline({ id: 'nonretry', defaults: { retries: 5, backoff: { type: 'fixed', delayMs: 10 } } }).step('once', async () => {
    calls++;
    throw new NonRetriableError('schema mismatch');
  });
  await withEngine([p], async (rt) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'failed');
    t.is(calls, 1);
    t.is(view.steps.once.error?.name, 'NonRetriableError');
  });
});

test('timeout aborts ctx.signal and fails the attempt with a TimeoutError', async (t) => {
  let sawAbort = false;
  const p = definePipeline({ id: 'slow', defaults: { retries: 0, timeoutMs: 200 } }).step('slow', async ({ signal }) => {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => ((sawAbort = true), resolve())));
    return { finished: true };
  });
  await withEngine([p], async (rt) => {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p)).runId, { timeoutMs: 15_000 });
    t.is(view.status, 'failed');
    t.true(sawAbort);
    t.regex(view.steps.slow.error!.message, /timed out after 200 ms/);
  });
});

test('cancel aborts running steps and marks the rest cancelled', async (t) => {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  let sawAbort!: () => void;
  const aborted = new Promise<void>((r) => (sawAbort = r));
  const p = definePipeline({ id: 'cancel-me', defaults: fast })
    .step('long', async ({ signal }) => {
      started();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => (sawAbort(), resolve())));
      return {};
    })
    .step('later', { needs: ['long'] }, async () => ({}));
  await withEngine([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    await running;
    const { cancelledSteps } = await rt.engine.cancel(runId, 'test');
    t.deepEqual(cancelledSteps, ['long']);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 5_000 });
    t.is(view.status, 'cancelled');
    t.is(view.steps.later.status, 'cancelled');
    await within(aborted, 5_000, 'the running handler to see its signal abort');
    t.is((await rt.engine.getRun(runId)).steps.long.status, 'cancelled');
    await t.throwsAsync(rt.engine.cancel(runId), { message: /already finished/ });
  });
});

test('retry of a failed run re-runs failed and skipped steps and keeps succeeded outputs', async (t) => {
  const calls: Record<string, number> = {};
  let broken = true;
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const p = definePipeline({ id: 'resume', defaults: fast })
    .step('extract', async () => (count('extract'), { stamp: Math.random() }))
    .step('transform', { needs: ['extract'] }, async ({ upstream }) => {
      count('transform');
      if (broken) throw new Error('bug in transform');
      return { stamp: upstream.extract.stamp };
    })
    .step('load', { needs: ['transform'] }, async ({ upstream }) => (count('load'), { stamp: upstream.transform.stamp }));
  await withEngine([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    const failed = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(failed.status, 'failed');
    const firstStamp = (failed.steps.extract.output as { stamp: number }).stamp;
    broken = false;
    const { requeued } = await rt.engine.retry(runId);
    t.deepEqual(requeued, ['transform']);
    const done = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(done.status, 'succeeded');
    t.deepEqual(calls, { extract: 1, transform: 2, load: 1 });
    t.deepEqual(done.steps.load.output, { stamp: firstStamp }, 'the kept extract output flowed downstream');
    await t.throwsAsync(rt.engine.retry(runId), { message: /only failed or cancelled runs/ });
  });
});

test('retry of a fan-in: the join waits only for its reset upstream steps, also in a run stored with lists of needs', async (t) => {
  let broken = true;
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const p = definePipeline({ id: 'fan-in-retry', defaults: fast })
    .step('root', () => (count('root'), 1))
    .step('a', { needs: ['root'] }, () => (count('a'), 'a'))
    .step('b', { needs: ['root'] }, () => {
      count('b');
      if (broken) throw new NonRetriableError('b is broken');
      return 'b';
    })
    .step('c', { needs: ['root'] }, () => (count('c'), 'c'))
    .step('join', { needs: ['a', 'b', 'c'] }, ({ upstream }) => (count('join'), `${upstream.a}${upstream.b}${upstream.c}`));
  await withEngine([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    const def = rt.keys.run(runId).def;
    // A definition holds the number of upstream steps, never their list (each upstream completion reads it),
    // and each successor's kind: the rule letter of a step with this one upstream, '+' for a join.
    t.is(await rt.redis.hget(def, 'join'), 's||3|');
    t.is(await rt.redis.hget(def, 'root'), 's|a,b,c|0|sss');
    t.is(await rt.redis.hget(def, 'a'), 's|join|1|+');
    t.is((await rt.engine.waitForRun(runId, { timeoutMs: 15_000 })).status, 'failed');
    // As an earlier version stored it: "<rule>|<successors>|<needs csv>".
    await rt.redis.hset(def, 'root', 's|a,b,c|', 'a', 's|join|root', 'b', 's|join|root', 'c', 's|join|root', 'join', 's||a,b,c');
    broken = false;
    t.deepEqual((await rt.engine.retry(runId)).requeued, ['b']);
    const done = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(done.status, 'succeeded');
    t.is(done.steps.join.output, 'abc');
    t.deepEqual(calls, { root: 1, a: 1, b: 2, c: 1, join: 1 });
  });
});

test('a run stored before successor kinds (definitions "<rule>|<successors>|<count>") goes on deciding its steps from their own definitions', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const holding = new Promise<void>((resolve) => (started = resolve));
  const p = definePipeline({ id: 'kindless-defs', defaults: fast })
    .step('root', async () => {
      started();
      await released;
      return 1;
    })
    .step('a', { needs: ['root'] }, () => 'a')
    .step('boom', { needs: ['root'] }, () => {
      throw new NonRetriableError('boom');
    })
    .step('first', { needs: ['a', 'boom'], runWhen: 'one-succeeded' }, () => 'first')
    .step('join', { needs: ['a', 'boom'] }, () => 'never')
    .step('report', { needs: ['boom'], runWhen: 'all-done' }, () => 'report');
  await withEngine([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    await within(holding, 15_000, 'root to start');
    const def = rt.keys.run(runId).def;
    const stored = (await rt.redis.hgetall(def)) as Record<string, string>;
    t.is(stored.root, 's|a,boom|0|ss');
    t.is(stored.a, 's|first,join|1|*+');
    // As the previous version stored them: no kinds.
    for (const [step, text] of Object.entries(stored)) await rt.redis.hset(def, step, text.split('|').slice(0, 3).join('|'));
    release();
    const done = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(done.steps.first.output, 'first');
    t.is(done.steps.join.status, 'skipped');
    t.is(done.steps.report.output, 'report');
    t.is(done.status, 'failed');
  });
});

test('retry re-decides condition skips: a step skipped because its upstream failed runs once that upstream succeeds', async (t) => {
  let broken = true;
  // 'any-failure': under the default leaves rule this run would end succeeded (its leaf is skipped by a
  // condition, not by the failure), and there would be nothing to retry.
  const p = definePipeline({ id: 'redecide', defaults: fast, runOutcome: 'any-failure' })
    .step('train', async () => {
      if (broken) throw new NonRetriableError('no data yet');
      return { accuracy: 0.9 };
    })
    .step('publish', { needs: ['train'], runWhen: 'upstream-done', if: ({ upstream }) => upstream.train !== undefined }, async ({ upstream }) => ({
      published: upstream.train!.accuracy,
    }))
    .step('announce', { needs: ['publish'] }, async ({ upstream }) => ({ said: upstream.publish.published }));
  await withEngine([p], async (rt) => {
    const { runId } = await rt.engine.trigger(p);
    const failed = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(failed.status, 'failed');
    t.is(failed.steps.publish.status, 'skipped');
    t.is(failed.steps.announce.status, 'skipped');
    broken = false;
    await rt.engine.retry(runId);
    const done = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(done.steps.train.status, 'succeeded');
    t.deepEqual(done.steps.publish.output, { published: 0.9 });
    t.deepEqual(done.steps.announce.output, { said: 0.9 });
    t.is(done.status, 'succeeded');
  });
});

test('bad params are rejected before anything is written; outputs over 1 MiB or that cannot be handed off fail the step', async (t) => {
  const p = definePipeline({ id: 'guarded', params: z.object({ n: z.number().int() }), defaults: fast })
    .step('big', async () => ({ blob: 'x'.repeat(1024 * 1024 + 10) }))
    .step('weird', async () => ({ when: new URL('http://example.test/') }));
  await withEngine([p], async (rt) => {
    // Run state and indexes only: BullMQ's own bookkeeping keys appear in the background.
    const keysOfThisTest = async () =>
      (await rt.redis.keys(`${rt.keys.prefix}:run:*`)).length + (await rt.redis.keys(`${rt.keys.prefix}:{${rt.keys.prefix}-g}:*`)).length;
    const before = await keysOfThisTest();
    await t.throwsAsync(rt.engine.trigger(p, { params: { n: 'three' } }), { instanceOf: ValidationError, message: /params\.n/ });
    await t.throwsAsync(rt.engine.trigger(p, { params: JSON.parse('{"n":1,"__proto__":{"polluted":true}}') }), { message: /forbidden key/ });
    t.is(await keysOfThisTest(), before, 'nothing written for rejected params');
    t.is(({} as Record<string, unknown>).polluted, undefined);
    const view = await rt.engine.waitForRun((await rt.engine.trigger(p, { params: { n: 1 } })).runId, { timeoutMs: 15_000 });
    t.regex(view.steps.big.error!.message, /returned \d+ bytes of JSON; the limit is 1048576 bytes/);
    t.regex(view.steps.weird.error!.message, /output\.when: a class instance \(URL\) cannot be handed off/);
  });
});

test('a repeat trigger with the same run id is a no-op returning the existing run', async (t) => {
  let calls = 0;
  const p = definePipeline({ id: 'idem', defaults: fast }).step('once', async () => ({ n: ++calls }));
  await withEngine([p], async (rt) => {
    const a = await rt.engine.trigger(p, { runId: 'fixed-run-1' });
    const b = await rt.engine.trigger(p, { runId: 'fixed-run-1' });
    t.deepEqual([a.created, b.created], [true, false]);
    await rt.engine.waitForRun('fixed-run-1', { timeoutMs: 15_000 });
    t.is(calls, 1);
  });
});

test('a run keeps the DAG it started with when the pipeline changes: it waits for a worker with that DAG, never runs the new one', async (t) => {
  const v1 = definePipeline({ id: 'versioned', defaults: fast }).step('a', async () => ({ v: 1 }));
  await withEngine([v1], async (rt, host) => {
    await host.stop(1_000); // no worker: the run waits in the queue
    const { runId } = await rt.engine.trigger(v1);
    const v2 = definePipeline({ id: 'versioned', defaults: fast }).step('a', async () => ({ v: 2 })).step('b', { needs: ['a'] }, async () => ({}));
    const worker2 = await withWorker(rt, [v2]);
    const worker1 = { host: undefined as WorkerHost | undefined };
    try {
      // The v2 worker takes the job but cannot run it: the step waits, visibly, without an attempt.
      let waiting = await rt.engine.getRun(runId);
      for (let i = 0; i < 200 && !waiting.steps.a.waiting; i++) {
        await new Promise((r) => setTimeout(r, 50));
        waiting = await rt.engine.getRun(runId);
      }
      t.is(waiting.steps.a.waiting, `waiting for a worker with versioned@${waiting.dagHash}`);
      t.is(waiting.steps.a.attempts, 0);
      worker1.host = await withWorker(rt, [v1]);
      const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
      t.is(view.status, 'succeeded');
      t.deepEqual(Object.keys(view.steps), ['a'], 'step b of the new version is not part of the old run');
      t.deepEqual(view.steps.a.output, { v: 1 }, 'ran the code of its own DAG');
      t.not(view.dagHash, rt.engine.validate(v2).hash);
    } finally {
      await worker2.stop(1_000);
      await worker1.host?.stop(1_000);
    }
  });
});

test('a run ends once: a second finish of the same run (the reconciler repairing the gap the worker also closes) emits no second run-finished', async (t) => {
  const p = definePipeline({ id: 'ends-once', defaults: fast }).step('only', async () => ({ ok: true }));
  await withEngine([p], async (rt) => {
    const ended: string[] = [];
    rt.onEngineEvent((event) => {
      if (event.type === 'run-finished') ended.push(event.runId);
    });
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(view.status, 'succeeded');
    // waitForRun can see the run's status before its bookkeeping is done: wait (bounded) for the event.
    for (let i = 0; i < 200 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.deepEqual(ended, [runId]);
    await rt.engine.finish(runId, 'succeeded');
    await rt.engine.finish(runId, 'succeeded');
    t.deepEqual(ended, [runId], 'metrics count a run once, triggers start once');
  });
});
