/**
 * A step starts only where its code is (real `conveyor worker` processes, real Redis): two teams'
 * pipelines folders on the same `default` queue, and a pipeline no worker has any more.
 */
import test from 'ava';
import { join } from 'node:path';
import { runCli, waitFor } from '../fixtures/procs.ts';
import { FOLDER, startFleet, type Fleet } from './fleet-procs.ts';
import { computeCodeVersion } from '../../src/app/code-version.ts';
import { versionQueueName } from '../../src/domain/step-routes.ts';
import { attachMetrics } from '../../src/app/metrics-wiring.ts';
import alpha from '../fixtures/pipelines/fleet-a/fl-alpha.ts';
import beta from '../fixtures/pipelines/fleet-b/fl-beta.ts';
import gone from '../fixtures/pipelines/gone/fl-gone.ts';
import goneTimeout from '../fixtures/pipelines/gone/fl-gone-timeout.ts';
import { waitingText } from '../../src/engine/run-view.ts';

let fleet: Fleet;
const setup = () => fleet.setup();
const workers = (prefix: string, folder: string, count: number) => fleet.workers(prefix, folder, count);

test.before(async () => {
  fleet = await startFleet();
});

test.after.always(() => fleet?.close());

test.serial('heterogeneous fleet: two teams on queue `default`, 50 runs each, 0 failed, no step started on a worker without its code', async (t) => {
  const { prefix, runtime } = await setup();
  const teamA = await workers(prefix, 'fleet-a', 2);
  const teamB = await workers(prefix, 'fleet-b', 2);
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
  // `conveyor pipelines` says which runs wait for which version, and which code versions workers serve.
  const env = { REDIS_URL: fleet.redis.url, CONVEYOR_PREFIX: prefix, CONVEYOR_PIPELINES: FOLDER('fleet-a') };
  const status = await runCli(['status', runId], env);
  t.true(status.stdout.includes(waitingText(`fl-gone@${view.dagHash}`)), status.stdout);
  const cli = await runCli(['pipelines', '--json'], env);
  t.is(cli.code, 0, cli.stderr);
  const report = JSON.parse(cli.stdout) as { waiting: Array<{ waitingFor: string; runs: string[]; workers: string[] }>; pipelines: Array<{ id: string; versions: Array<{ codeVersions: string[]; workers: unknown[] }> }> };
  t.like(report.waiting.find((w) => w.waitingFor === `fl-gone@${view.dagHash}`), { runs: [runId], workers: [] });
  const served = report.pipelines.find((p) => p.id === 'fl-alpha')!.versions[0];
  t.is(served.workers.length, 1);
  t.deepEqual(served.codeVersions, [computeCodeVersion(join(FOLDER('fleet-a'), 'fl-alpha.ts'))]);
  // The metric: the version queue's `wait` count is the number of steps waiting for that version.
  const versionQueue = versionQueueName({ pool: 'default', pipeline: 'fl-gone', dagHash: view.dagHash });
  const metrics = await attachMetrics(runtime, { serve: false, failureWebhook: false });
  try {
    const exposition = await metrics.hub.metrics();
    t.regex(exposition, new RegExp(`conveyor_queue_jobs\\{queue="${versionQueue}",state="wait"\\} 1\\b`));
    t.regex(exposition, new RegExp(`conveyor_steps_waiting_for_worker\\{pipeline="fl-gone",version="${view.dagHash}"\\} 1\\b`));
  } finally {
    await metrics.close();
  }
  await runtime.engine.cancel(runId, 'test');
  t.is((await runtime.engine.getRun(runId)).status, 'cancelled');
  t.is((await runtime.queues.counts(versionQueue)).wait, 0, 'cancel removed the job from its version queue');

  const timed = await runtime.engine.trigger(goneTimeout);
  const failed = await runtime.engine.waitForRun(timed.runId, { timeoutMs: 45_000 });
  t.is(failed.status, 'failed');
  t.regex(failed.steps.only.error?.message ?? '', /^no worker with fl-gone-timeout@[0-9a-f]+ appeared within the pipeline's noWorkerTimeout/);
  t.is(failed.steps.after.status, 'skipped');
});
