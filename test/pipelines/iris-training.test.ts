import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPipeline } from 'conveyor-mlops/testing';
import irisTraining from '../../pipelines/iris-training.ts';
import { createRedis, type RedisClient } from '../../src/redis/connection.ts';
import { createModelRegistry } from '../../src/registry/create.ts';
import type { ModelRegistry } from '../../src/registry/model-registry.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

// The pipeline registers and deploys through ctx.registry: give it a real registry on a private Redis,
// with artifacts and the serving folder in a temporary directory.
let redis: TestRedis;
let client: RedisClient;
let dir: string;
let prefixCount = 0;

test.before(async () => {
  redis = await startTestRedis();
  client = createRedis(redis.url);
  dir = await mkdtemp(join(tmpdir(), 'conveyor-iris-test-'));
});

test.after.always(async () => {
  await client?.quit();
  await redis?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A fresh registry (own key prefix and folders) per test, so tests do not see each other's models. */
function freshRegistry(): { registry: ModelRegistry; servingDir: string } {
  const name = `iris${++prefixCount}`;
  const registry = createModelRegistry({ redis: client, config: { prefix: name, dataDir: join(dir, name) } });
  return { registry, servingDir: join(dir, name, 'serving', 'iris') };
}

/** A tiny `load` output whose held-out rows (every 2nd) contradict the training rows with the same features. */
function contradictoryLoad() {
  const labels = [0, 1, 1, 2, 2, 0, 0, 1, 1, 2];
  const features = labels.map((_, i) => [1 + Math.floor(i / 2), 2, 3, 4]);
  return { features, labels, sha256: 'a'.repeat(64), source: 'test' };
}

test('on the real iris data: validated, trained, evaluated, registered, deployed to the serving folder', async (t) => {
  const { registry, servingDir } = freshRegistry();
  const result = await testPipeline(irisTraining, { registry, params: {} });
  t.is(result.status, 'succeeded');
  t.is(result.outputs.validate.rows, 150);
  t.is(result.outputs.load.labels.length, 150);
  t.true(result.outputs.evaluate.accuracy >= 0.9, `accuracy ${result.outputs.evaluate.accuracy}`);
  t.true(result.outputs.evaluate.gates.passed);
  t.deepEqual(result.outputs.register, { version: 1, created: true });
  t.is(result.outputs.deploy.deployed, true);
  t.deepEqual(await registry.aliases('iris'), { production: 1 });
  const version = await registry.get('iris', 1);
  t.is(version.lineage?.runId, result.runId, 'registered with the run lineage, as a worker would');
  t.true(result.outputs.deploy.location !== null);
  t.truthy(await readFile(join(result.outputs.deploy.location!, 'model.json'), 'utf8'));
  t.is(result.outputs.notify.deployed, true);
});

test('a model below minAccuracy is registered but not deployed; notify still runs and the run succeeds', async (t) => {
  const { registry, servingDir } = freshRegistry();
  const result = await testPipeline(irisTraining, {
    registry,
    params: { holdoutEvery: 2, minAccuracy: 0.9 },
    stub: { load: contradictoryLoad() },
  });
  t.true(result.outputs.evaluate.accuracy < 0.9, `accuracy ${result.outputs.evaluate.accuracy}`);
  t.false(result.outputs.evaluate.gates.passed);
  t.deepEqual(result.steps.deploy, { status: 'skipped', attempts: 1, reason: 'condition was false', skip: 'condition' });
  t.false('deploy' in result.outputs);
  t.is(result.outputs.notify.deployed, false);
  t.true(result.outputs.notify.why.length > 0, 'notify says which gate failed');
  t.deepEqual(await registry.aliases('iris'), {}, 'production alias untouched');
  t.is(result.status, 'succeeded');
});

test('the same poor model passes when minAccuracy is 0 and there is no production model yet', async (t) => {
  const { registry, servingDir } = freshRegistry();
  const result = await testPipeline(irisTraining, { registry, params: { holdoutEvery: 2, minAccuracy: 0 }, stub: { load: contradictoryLoad() } });
  t.is(result.steps.deploy.status, 'succeeded');
  t.is(result.outputs.notify.deployed, true);
});

test('a second identical run is not promoted: the challenger must beat production', async (t) => {
  const { registry, servingDir } = freshRegistry();
  await testPipeline(irisTraining, { registry, params: {} });
  const second = await testPipeline(irisTraining, { registry, params: {} });
  t.is(second.outputs.register.version, 2);
  t.is(second.outputs.evaluate.champion?.version, 1);
  t.is(second.steps.deploy.status, 'skipped');
  t.deepEqual(await registry.aliases('iris'), { production: 1 });
});

test('a failing train step is retried (retries: 3), then the downstream steps are skipped and the run fails', async (t) => {
  const { registry, servingDir } = freshRegistry();
  let calls = 0;
  const result = await testPipeline(irisTraining, {
    registry,
    params: {},
    stub: {
      train: () => {
        calls++;
        throw new Error('training service unavailable');
      },
    },
  });
  t.is(calls, 4);
  t.is(result.steps.train.attempts, 4);
  t.is(result.status, 'failed');
  for (const step of ['evaluate', 'register', 'deploy']) t.true(result.steps[step].skippedByFailure, step);
  t.is(result.outputs.notify.deployed, false, 'notify (runWhen: upstream-done) still reports');
});

test('a wrong param is refused before anything runs', async (t) => {
  await t.throwsAsync(testPipeline(irisTraining, { params: { minAccuracy: 2 } }), { message: /minAccuracy/ });
});
