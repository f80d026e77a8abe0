import test from 'ava';
import { testPipeline } from 'conveyor/testing';
import irisTraining from '../../pipelines/iris-training.ts';

/** A tiny data set shaped like the `load` output, with labels chosen by the caller. */
function tinyLoad(labels: string[], features?: number[][]) {
  const rows = features ?? labels.map((_, i) => [1 + (i % 2), 2, 3, 4]);
  return { rows: rows.length, features: rows, labels, sha256: 'stub', source: 'test' };
}

test('on the real iris data the model passes the gate, is deployed, and notify reports it', async (t) => {
  const result = await testPipeline(irisTraining);
  t.is(result.status, 'succeeded');
  t.is(result.outputs.load.rows, 150);
  t.deepEqual(result.outputs.validate.classes, ['setosa', 'versicolor', 'virginica']);
  t.true(result.outputs.train.accuracy >= 0.9, `accuracy ${result.outputs.train.accuracy}`);
  t.is(result.outputs.deploy.deployed, true);
  t.is(result.outputs.deploy.accuracy, result.outputs.train.accuracy);
  t.deepEqual(result.outputs.notify, { status: 'running', deployed: true });
  t.true(result.logs.some((l) => l.step === 'train' && l.msg === 'evaluated on held-out rows'));
});

test('a model below minAccuracy is not deployed; notify still runs and the run succeeds', async (t) => {
  // Held-out rows (every 2nd) contradict the training rows with the same features: accuracy is 0.
  const labels = ['setosa', 'versicolor', 'versicolor', 'virginica', 'virginica', 'setosa', 'setosa', 'versicolor', 'versicolor', 'virginica'];
  const features = labels.map((_, i) => [1 + Math.floor(i / 2), 2, 3, 4]);
  const result = await testPipeline(irisTraining, { params: { holdoutEvery: 2, minAccuracy: 0.9 }, stub: { load: tinyLoad(labels, features) } });
  t.true(result.outputs.train.accuracy < 0.9, `accuracy ${result.outputs.train.accuracy}`);
  t.deepEqual(result.steps.deploy, { status: 'skipped', attempts: 1, reason: 'condition was false' });
  t.false('deploy' in result.outputs);
  t.deepEqual(result.outputs.notify, { status: 'running', deployed: false });
  t.is(result.status, 'succeeded');
});

test('the same poor model is deployed when minAccuracy is lowered to 0', async (t) => {
  const labels = ['setosa', 'versicolor', 'versicolor', 'virginica', 'virginica', 'setosa', 'setosa', 'versicolor', 'versicolor', 'virginica'];
  const features = labels.map((_, i) => [1 + Math.floor(i / 2), 2, 3, 4]);
  const result = await testPipeline(irisTraining, { params: { holdoutEvery: 2, minAccuracy: 0 }, stub: { load: tinyLoad(labels, features) } });
  t.is(result.steps.deploy.status, 'succeeded');
  t.is(result.outputs.notify.deployed, true);
});

test('bad measurements fail validate at once (NonRetriableError): train and deploy skipped, run failed', async (t) => {
  const labels = ['setosa', 'versicolor', 'virginica'];
  const result = await testPipeline(irisTraining, { stub: { load: tinyLoad(labels, [[5, 3, 1, 0.2], [6, -1, 4, 1], [7, 3, 6, 2]]) } });
  t.is(result.status, 'failed');
  t.is(result.steps.validate.status, 'failed');
  t.is(result.steps.validate.attempts, 1, 'NonRetriableError is not retried despite retries: 2');
  t.regex(result.steps.validate.error?.message ?? '', /row 1: expected 4 positive measurements/);
  t.true(result.steps.train.skippedByFailure);
  t.true(result.steps.deploy.skippedByFailure);
  // notify runs whatever happened upstream (runWhen: upstream-done) and sees the failed run.
  t.deepEqual(result.outputs.notify, { status: 'failed', deployed: false });
});

test('a wrong param is refused before anything runs', async (t) => {
  await t.throwsAsync(testPipeline(irisTraining, { params: { minAccuracy: 2 } }), { message: /minAccuracy/ });
});
