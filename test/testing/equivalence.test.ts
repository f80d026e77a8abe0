import test from 'ava';
import { z } from 'zod';
import { definePipeline, NonRetriableError, TRIGGER_RULES, type Pipeline } from 'conveyor-mlops';
import { testPipeline } from 'conveyor-mlops/testing';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import type { RunView } from '../../src/engine/run-view.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { fromEngine, fromKit } from '../helpers/step-comparison.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

/**
 * The same pipelines through `testPipeline` and through real workers on a private Redis: per step,
 * the status, attempts, output, error message and skip reason must be identical, and so must the
 * run status. This is what keeps the test kit honest when the engine's semantics change.
 */

const fast = { retries: 0, backoff: { type: 'fixed' as const, delayMs: 10 }, timeoutMs: 20_000 };

const diamond = definePipeline({ id: 'eq-diamond', defaults: fast })
  .step('a', () => ({ n: 2 }))
  .step('b', { needs: ['a'] }, ({ upstream }) => upstream.a.n * 10)
  .step('c', { needs: ['a'] }, ({ upstream }) => ({ plus: upstream.a.n + 1, when: new Date(Date.UTC(2024, 0, 1)) }))
  .step('d', { needs: ['b', 'c'] }, ({ upstream }) => ({ sum: upstream.b + upstream.c.plus, when: upstream.c.when }));

const ifSkip = definePipeline({ id: 'eq-if-skip', defaults: fast })
  .step('train', () => ({ accuracy: 0.5 }))
  .step('deploy', { needs: ['train'], if: ({ upstream }) => upstream.train.accuracy > 0.9 }, () => ({ deployed: true }))
  .step('announce', { needs: ['deploy'] }, () => 'announced')
  .step('tidy', { needs: ['announce'], runWhen: 'upstream-failed' }, () => 'tidied')
  .step('notify', { needs: ['deploy'], runWhen: 'upstream-done' }, ({ upstream, run }) => ({ deployed: upstream.deploy?.deployed ?? false, status: run.status }));

const runWhenFailure = definePipeline({ id: 'eq-runwhen-failure', defaults: fast })
  .step('ok', () => 'fine')
  .step('boom', { needs: ['ok'] }, () => {
    throw new NonRetriableError('disk full');
  })
  .step('after', { needs: ['boom'] }, () => 'never')
  .step('later', { needs: ['after', 'ok'] }, () => 'never either')
  .step('cleanup', { needs: ['boom'], runWhen: 'upstream-done' }, ({ upstream, run }) => ({ boom: upstream.boom ?? null, status: run.status }))
  .step('alert', { needs: ['later'], runWhen: 'upstream-failed' }, () => 'paged')
  .step('after-cleanup', { needs: ['cleanup'] }, () => 'ran');

const runWhenQuiet = definePipeline({ id: 'eq-runwhen-quiet', defaults: fast })
  .step('ok', () => 1)
  .step('alert', { needs: ['ok'], runWhen: 'upstream-failed' }, () => 'paged')
  .step('after-alert', { needs: ['alert'] }, () => 'x')
  .step('done', { needs: ['alert'], runWhen: 'upstream-done' }, ({ upstream }) => ({ alert: upstream.alert ?? null }));

const retriesThenSuccess = definePipeline({ id: 'eq-retries-ok', defaults: { ...fast, retries: 3 } })
  .step('flaky', ({ attempt }) => {
    if (attempt < 3) throw new Error(`transient failure on attempt ${attempt}`);
    return { attempt };
  })
  .step('use', { needs: ['flaky'] }, ({ upstream }) => upstream.flaky.attempt * 2);

const retriesExhausted = definePipeline({ id: 'eq-retries-exhausted', defaults: { ...fast, retries: 2 } })
  .step('prep', () => 'ready')
  .step('always', { needs: ['prep'] }, ({ attempt }) => {
    throw new Error(`still broken (attempt ${attempt})`);
  })
  .step('downstream', { needs: ['always'] }, () => 'never')
  .step('further', { needs: ['downstream'] }, () => 'never')
  .step('side', { needs: ['prep'] }, () => 'side ran');

const nonRetriable = definePipeline({ id: 'eq-non-retriable', defaults: { ...fast, retries: 5 } })
  .step('validate', () => {
    throw new NonRetriableError('expected 4 columns, found 3');
  })
  .step('train', { needs: ['validate'] }, () => 'never')
  .step('report', { needs: ['train'], runWhen: 'upstream-done' }, ({ run }) => run.status);

const conditionThrows = definePipeline({ id: 'eq-condition-throws', defaults: { ...fast, retries: 2 } })
  .step('a', () => ({ value: null as number | null }))
  .step('b', { needs: ['a'], if: ({ upstream }) => upstream.a.value!.toFixed(2) === '1.00' }, () => 'never');

const mapSweep = definePipeline({ id: 'eq-map', defaults: { ...fast, retries: 1 } })
  .step('configs', () => ({ items: [1, 2, 3, 4] }))
  .map('train', { needs: ['configs'], over: ({ upstream }) => upstream.configs.items, maxParallel: 2 }, ({ attempt }, item: number, index) => {
    if (index === 1 && attempt === 1) throw new Error('flaky item');
    return { item, score: item * 10 };
  })
  .step('best', { needs: ['train'] }, ({ upstream }) => upstream.train.reduce((a, b) => (b.score > a.score ? b : a)));

const mapFailing = definePipeline({ id: 'eq-map-failing', defaults: fast })
  .step('configs', () => ({ items: ['a', 'b', 'c'] }))
  .map('work', { needs: ['configs'], over: ({ upstream }) => upstream.configs.items }, (_ctx, item: string) => {
    if (item === 'b') throw new Error(`item ${item} is broken`);
    return item.toUpperCase();
  })
  .step('after', { needs: ['work'] }, () => 'never')
  .step('empty', () => ({ none: [] as number[] }))
  .map('over-nothing', { needs: ['empty'], over: ({ upstream }) => upstream.empty.none }, (_ctx, item: number) => item)
  .step('count', { needs: ['over-nothing'] }, ({ upstream }) => upstream['over-nothing'].length);

/**
 * Every trigger rule over three kinds of upstream pairs. `ok` succeeds, `bad` fails, `skip` is
 * skipped by its condition; each rule's steps return constants (an early-firing step must not depend
 * on which sibling finished first). The watcher leaf fails when nothing handled `bad`.
 */
// Pairs, and single upstream steps: a step whose only upstream ended is decided by that completion
// from its kind in the upstream's definition (src/redis/lua/includes/step-def.lua), not its counters.
const PAIRS = {
  'ok-bad': ['ok', 'bad'], 'ok-skip': ['ok', 'skip'], 'bad-skip': ['bad', 'skip'], 'ok-ok2': ['ok', 'ok2'],
  'only-ok': ['ok'], 'only-bad': ['bad'], 'only-skip': ['skip'],
} as const;
function everyRule(): Pipeline<any, any> {
  let p: Pipeline<any, any> = definePipeline({ id: 'eq-rules', defaults: fast })
    .step('ok', () => 'ok')
    .step('ok2', () => 'ok2')
    .step('bad', () => {
      throw new NonRetriableError('bad by design');
    })
    .step('skip', { if: () => false }, () => 'never');
  for (const rule of TRIGGER_RULES) {
    for (const [pair, needs] of Object.entries(PAIRS)) p = p.step(`${rule}_${pair}`, { needs: [...needs], runWhen: rule } as never, () => rule);
  }
  // The leaves decide the run: a step of every kind of outcome, and what each sees of its upstream.
  return p.step('statuses', { needs: ['ok', 'bad', 'skip', 'all-succeeded_ok-bad'], runWhen: 'all-done' } as never, ({ upstreamStatus }) => upstreamStatus);
}

/** Leaves decide the run: the handled failure of `primary` leaves it succeeded. */
const fallback = definePipeline({ id: 'eq-fallback', defaults: fast })
  .step('primary', () => {
    throw new NonRetriableError('primary down');
  })
  .step('backup', { needs: ['primary'], runWhen: 'one-failed' }, () => ({ source: 'backup' }))
  .step('join', { needs: ['primary', 'backup'], runWhen: 'one-succeeded' }, ({ upstream }) => upstream.backup?.source ?? 'primary');

const fallbackAnyFailure = definePipeline({ id: 'eq-fallback-any', defaults: fast, runOutcome: 'any-failure' })
  .step('primary', () => {
    throw new NonRetriableError('primary down');
  })
  .step('backup', { needs: ['primary'], runWhen: 'one-failed' }, () => 'backup');

/**
 * A map's condition runs once for the step: it reads run.status, which turns 'failed' when item 0
 * fails; re-evaluated per item (as the engine once did) it would skip items 1 and 2. With minSuccess 2
 * the map succeeds with the two outputs and the failed item.
 */
const mapPartial = definePipeline({ id: 'eq-map-partial', defaults: fast })
  .step('configs', () => ({ items: ['x', 'y', 'z'] }))
  .map(
    'work',
    { needs: ['configs'], over: ({ upstream }) => upstream.configs.items, maxParallel: 1, minSuccess: 2, if: ({ run }) => run.status !== 'failed' },
    (_ctx, item: string, index) => {
      if (index === 0) throw new NonRetriableError(`item ${item} is broken`);
      return item.toUpperCase();
    },
  )
  .step('use', { needs: ['work'] }, ({ upstream, run }) => ({ ...upstream.work, status: run.status }));

const mapPartialShort = definePipeline({ id: 'eq-map-partial-short', defaults: fast })
  .step('configs', () => ({ items: [1, 2, 3, 4] }))
  .map('work', { needs: ['configs'], over: ({ upstream }) => upstream.configs.items, minSuccess: '75%' }, (_ctx, item: number) => {
    if (item % 2 === 0) throw new NonRetriableError(`even item ${item}`);
    return item;
  })
  .step('use', { needs: ['work'] }, ({ upstream }) => upstream.work.succeeded.length)
  .step('empty', () => [] as number[])
  .map('none', { needs: ['empty'], over: ({ upstream }) => upstream.empty, minSuccess: 1 }, (_ctx, item: number) => item)
  .step('use-none', { needs: ['none'] }, ({ upstream }) => upstream.none);

const mapOverBad = definePipeline({ id: 'eq-map-over-bad', defaults: fast })
  .map('not-a-list', { over: () => 'abc' as never }, (_ctx, item: string) => item)
  .step('big', () => 1)
  // Each item is within the 1 MiB limit though all of them together are not: the limit is per item.
  .map('items-large', { needs: ['big'], over: () => ['a', 'b', 'c'].map((c) => c.repeat(400_000)) }, (_ctx, item: string) => item.length)
  // …but what dependents receive is one output: three 400 KB outputs collected pass the limit.
  .map('collected-large', { needs: ['big'], over: () => ['a', 'b', 'c'] }, (_ctx, item: string) => item.repeat(400_000));

/** Params: the schema applies again at step start (a Date arrives as a Date) and they are deep-frozen. */
const typedParams = definePipeline({
  id: 'eq-params',
  defaults: fast,
  params: z.object({ since: z.coerce.date().default(new Date(Date.UTC(2024, 0, 1))), tags: z.array(z.string()).default(['a']) }),
}).step('look', ({ params }) => {
  let mutation = 'allowed';
  try {
    (params.tags as string[]).push('b');
  } catch (error) {
    mutation = (error as Error).name;
  }
  return { isDate: params.since instanceof Date, year: params.since.getUTCFullYear(), mutation, tags: params.tags.length };
});

/**
 * The hand-off is lossless: what a step returns is what the next step's handler receives, through
 * Redis in workers and through the kit alike. `look` reports what it got, as plain data.
 */
const DAY = new Date(Date.UTC(2024, 1, 29, 12));
const handOff = definePipeline({ id: 'eq-hand-off', defaults: fast })
  .step('produce', () => ({
    when: DAY,
    counts: new Map<string, number>([['cats', 2], ['dogs', 3]]),
    tags: new Set(['a', 'b']),
    big: 2n ** 70n,
    missing: undefined as number | undefined,
    negZero: -0,
    pattern: /ab+c/gi,
  }))
  .map('days', { needs: ['produce'], over: ({ upstream }) => [upstream.produce.when, new Date(Date.UTC(2024, 2, 1))] }, (_ctx, day: Date) => ({
    day,
    isDate: day instanceof Date,
  }))
  .step('look', { needs: ['produce', 'days'] }, ({ upstream }) => {
    const p = upstream.produce;
    return {
      when: p.when instanceof Date && p.when.getTime() === DAY.getTime(),
      counts: p.counts instanceof Map ? [...p.counts] : 'not a Map',
      tags: p.tags instanceof Set ? [...p.tags] : 'not a Set',
      big: typeof p.big === 'bigint' ? `${p.big}n` : typeof p.big,
      missing: 'missing' in p && p.missing === undefined,
      negZero: Object.is(p.negZero, -0),
      pattern: p.pattern instanceof RegExp ? String(p.pattern) : typeof p.pattern,
      days: upstream.days.map((d) => [d.isDate, d.day instanceof Date ? d.day.toISOString() : typeof d.day]),
    };
  });

/** What a case is about, beyond kit and engine agreeing: checked on the engine's view. */
const CHECKS = new Map<Pipeline<any, any>, (view: RunView) => unknown>([
  [mapPartial, (v) => v.steps.use.output],
  [typedParams, (v) => v.steps.look.output],
  [handOff, (v) => [v.steps.look.output, v.steps.produce.output, v.steps.days.output]],
  [mapOverBad, (v) => [v.steps['not-a-list'].error?.message, v.steps['items-large'].output, v.steps['collected-large'].error?.message]],
]);
const EXPECTED = new Map<Pipeline<any, any>, unknown>([
  [
    mapPartial,
    {
      succeeded: ['Y', 'Z'],
      failed: [{ index: 0, item: 'x', error: { message: 'item x is broken', name: 'NonRetriableError' } }],
      status: 'failed',
    },
  ],
  [typedParams, { isDate: true, year: 2024, mutation: 'TypeError', tags: 1 }],
  [
    handOff,
    [
      {
        when: true,
        counts: [['cats', 2], ['dogs', 3]],
        tags: ['a', 'b'],
        big: '1180591620717411303424n',
        missing: true,
        negZero: true,
        pattern: '/ab+c/gi',
        days: [[true, '2024-02-29T12:00:00.000Z'], [true, '2024-03-01T00:00:00.000Z']],
      },
      // Shown as readable JSON by status --json, the API and the UI.
      { when: '2024-02-29T12:00:00.000Z', counts: [['cats', 2], ['dogs', 3]], tags: ['a', 'b'], big: '1180591620717411303424', missing: null, negZero: '-0', pattern: '/ab+c/gi' },
      [{ day: '2024-02-29T12:00:00.000Z', isDate: true }, { day: '2024-03-01T00:00:00.000Z', isDate: true }],
    ],
  ],
  [
    mapOverBad,
    [
      'map step "not-a-list": over() must return an array, found string',
      [400_000, 400_000, 400_000],
      'map step "collected-large" collected 1200073 bytes of JSON from its items; the limit is 1048576 bytes',
    ],
  ],
]);

/** ctx.park: the attempt ends without an outcome and resumes with its state (step-park.lua vs the kit). */
const parking = definePipeline({ id: 'eq-park', defaults: fast })
  .step('poll', ({ parked, park }) => {
    const polls = ((parked?.state as { polls: number } | undefined)?.polls ?? 0) + 1;
    if (polls < 3) park({ polls }, 10);
    return { polls, parkedTimes: parked?.count ?? 0 };
  })
  .step('after', { needs: ['poll'] }, ({ upstream }) => upstream.poll.polls);

const CASES: Array<[string, Pipeline<any, any>, 'succeeded' | 'failed']> = [
  ['every trigger rule over succeeded / failed / skipped upstream pairs and single upstream steps (leaves skipped by the failure fail the run)', everyRule(), 'failed'],
  ['fallback: primary fails, backup runs, join runs, the run succeeds', fallback, 'succeeded'],
  ['fallback with runOutcome any-failure', fallbackAnyFailure, 'failed'],
  ['map condition once, minSuccess met, failed items listed', mapPartial, 'succeeded'],
  ['map minSuccess as a share not met; map over no items with minSuccess', mapPartialShort, 'failed'],
  ['map over() not an array; item size limit per item', mapOverBad, 'failed'],
  ['params: typed by the schema at step start, deep-frozen', typedParams, 'succeeded'],
  ['lossless hand-off: Date, Map, Set, BigInt, undefined, -0, RegExp; map items and collected outputs with Dates', handOff, 'succeeded'],
  ['map with maxParallel and a retried item', mapSweep, 'succeeded'],
  ['map with a failing item, and a map over no items', mapFailing, 'failed'],
  ['diamond', diamond, 'succeeded'],
  ['if-skip', ifSkip, 'succeeded'],
  ['runWhen after a failure (the leaves handled it: the run succeeds)', runWhenFailure, 'succeeded'],
  ['runWhen with no failure', runWhenQuiet, 'succeeded'],
  ['retries then success', retriesThenSuccess, 'succeeded'],
  ['retries exhausted, downstream skipped', retriesExhausted, 'failed'],
  ['NonRetriableError (the all-done leaf report ran: the run succeeds)', nonRetriable, 'succeeded'],
  ['condition throws', conditionThrows, 'failed'],
  ['a parked step resumes with its state; parking counts no attempt', parking, 'succeeded'],
];

let redis: TestRedis;
let runtime: Runtime;
let host: WorkerHost;

test.before(async () => {
  redis = await startTestRedis();
  runtime = await testRuntime(redis);
  host = await withWorker(runtime, [...CASES.map(([, p]) => p), retried, retriedSkips]);
});

test.after.always(async () => {
  await host?.stop(1_000);
  await runtime?.close();
  await redis?.destroy();
});

for (const [title, pipeline, expected] of CASES) {
  test(`testPipeline matches real workers: ${title}`, async (t) => {
    const { runId } = await runtime.engine.trigger(pipeline);
    const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
    const kit = await testPipeline(pipeline);

    t.is(view.status, expected, 'the engine reached the run status this case is about');
    t.is(kit.status as string, view.status as string);
    const engineSteps = Object.fromEntries(Object.entries(view.steps).map(([name, s]) => [name, fromEngine(s, name)]));
    const kitSteps = Object.fromEntries(
      Object.entries(kit.steps).map(([name, s]) => [name, fromKit(s, (kit.outputs as Record<string, unknown>)[name])]),
    );
    t.deepEqual(kitSteps, engineSteps);
    const check = CHECKS.get(pipeline);
    if (check) t.deepEqual(check(view), EXPECTED.get(pipeline));
  });
}

/** Fails the first time a name runs in a run (per run id, so the kit and the engine each see it once). */
const firstTimes = new Set<string>();
function failFirstTime(runId: string, name: string): void {
  const key = `${runId}/${name}`;
  if (firstTimes.has(key)) return;
  firstTimes.add(key);
  throw new NonRetriableError(`${name} fails the first time`);
}
const prepCalls = new Map<string, number>();
const retried = definePipeline({ id: 'eq-retry', defaults: fast })
  .step('prep', ({ run }) => {
    prepCalls.set(run.id, (prepCalls.get(run.id) ?? 0) + 1);
    return [1, 2, 3];
  })
  .step('flaky', { needs: ['prep'] }, ({ run }) => {
    failFirstTime(run.id, 'flaky');
    return 'fixed';
  })
  .map('items', { needs: ['prep'], over: ({ upstream }) => upstream.prep }, ({ run }, item: number) => {
    if (item === 2) failFirstTime(run.id, 'item 2');
    return item * 10;
  })
  .step('after', { needs: ['flaky', 'items'] }, ({ upstream }) => ({ flaky: upstream.flaky, items: upstream.items }));

/**
 * A retry decides skips again only where an upstream outcome can change: a step skipped by its rule
 * whose upstream steps all succeeded keeps its skip (reset, it had nothing to wait for and was queued
 * without its rule: `alert`, one-failed, ran although nothing failed), and so does a skip cascading
 * from it, which then counts as a skipped upstream step (`join`); a condition skip is decided again
 * (`report`, which reads the failed step's status).
 */
const retriedSkips = definePipeline({ id: 'eq-retry-skips', defaults: fast })
  .step('a', () => 'a')
  .step('alert', { needs: ['a'], runWhen: 'one-failed' }, () => 'paged')
  .step('after-alert', { needs: ['alert'] }, () => 'never')
  .step('quiet', { needs: ['a'], if: () => false }, () => 'never')
  .step('f', ({ run }) => {
    failFirstTime(run.id, 'f');
    return 'f';
  })
  .step('report', { needs: ['a', 'f'], runWhen: 'all-done', if: ({ upstreamStatus }) => upstreamStatus.f !== 'failed' }, () => 'reported')
  .step('join', { needs: ['alert', 'f'] }, () => 'never');

test('testPipeline matches real workers: a retried run keeps rule skips whose upstream steps all kept their outcome', async (t) => {
  const { runId } = await runtime.engine.trigger(retriedSkips);
  t.is((await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 })).status, 'failed');
  await runtime.engine.retry(runId);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
  const kit = await (await testPipeline(retriedSkips)).retry();
  t.is(view.status, 'succeeded');
  t.like(view.steps.alert, { status: 'skipped', skip: 'trigger-rule' });
  t.like(view.steps['after-alert'], { status: 'skipped', skip: 'upstream-skipped' });
  t.like(view.steps.join, { status: 'skipped', skip: 'upstream-skipped' });
  t.is(view.steps.report.output, 'reported');
  const engineSteps = Object.fromEntries(Object.entries(view.steps).map(([name, s]) => [name, fromEngine(s, name)]));
  const kitSteps = Object.fromEntries(Object.entries(kit.steps).map(([name, s]) => [name, fromKit(s, (kit.outputs as Record<string, unknown>)[name])]));
  t.deepEqual(kitSteps, engineSteps);
  t.is(String(kit.status), view.status);
});

test('testPipeline matches real workers: a failed run retried (result.retry() vs conveyor retry)', async (t) => {
  const { runId } = await runtime.engine.trigger(retried);
  t.is((await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 })).status, 'failed');
  await runtime.engine.retry(runId);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
  const first = await testPipeline(retried);
  t.is(first.status, 'failed');
  const kit = await first.retry();

  t.is(view.status, 'succeeded');
  t.is(kit.status, 'succeeded');
  t.deepEqual(view.steps.after.output, { flaky: 'fixed', items: [10, 20, 30] });
  t.deepEqual(kit.outputs.after, { flaky: 'fixed', items: [10, 20, 30] });
  t.deepEqual([prepCalls.get(runId), prepCalls.get(kit.runId)], [1, 1], 'succeeded steps keep their outputs');
  const engineSteps = Object.fromEntries(Object.entries(view.steps).map(([name, s]) => [name, fromEngine(s, name)]));
  const kitSteps = Object.fromEntries(Object.entries(kit.steps).map(([name, s]) => [name, fromKit(s, (kit.outputs as Record<string, unknown>)[name])]));
  t.deepEqual(kitSteps, engineSteps);
});
