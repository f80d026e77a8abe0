/** SIGTERM drains a real `conveyor worker`: no new jobs, running steps finish, exit 0; another worker completes the run. */
import test from 'ava';
import type { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { killAll, newPrefix, startCliWorker, waitFor, type WorkerProc } from '../fixtures/procs.ts';
import { checkJournal, fxClient, fxRuntime } from '../fixtures/fx-runtime.ts';
import { readRecords } from '../fixtures/fx-effects.ts';
import fanout, { fanoutStepNames } from '../fixtures/pipelines/faults/fx-fanout.ts';
import type { Runtime } from '../../src/app/runtime.ts';

let redis: TestRedis;
let journal: Redis;
let runtime: Runtime | undefined;
const procs: WorkerProc[] = [];

test.before(async () => {
  redis = await startTestRedis();
  journal = fxClient(redis.url);
});

test.after.always(async () => {
  await killAll(procs);
  await runtime?.close();
  journal?.disconnect();
  await redis?.destroy();
});

test.serial('SIGTERM during steps: the worker takes no new job, finishes its running steps, exits 0; another worker completes the run', async (t) => {
  const prefix = newPrefix();
  runtime = await fxRuntime(redis.url, prefix);
  const draining = await startCliWorker({ redisUrl: redis.url, prefix, concurrency: 4 });
  procs.push(draining);
  const { runId } = await runtime.engine.trigger(fanout, { params: { sleepMs: 1_500 } });
  const startedBy = async (pid: number) => {
    const names: string[] = [];
    for (const step of fanoutStepNames) if ((await readRecords(journal, runId, step)).some((r) => r.pid === pid)) names.push(step);
    return names;
  };
  await waitFor(async () => (await startedBy(draining.pid)).length > 0, 30_000, 'the first worker to start fan-out steps');
  draining.signal('SIGTERM');
  const exit = await draining.exited;
  t.deepEqual(exit, { code: 0, signal: null }, draining.stderr());
  const drained = await startedBy(draining.pid);
  // Its running steps were finished by it, not handed back: each succeeded with its pid, executed once.
  const afterDrain = await runtime.engine.getRun(runId);
  for (const step of drained) {
    t.like(afterDrain.steps[step], { status: 'succeeded', output: { pid: draining.pid } }, step);
    t.is((await readRecords(journal, runId, step)).length, 1, step);
  }
  // It stopped taking jobs: had it kept going, it alone would have run all 40 steps (no other worker existed).
  t.true(drained.length < fanoutStepNames.length, `the draining worker ran ${drained.length} of ${fanoutStepNames.length} steps`);
  t.is(afterDrain.status, 'running');

  const successor = await startCliWorker({ redisUrl: redis.url, prefix, concurrency: 8 });
  procs.push(successor);
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 45_000 });
  t.is(view.status, 'succeeded');
  const check = await checkJournal(journal, view);
  t.deepEqual(check.missing, []);
  t.deepEqual(check.afterSuccess, []);
  t.is(check.extra, 0, 'no step ran twice');
  const bySuccessor = fanoutStepNames.filter((s) => check.records[s][0].pid === successor.pid);
  t.is(bySuccessor.length + drained.length, fanoutStepNames.length);
});
