import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPipeline } from 'conveyor-mlops/testing';
import exampleTraining from '../pipelines/example-training.ts';

test('example-training fits the data and scores every fold', async () => {
  const result = await testPipeline(exampleTraining, { params: { folds: 4 } });
  assert.equal(result.status, 'succeeded');
  assert.equal(result.steps.train.attempts, 2); // the first attempt fails on purpose
  assert.equal(result.outputs.report.folds, 4);
  assert.ok(result.outputs.report.meanAbsoluteError < 1, `mean absolute error ${result.outputs.report.meanAbsoluteError}`);
});

test('a failing load fails the run and skips everything after it', async () => {
  const result = await testPipeline(exampleTraining, {
    stub: { load: () => { throw new Error('source unavailable'); } },
  });
  assert.equal(result.status, 'failed');
  assert.equal(result.steps.load.status, 'failed');
  assert.equal(result.steps.report.status, 'skipped');
});
