import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { definePipeline } from '../../src/index.ts';
import { loadPipelines } from '../../src/app/pipeline-loader.ts';
import { validateDag } from '../../src/graph/dag.ts';
import type { PipelineSpec, StepSpec } from '../../src/dsl/types.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import type { Runtime } from '../../src/app/runtime.ts';

const run = promisify(execFile);
const FIXTURES = 'test/fixtures-security/pipelines';

let redis: TestRedis;
let raw: Redis;
let rt: Runtime;
test.before(async () => {
  redis = await startTestRedis();
  raw = new Redis(redis.url);
  rt = await testRuntime(redis);
});
test.after.always(async () => {
  await rt?.close();
  raw?.disconnect();
  await redis?.destroy();
});

const fast = { retries: 0, backoff: { type: 'fixed' as const, delayMs: 10 } };
const train = definePipeline({ id: 'sec-params', params: z.object({ epochs: z.number().int().min(1), lr: z.number(), tags: z.array(z.string()).default([]) }), defaults: fast })
  .step('train', async ({ params }) => ({ epochs: params.epochs }));

/** Runs `attempt`, which must reject, and checks that Redis holds exactly as many keys after as before. */
async function rejectsWithoutWriting(t: import('ava').ExecutionContext, attempt: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = await raw.dbsize();
  await t.throwsAsync(attempt(), { message });
  t.is(await raw.dbsize(), before, 'nothing written to Redis');
}

test.serial('oversized params (> 1 MiB) are rejected with size and limit; nothing is written', async (t) => {
  const big = { epochs: 1, lr: 0.1, tags: Array.from({ length: 1100 }, (_, i) => `${i}`.padEnd(1000, 'x')) };
  await rejectsWithoutWriting(t, () => rt.engine.trigger(train, { params: big }), /pipeline "sec-params": params are \d{7} bytes of JSON; the limit is 1048576/);
});

test.serial('__proto__ / constructor keys are rejected and nothing is polluted', async (t) => {
  const viaProto = JSON.parse('{"epochs": 1, "lr": 0.1, "__proto__": {"polluted": "yes"}}');
  const viaConstructor = JSON.parse('{"epochs": 1, "lr": 0.1, "nested": {"constructor": {"prototype": {"polluted": "yes"}}}}');
  await rejectsWithoutWriting(t, () => rt.engine.trigger(train, { params: viaProto }), /forbidden key at params\.__proto__/);
  await rejectsWithoutWriting(t, () => rt.engine.trigger(train, { params: viaConstructor }), /forbidden key at params\.nested\.constructor/);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.is((Object.prototype as Record<string, unknown>).polluted, undefined);
});

test.serial('the CLI refuses a __proto__ param too, before anything is written', async (t) => {
  const before = await raw.dbsize();
  const env = { ...process.env, REDIS_URL: redis.url, CONVEYOR_PREFIX: rt.config.prefix, NO_COLOR: '1' };
  const error = await t.throwsAsync(run('node', ['bin/conveyor.js', 'run', 'sec-good', '--pipelines', FIXTURES, '--param', '__proto__={"polluted":1}'], { env }));
  t.regex(String((error as { stderr?: string }).stderr), /forbidden key at params\.__proto__/);
  t.is(await raw.dbsize(), before);
});

test.serial('wrong param types fail with a zod message naming the field', async (t) => {
  await rejectsWithoutWriting(t, () => rt.engine.trigger(train, { params: { epochs: 'ten', lr: 0.1 } }), /params\.epochs.*expected number/i);
  await rejectsWithoutWriting(t, () => rt.engine.trigger(train, { params: { epochs: 2, lr: 0.1, tags: [1] } }), /params\.tags\.0/);
  await rejectsWithoutWriting(t, () => rt.engine.trigger(train, { params: { epochs: 2 } }), /params\.lr/);
});

test.serial('outputs over 1 MiB and outputs that cannot be handed off fail the step with bytes/limit or the offending path', async (t) => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: Record<string, () => unknown> = {
    huge: () => ({ blob: 'x'.repeat(1024 * 1024 + 10) }),
    booster: () => ({ stats: { model: new (class Booster { fit() {} })() } }),
    symbol: () => ({ rows: [1, { [Symbol('k')]: 2 }] }),
    fn: () => ({ model: { predict: () => 1 } }),
    cycle: () => ({ graph: cyclic }),
  };
  let p: any = definePipeline({ id: 'sec-outputs', defaults: fast });
  for (const [name, produce] of Object.entries(cases)) p = p.step(name, async () => produce());
  const host = await withWorker(rt, [p]);
  try {
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(view.status, 'failed');
    const message = (step: string) => String((view.steps[step].error as { message?: string } | undefined)?.message);
    for (const step of Object.keys(cases)) t.is(view.steps[step].status, 'failed', step);
    t.regex(message('huge'), /step "huge" returned 10\d{5} bytes of JSON; the limit is 1048576 bytes/);
    t.is(message('booster'), 'step "booster" output.stats.model: a class instance (Booster) cannot be handed off; return plain data');
    t.regex(message('symbol'), /step "symbol" output\.rows\[1\]: a Symbol key \(Symbol\(k\)\) cannot be handed off/);
    t.regex(message('fn'), /output\.model\.predict: a function cannot be handed off/);
    t.regex(message('cycle'), /output\.graph\.self: a circular reference cannot be handed off/);
    t.is(view.steps.booster.attempts, 1, 'an output that cannot be handed off is not retried');
    t.is(view.steps.huge.attempts, 1, 'a bad output is not retried');
  } finally {
    await host.stop(2_000);
  }
});

test('malformed pipeline files: precise errors; one bad file does not stop the others', async (t) => {
  const loaded = await loadPipelines(FIXTURES);
  t.deepEqual(loaded.pipelines.map((p) => p.id), ['sec-good']);
  const byFile = Object.fromEntries(loaded.problems.map((p) => [p.file.split('/').pop(), p]));
  t.deepEqual(Object.keys(byFile).sort(), ['b-syntax-error.mjs', 'c-throws-at-import.ts', 'd-wrong-export.ts', 'e-named-export-only.ts', 'f-duplicate-id.ts', 'g-self-loop.ts', 'h-unknown-need.ts']);
  t.like(byFile['b-syntax-error.mjs'], { code: 'SYNTAX', line: 5 });
  t.regex(byFile['b-syntax-error.mjs'].message, /missing \) after argument list/);
  t.regex(byFile['c-throws-at-import.ts'].message, /c-throws-at-import\.ts: settings\.json could not be read at import time/);
  t.regex(byFile['d-wrong-export.ts'].message, /expected a default-exported pipeline .*found a default export of type object/);
  t.regex(byFile['e-named-export-only.ts'].message, /found no default export/);
  t.regex(byFile['f-duplicate-id.ts'].message, /pipeline id "sec-good" is already defined in .*a-good\.ts/);
  t.regex(byFile['g-self-loop.ts'].message, /step "b" needs itself/);
  t.regex(byFile['h-unknown-need.ts'].message, /step "train" needs unknown step "prep" \(known: load\)/);
});

test('a TypeScript syntax error is reported with its line and column', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-syntax-'));
  try {
    writeFileSync(join(dir, 'bad.ts'), "const x: number = 1;\nexport default {\n  id: 'x',,\n};\n");
    const { problems } = await loadPipelines(dir);
    t.is(problems.length, 1);
    t.like(problems[0], { code: 'SYNTAX', line: 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const stepOf = (name: string, needs: string[]): StepSpec => ({ name, needs }) as unknown as StepSpec;
const specOf = (steps: StepSpec[]): PipelineSpec => ({ id: 'from-data', steps }) as unknown as PipelineSpec;

test('validateDag on specs built from data: a 10,000-step loop, self-loop, unknown need', (t) => {
  const n = 10_000;
  const loop = Array.from({ length: n }, (_, i) => stepOf(`s${i}`, [`s${(i + n - 1) % n}`]));
  const error = t.throws(() => validateDag(specOf(loop)));
  t.is(error?.name, 'CycleError');
  t.regex(error!.message, /pipeline "from-data": steps form a cycle: s\d+ → s\d+ →.*… \d+ more …/);
  t.is((error as unknown as { cycle: string[] }).cycle.length, n + 1, 'the whole loop, closed');
  // A long chain that is not a cycle validates without overflowing the stack.
  const chain = Array.from({ length: n }, (_, i) => stepOf(`c${i}`, i ? [`c${i - 1}`] : []));
  t.is(validateDag(specOf(chain)).order.length, n);
  t.throws(() => validateDag(specOf([stepOf('a', ['a'])])), { message: /step "a" needs itself/ });
  t.throws(() => validateDag(specOf([stepOf('a', []), stepOf('b', ['zz'])])), { message: /step "b" needs unknown step "zz" \(known: a, b\)/ });
  t.throws(() => validateDag(specOf([stepOf('a', ['b']), stepOf('b', ['a'])])), { message: /cycle: (a → b → a|b → a → b)/ });
});
