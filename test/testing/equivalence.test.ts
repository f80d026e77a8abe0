import test from 'ava';
import { definePipeline, NonRetriableError, type Pipeline } from 'conveyor-mlops';
import { testPipeline, type TestStepResult } from 'conveyor-mlops/testing';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import type { StepView } from '../../src/engine/run-view.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
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

const CASES: Array<[string, Pipeline<any, any>, 'succeeded' | 'failed']> = [
  ['map with maxParallel and a retried item', mapSweep, 'succeeded'],
  ['map with a failing item, and a map over no items', mapFailing, 'failed'],
  ['diamond', diamond, 'succeeded'],
  ['if-skip', ifSkip, 'succeeded'],
  ['runWhen after a failure', runWhenFailure, 'failed'],
  ['runWhen with no failure', runWhenQuiet, 'succeeded'],
  ['retries then success', retriesThenSuccess, 'succeeded'],
  ['retries exhausted, downstream skipped', retriesExhausted, 'failed'],
  ['NonRetriableError', nonRetriable, 'failed'],
  ['condition throws', conditionThrows, 'failed'],
];

let redis: TestRedis;
let runtime: Runtime;
let host: WorkerHost;

test.before(async () => {
  redis = await startTestRedis();
  runtime = await testRuntime(redis);
  host = await withWorker(runtime, CASES.map(([, p]) => p));
});

test.after.always(async () => {
  await host?.stop(1_000);
  await runtime?.close();
  await redis?.destroy();
});

interface Comparable {
  status: string;
  attempts: number;
  output?: unknown;
  error?: string;
  reason?: string;
}

function fromKit(step: TestStepResult, output: unknown): Comparable {
  return {
    status: step.status,
    attempts: step.attempts,
    ...(output !== undefined ? { output } : {}),
    ...(step.error ? { error: step.error.message } : {}),
    ...(step.reason ? { reason: step.reason } : {}),
  };
}

function fromEngine(step: StepView, name: string): Comparable {
  // A map instance's output is compared through its map step's collected array (the kit's `outputs`
  // holds declared steps only).
  const isInstance = name.includes('[');
  return {
    status: step.status,
    attempts: step.attempts,
    ...(step.status === 'succeeded' && !isInstance ? { output: step.output } : {}),
    ...(step.error ? { error: step.error.message } : {}),
    ...(step.reason ? { reason: step.reason } : {}),
  };
}

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
  });
}
