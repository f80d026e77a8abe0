/** Pure helpers of the run page (src/api/ui/run-model.js) and the layout of large DAGs. */
import test from 'ava';
import { layoutPipeline } from '../../src/api/layout.ts';
import type { PipelineSpec } from '../../src/dsl/types.ts';

// A browser module without types: imported by a computed path so the type checker leaves it alone.
const MODEL = '../../src/api/ui/run-model.js';
const model: any = await import(MODEL);

test('foldFrames: head and user frames first, node_modules, node:internal and conveyor modules folded', (t) => {
  const stack = [
    'Error: expected column "age" to be numeric',
    '    at validate (/home/me/pipelines/etl.ts:12:11)',
    '    at runHandler (/repo/src/worker/worker.ts:301:9)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    '    at Worker.callProcessJob (/app/node_modules/bullmq/dist/cjs/classes/worker.js:1:1)',
    '    at helper (/home/me/pipelines/lib/util.ts:4:2)',
  ].join('\n');
  const folded = model.foldFrames(stack);
  t.is(folded.head, 'Error: expected column "age" to be numeric');
  t.deepEqual(folded.user, ['at validate (/home/me/pipelines/etl.ts:12:11)', 'at helper (/home/me/pipelines/lib/util.ts:4:2)']);
  t.is(folded.internal.length, 3);
  t.deepEqual(model.foldFrames(undefined), { head: '', user: [], internal: [] });
});

test('summariseMap: counts, text like 312/500 ✓ 3 ✗, failed items first then running, then by index', (t) => {
  const items = [
    { name: 'm[0]', index: 0, st: { status: 'succeeded' } },
    { name: 'm[1]', index: 1, st: { status: 'running' } },
    { name: 'm[2]', index: 2, st: { status: 'failed' } },
    { name: 'm[3]', index: 3, st: { status: 'queued', waiting: 'waiting for a worker with p@v' } },
    { name: 'm[4]', index: 4, st: { status: 'failed' } },
  ];
  const s = model.summariseMap(items);
  t.is(s.text, '1/5 ✓ 2 ✗ 1 ▶');
  t.deepEqual(s.ordered.map((i: { name: string }) => i.name), ['m[2]', 'm[4]', 'm[1]', 'm[3]', 'm[0]']);
  t.like(s.counts, { total: 5, succeeded: 1, failed: 2, running: 1, waiting: 1 });
});

test('groupSteps folds map instances under their map step; displayStatus tells waits and failure skips apart', (t) => {
  const { top, maps } = model.groupSteps({ a: { status: 'succeeded' }, m: { status: 'running' }, 'm[0]': { status: 'succeeded' }, 'm[10]': { status: 'failed' } });
  t.deepEqual(top.map(([n]: [string]) => n), ['a', 'm']);
  t.deepEqual(maps.get('m').map((i: { index: number }) => i.index), [0, 10]);
  t.is(model.displayStatus({ status: 'queued', waiting: 'waiting for a worker with p@v' }), 'waiting');
  t.is(model.displayStatus({ status: 'skipped', skip: 'upstream-failed' }), 'upstream-failed');
  t.is(model.displayStatus({ status: 'skipped', skip: 'condition' }), 'skipped');
});

test('segmentsOf: one per attempt with its generation; a single attempt comes from the step fields', (t) => {
  const one = model.segmentsOf({ status: 'succeeded', attempts: 1, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z' }, 0);
  t.deepEqual(one.map((s: any) => [s.generation, s.outcome, s.to - s.from]), [[0, 'succeeded', 1000]]);
  const history = [
    { attempt: 1, generation: 0, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', outcome: 'failed' },
    { attempt: 1, generation: 1, startedAt: '2026-01-01T00:01:00.000Z', outcome: 'running' },
  ];
  const now = Date.parse('2026-01-01T00:01:05.000Z');
  t.deepEqual(model.segmentsOf({ status: 'running', history }, now).map((s: any) => [s.generation, s.to - s.from]), [[0, 1000], [1, 5000]]);
});

test('a 1,000-step DAG is laid out in linear time: ranks left to right, every edge forward', (t) => {
  const steps = Array.from({ length: 1000 }, (_, i) => ({ name: `s${i}`, needs: i < 20 ? [] : [`s${i - 20}`], queue: 'q', kind: 'task' }));
  const started = Date.now();
  const layout = layoutPipeline({ id: 'big', steps } as unknown as PipelineSpec);
  t.log(`layout of 1,000 steps: ${Date.now() - started} ms`);
  t.is(layout.nodes.length, 1000);
  t.is(layout.edges.length, 980);
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  for (const e of layout.edges) t.true(at.get(e.from)!.x < at.get(e.to)!.x, `${e.from} → ${e.to}`);
  t.true(layout.width > 0 && layout.height > 0);
});
