import test from 'ava';
import { z } from 'zod';
import { definePipeline } from '../../src/dsl/index.ts';
import { validateDag, findCycle } from '../../src/graph/index.ts';
import { CycleError, ValidationError } from '../../src/errors/index.ts';
import type { PipelineSpec, StepSpec } from '../../src/dsl/index.ts';

const noop = async () => ({});

function stepSpec(name: string, needs: string[]): StepSpec {
  return { name, needs, queue: 'default', retries: 0, backoff: { type: 'fixed', delayMs: 0 }, timeoutMs: 1000, runWhen: 'all-succeeded', conditional: false, kind: 'task' };
}
const specOf = (steps: StepSpec[]): PipelineSpec => ({ id: 'data', description: '', steps, schedules: [], triggers: [] });

test('a duplicate step name is rejected with the pipeline and step named', (t) => {
  const p = definePipeline({ id: 'dup' }).step('a', noop);
  const error = t.throws(() => p.step('a', noop), { instanceOf: ValidationError });
  t.is(error?.message, 'pipeline "dup": duplicate step "a"');
});

test('an unknown need names the known steps', (t) => {
  const p = definePipeline({ id: 'churn' }).step('load', noop).step('validate', { needs: ['load'] }, noop);
  // @ts-expect-error 'prep' is not a declared step
  const error = t.throws(() => p.step('train', { needs: ['prep'] }, noop), { instanceOf: ValidationError });
  t.is(error?.message, 'pipeline "churn": step "train" needs unknown step "prep" (known: load, validate)');
});

test('invalid ids and options are rejected by zod with the path', (t) => {
  t.throws(() => definePipeline({ id: '9bad id' }), { instanceOf: ValidationError, message: /pipeline "9bad id".*id: expected a name/ });
  const p = definePipeline({ id: 'opts' });
  t.throws(() => p.step('a', { retries: -1 } as never, noop), { instanceOf: ValidationError, message: /step "a": retries/ });
  t.throws(() => p.step('a', { queue: 'has space' } as never, noop), { instanceOf: ValidationError, message: /step "a": queue/ });
  t.throws(() => p.step('a', { runWhen: 'sometimes' } as never, noop), { instanceOf: ValidationError, message: /runWhen/ });
});

test('a params default that does not parse is rejected when the pipeline is defined', (t) => {
  const error = t.throws(
    () => definePipeline({ id: 'defaults', params: z.object({ minAccuracy: z.number().max(1).default(5) }) }),
    { instanceOf: ValidationError },
  );
  t.regex(error!.message, /pipeline "defaults": default of params\.minAccuracy.*\(default was 5\)/);
});

test('self-loops and cycles in data-built specs are rejected, naming the cycle', (t) => {
  t.throws(() => validateDag(specOf([stepSpec('a', ['a'])])), { message: 'pipeline "data": step "a" needs itself' });
  const error = t.throws(() => validateDag(specOf([stepSpec('a', ['c']), stepSpec('b', ['a']), stepSpec('c', ['b'])])), { instanceOf: CycleError });
  t.deepEqual(error!.cycle.length, 4);
  t.is(error!.cycle[0], error!.cycle[3]);
  t.regex(error!.message, /steps form a cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
});

test('a 10,000-step chain closed into a loop is found without overflowing the stack', (t) => {
  const steps = Array.from({ length: 10_000 }, (_, i) => stepSpec(`s${i}`, [i === 0 ? 's9999' : `s${i - 1}`]));
  const error = t.throws(() => validateDag(specOf(steps)), { instanceOf: CycleError });
  t.is(error!.cycle.length, 10_001);
  t.regex(error!.message, /cycle: .*… 9990 more …/);
  t.is(findCycle(steps.slice(1)), undefined, 'the open chain has no cycle');
});

test('unknown needs and duplicates in data-built specs are all reported at once', (t) => {
  const error = t.throws(() => validateDag(specOf([stepSpec('a', []), stepSpec('a', []), stepSpec('b', ['zz'])])), { instanceOf: ValidationError });
  t.deepEqual(error!.issues, ['pipeline "data": duplicate step "a"', 'pipeline "data": step "b" needs unknown step "zz" (known: a, b)']);
});

test('a valid DAG gives topological order, roots and a stable hash', (t) => {
  const a = validateDag(specOf([stepSpec('load', []), stepSpec('x', ['load']), stepSpec('y', ['load']), stepSpec('join', ['x', 'y'])]));
  t.deepEqual(a.roots, ['load']);
  t.true(a.order.indexOf('join') > a.order.indexOf('x') && a.order.indexOf('join') > a.order.indexOf('y'));
  t.deepEqual(a.successors.get('load')!.sort(), ['x', 'y']);
  const b = validateDag(specOf([stepSpec('load', []), stepSpec('x', ['load']), stepSpec('y', ['load']), stepSpec('join', ['x', 'y'])]));
  t.is(a.hash, b.hash);
  const c = validateDag(specOf([stepSpec('load', []), stepSpec('x', ['load'])]));
  t.not(a.hash, c.hash);
});

test('builders are immutable values: extending one twice gives two independent pipelines', (t) => {
  const base = definePipeline({ id: 'branches' }).step('a', noop);
  const left = base.step('b', { needs: ['a'] }, noop);
  const right = base.step('c', { needs: ['a'] }, noop);
  const rightAgain = right.step('b', noop); // "b" exists on the left branch only
  t.deepEqual(base.spec.steps.map((s) => s.name), ['a']);
  t.deepEqual(left.spec.steps.map((s) => s.name), ['a', 'b']);
  t.deepEqual(right.spec.steps.map((s) => s.name), ['a', 'c']);
  t.deepEqual(rightAgain.spec.steps.map((s) => s.name), ['a', 'c', 'b']);
  t.is(left.stepCode('c'), undefined);
  t.is(base.stepCode('b'), undefined);
  t.truthy(left.stepCode('b'));
  t.throws(() => left.step('b', noop), { message: 'pipeline "branches": duplicate step "b"' });
  t.true(Object.isFrozen(left.spec) && Object.isFrozen(left.spec.steps) && Object.isFrozen(left.spec.steps[0]));
});

test('a 10,000-step pipeline builds and validates', (t) => {
  let p: any = definePipeline({ id: 'big' }).step('s0', noop);
  for (let i = 1; i < 10_000; i++) p = p.step(`s${i}`, { needs: [`s${i - 1}`] }, noop);
  t.is(p.spec.steps.length, 10_000);
  t.is(validateDag(p.spec).order[9_999], 's9999');
});
