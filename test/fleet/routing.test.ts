/**
 * A step starts only where its code is (real `conveyor worker` processes, real Redis): two teams'
 * pipelines folders on the same `default` queue, and a pipeline no worker has any more.
 */
import test from 'ava';
import { join } from 'node:path';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { killAll, newPrefix, ROOT, startCliWorker, waitFor, type WorkerProc } from '../fixtures/procs.ts';
import { fxRuntime } from '../fixtures/fx-runtime.ts';
import alpha from '../fixtures/pipelines/fleet-a/fl-alpha.ts';
import beta from '../fixtures/pipelines/fleet-b/fl-beta.ts';
import gone from '../fixtures/pipelines/gone/fl-gone.ts';
import goneTimeout from '../fixtures/pipelines/gone/fl-gone-timeout.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { waitingText } from '../../src/engine/run-view.ts';

const FOLDER = (name: string) => join(ROOT, 'test/fixtures/pipelines', name);

let redis: TestRedis;
const procs: WorkerProc[] = [];
const runtimes: Runtime[] = [];

test.before(async () => {
  redis = await startTestRedis();
});

test.after.always(async () => {
  await killAll(procs);
  await Promise.all(runtimes.map((r) => r.close().catch(() => {})));
  await redis?.destroy();
});

async function setup(): Promise<{ prefix: string; runtime: Runtime }> {
  const prefix = newPrefix();
  const runtime = await fxRuntime(redis.url, prefix);
  runtimes.push(runtime);
  return { prefix, runtime };
}

async function workers(prefix: string, folder: string, count: number, extra: Record<string, string> = {}): Promise<WorkerProc[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startCliWorker({ redisUrl: redis.url, prefix, pipelines: FOLDER(folder), concurrency: 4, extra })));
  procs.push(...started);
  return started;
}

test.serial('heterogeneous fleet: two teams on queue `default`, 50 runs each, 0 failed, no step started on a worker without its code', async (t) => {
  const { prefix, runtime } = await setup();
  const [teamA, teamB] = await Promise.all([workers(prefix, 'fleet-a', 2), workers(prefix, 'fleet-b', 2)]);
  const pids = { a: new Set(teamA.map((w) => w.pid)), b: new Set(teamB.map((w) => w.pid)) };
  const runs = [];
  for (let i = 0; i < 50; i++) {
    runs.push(await runtime.engine.trigger(alpha), await runtime.engine.trigger(beta));
  }
  const views = await Promise.all(runs.map(({ runId }) => runtime.engine.waitForRun(runId, { timeoutMs: 90_000, pollMs: 250 })));
  t.deepEqual(views.filter((v) => v.status !== 'succeeded').map((v) => `${v.id}: ${v.status}`), []);
  for (const view of views) {
    const team = view.pipeline === 'fl-alpha' ? 'a' : 'b';
    for (const [name, step] of Object.entries(view.steps)) {
      const output = step.output as { pid: number; team: string };
      t.true(pids[team].has(output.pid), `${view.pipeline} ${name} ran on pid ${output.pid}, not a team ${team} worker`);
      t.is(step.attempts, 1, `${view.id} ${name}: one attempt`);
      if (step.codeVersion === undefined) t.fail(`${view.id} ${name}: no code version recorded`);
      if (step.worker === undefined) t.fail(`${view.id} ${name}: no worker recorded`);
    }
  }
});

test.serial('deleted pipeline: its run waits visibly (no attempt) and is cancellable; noWorkerTimeout fails it with that reason', async (t) => {
  const { prefix, runtime } = await setup();
  await workers(prefix, 'fleet-a', 1);
  const { runId } = await runtime.engine.trigger(gone);
  await waitFor(async () => (await runtime.engine.getRun(runId)).steps.only.waiting !== undefined, 30_000, 'the step to wait for a worker');
  const view = await runtime.engine.getRun(runId);
  t.is(view.steps.only.status, 'queued');
  t.is(view.steps.only.attempts, 0, 'waiting consumes no attempt');
  t.is(view.steps.only.waiting, waitingText(`fl-gone@${view.dagHash}`));
  t.is(view.status, 'queued');
  await runtime.engine.cancel(runId, 'test');
  t.is((await runtime.engine.getRun(runId)).status, 'cancelled');

  const timed = await runtime.engine.trigger(goneTimeout);
  const failed = await runtime.engine.waitForRun(timed.runId, { timeoutMs: 45_000 });
  t.is(failed.status, 'failed');
  t.regex(failed.steps.only.error?.message ?? '', /^no worker with fl-gone-timeout@[0-9a-f]+ appeared within the pipeline's noWorkerTimeout/);
  t.is(failed.steps.after.status, 'skipped');
});
