import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import irisTraining from '../../pipelines/iris-training.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

let redis: TestRedis;
const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-iris-'));
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

test('iris-training end to end: v1 is promoted, an equal v2 and a worse v3 are registered but not promoted', async (t) => {
  const rt = await testRuntime(redis, { CONVEYOR_DATA_DIR: dataDir });
  const host = await withWorker(rt, [irisTraining]);
  const servingDir = join(dataDir, 'serving', 'iris'); // the deploy root (<data dir>/serving), folder servingTarget
  const run = async (params: Record<string, unknown>) => rt.engine.waitForRun((await rt.engine.trigger(irisTraining, { params })).runId, { timeoutMs: 60_000 });
  try {
    const first = await run({});
    t.is(first.status, 'succeeded');
    const accuracy = (first.steps.evaluate.output as { accuracy: number }).accuracy;
    t.true(accuracy > 0.9 && accuracy < 1, `a real held-out accuracy, found ${accuracy}`);
    t.like(first.steps.deploy.output, { deployed: true, version: 1, previous: null });
    t.deepEqual(await rt.registry.aliases('iris'), { production: 1 });
    const manifest = JSON.parse(readFileSync(join(servingDir, 'current', 'manifest.json'), 'utf8'));
    t.like(manifest, { model: 'iris', version: 1 });

    const second = await run({});
    t.is(second.status, 'succeeded', 'a model that is not better is not an error');
    t.is(second.steps.deploy.status, 'skipped');
    t.like(second.steps.register.output, { version: 2 });
    t.regex((second.steps.notify.output as { why: string[] }).why.join(' '), /accuracy/);

    const third = await run({ maxDepth: 1 });
    t.true((third.steps.evaluate.output as { accuracy: number }).accuracy < accuracy);
    t.is(third.steps.deploy.status, 'skipped');

    t.deepEqual(await rt.registry.aliases('iris'), { production: 1 }, 'production still points at v1');
    const v2 = await rt.registry.get('iris', 2);
    t.is(v2.lineage?.runId, second.id);
    t.is(v2.lineage?.step, 'register');
    t.is(v2.data?.rowCount, 150);
    t.is(v2.tags.gates, 'failed');
    const history = await rt.registry.history('iris');
    t.deepEqual(history.items.filter((e) => e.action === 'set').map((e) => [e.from, e.to]), [[null, 1]]);
    t.true(existsSync(join(servingDir, 'current')));
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});

test('continuous learning: model-monitoring on a drifted batch starts iris-training through its model-degraded event', async (t) => {
  const { default: monitoring } = await import('../../pipelines/model-monitoring.ts');
  const rt = await testRuntime(redis, { CONVEYOR_DATA_DIR: dataDir });
  const host = await withWorker(rt, [monitoring, irisTraining]);
  try {
    const view = await rt.engine.waitForRun((await rt.engine.trigger(monitoring, { params: { batch: 'data/iris-batch-shifted.csv' } })).runId, { timeoutMs: 60_000 });
    t.is(view.status, 'succeeded');
    const request = view.steps['request-retraining'].output as { started: Array<{ pipeline: string; runId: string }>; reasons: string[] };
    t.deepEqual(request.started.map((s) => s.pipeline), ['iris-training']);
    t.true(request.reasons.some((r) => r.startsWith('drift in')));
    const retraining = await rt.engine.waitForRun(request.started[0].runId, { timeoutMs: 60_000 });
    t.is(retraining.status, 'succeeded');
    t.like(retraining.trigger, { type: 'event', event: 'model-degraded' });
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});
