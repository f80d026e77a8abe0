import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { definePipeline } from '../../src/index.ts';
import { deterministicRunId } from '../../src/core/ids.ts';
import { EventTriggers } from '../../src/app/event-triggers.ts';
import { deliverFollowUps, startOutboxSweeper } from '../../src/app/outbox.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { ROOT, waitFor } from '../fixtures/procs.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const upstream = definePipeline({ id: 'up', defaults: { retries: 0 } }).step('only', async () => ({ ok: true }));
const downstream = definePipeline({ id: 'down', triggers: [{ onSucceeded: 'up' }], defaults: { retries: 0 } }).step('go', async ({ run }) => ({ trigger: run.trigger }));

/** Runs the fixture that ends `runId` and waits to be killed; kill -9 once it reports the run ended. */
async function endRunAndKill(prefix: string, runId: string, point: 'after-script' | 'after-finish'): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/finish-and-die.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, FX_RUN: runId, FX_STEP: 'only', FX_POINT: point },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await waitFor(() => out.includes('"run-ended"') || child.exitCode !== null, 30_000, `the fixture to end the run (stderr: ${err})`);
  if (!out.includes('"finalStatus":"succeeded"')) throw new Error(`fixture did not end the run: ${out} ${err}`);
  child.kill('SIGKILL');
  if ((await exited) !== 'SIGKILL') throw new Error('the fixture was not killed by SIGKILL');
}

for (const point of ['after-script', 'after-finish'] as const) {
  test.serial(`kill -9 of the process that ended a run (${point}): a live worker delivers onSucceeded, exactly one downstream run`, async (t) => {
    const rt = await testRuntime(redis);
    const replica = await testRuntime(redis, { CONVEYOR_PREFIX: rt.keys.prefix });
    const { runId } = await rt.engine.trigger(upstream);
    await endRunAndKill(rt.keys.prefix, runId, point);
    t.is((await rt.engine.getRun(runId)).status, 'succeeded');
    t.deepEqual(await rt.engine.listRuns({ pipeline: 'down' }), [], 'nothing delivered by the killed process');

    // The survivors: a worker (whose reconciler finishes what the dead process left) and a second replica.
    const triggers = [new EventTriggers(rt, [upstream, downstream]), new EventTriggers(replica, [upstream, downstream])];
    rt.onEngineEvent(triggers[0].onEngineEvent);
    const host = await withWorker(rt, [upstream, downstream]);
    const sweepers = [startOutboxSweeper(rt, triggers[0], { intervalMs: 50, graceMs: 0 }), startOutboxSweeper(replica, triggers[1], { intervalMs: 50, graceMs: 0 })];
    try {
      const expected = deterministicRunId('e', 'down', runId);
      await waitFor(async () => (await rt.store.getRun(expected)) !== undefined, 30_000, 'the downstream run');
      const view = await rt.engine.waitForRun(expected, { timeoutMs: 15_000 });
      t.is(view.status, 'succeeded');
      t.like(view.steps.go.output, { trigger: { upstreamRunId: runId } });
      // Repeated deliveries (both replicas, again) are no-ops: still one downstream run.
      await deliverFollowUps(replica, triggers[1], runId);
      await Promise.all(sweepers.map((s) => s.sweep()));
      t.deepEqual((await rt.engine.listRuns({ pipeline: 'down' })).map((r) => r.id), [expected]);
      t.is(await rt.redis.zcard(rt.keys.outbox), 0, 'nothing left in the outbox');
    } finally {
      await Promise.all(sweepers.map((s) => s.stop()));
      await host.stop(2_000);
      await replica.close();
      await rt.close();
    }
  });
}
