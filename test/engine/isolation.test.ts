import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busy, crashing, handOff, plain } from '../fixtures/isolation/pipelines.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

/** isolation: 'process' on real workers, running in this test's process: a crash here would end the test run. */

let redis: TestRedis;
let runtime: Runtime;
let host: WorkerHost;
const dir = mkdtempSync(join(tmpdir(), 'conveyor-iso-'));

test.before(async () => {
  redis = await startTestRedis();
  runtime = await testRuntime(redis);
  host = await withWorker(runtime, [busy, crashing, handOff], { concurrency: 4 });
});
test.after.always(async () => {
  await host?.stop(1_000);
  await runtime?.close();
  await redis?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('a busy handler that ignores its signal is killed at its timeout; the retry runs alone, in a new process', async (t) => {
  const { runId } = await runtime.engine.trigger(busy, { params: { pidFile: join(dir, 'spin.pid') } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
  t.is(view.status, 'succeeded');
  t.is(view.steps.spin.attempts, 2);
  t.deepEqual(view.steps.spin.output, { previousAlive: false, samePid: false, attempt: 2 });
  t.is(view.steps.beside.output, 'the worker kept serving');
});

test.serial('process.exit fails only its attempt (the retry succeeds); a segfault fails only its step; the worker serves on', async (t) => {
  const { runId } = await runtime.engine.trigger(crashing, { params: { marker: join(dir, 'exited') } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
  t.is(view.steps.exits.status, 'succeeded');
  t.is(view.steps.exits.attempts, 2);
  t.is(view.steps.exits.output, 'recovered on attempt 2');
  t.is(view.steps.segfaults.status, 'failed');
  t.regex(view.steps.segfaults.error!.message, /step "segfaults" ran in its own process, which was killed by SIGSEGV/);
  t.is(view.steps.beside.output, process.pid, 'the in-process step ran in the worker, which survived both');
  t.is(view.status, 'failed');
});

test.serial('an isolated step hands off a Date and a Map of BigInt losslessly; a class instance is refused with its path', async (t) => {
  const { runId } = await runtime.engine.trigger(handOff);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
  t.deepEqual(view.steps.check.output, { when: '2024-01-02T00:00:00.000Z', count: 'bigint' });
  t.is(view.steps.refuse.error?.message, 'step "refuse" output.model: a class instance (Booster) cannot be handed off; return plain data');
  t.is(view.steps.refuse.attempts, 1);
});

test.serial('CONVEYOR_STEP_ISOLATION=process makes it the worker default for steps that do not choose', async (t) => {
  const isolatedRuntime = await testRuntime(redis, { CONVEYOR_STEP_ISOLATION: 'process' });
  const isolatedHost = await withWorker(isolatedRuntime, [plain]);
  try {
    const { runId } = await isolatedRuntime.engine.trigger(plain);
    const view = await isolatedRuntime.engine.waitForRun(runId, { timeoutMs: 60_000, pollMs: 50 });
    t.is(view.status, 'succeeded');
    t.not(view.steps.where.output, process.pid);
    t.is(typeof view.steps.where.output, 'number');
  } finally {
    await isolatedHost.stop(1_000);
    await isolatedRuntime.close();
  }
});
