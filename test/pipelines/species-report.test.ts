import test from 'ava';
import { testPipeline } from 'conveyor-mlops/testing';
import speciesReport from '../../pipelines/species-report.ts';

test('the diamond joins both extracts and reports every species; alert is skipped', async (t) => {
  const result = await testPipeline(speciesReport);
  t.is(result.status, 'succeeded');
  t.deepEqual(Object.keys(result.outputs.report.report).sort(), ['setosa', 'versicolor', 'virginica']);
  t.is(result.outputs.report.report.setosa.sepal_length.mean, 5.006);
  t.deepEqual(result.steps.alert, { status: 'skipped', attempts: 0, reason: 'no upstream step failed (runWhen: one-failed)', skip: 'trigger-rule' });
});

test('the species param filters the report', async (t) => {
  const result = await testPipeline(speciesReport, { params: { species: ['virginica'] } });
  t.deepEqual(Object.keys(result.outputs.report.report), ['virginica']);
});

test('tiny stubbed extracts give exact statistics', async (t) => {
  const result = await testPipeline(speciesReport, {
    stub: {
      'extract-measurements': { rows: [[1, 2, 3, 4], [3, 4, 5, 6], [9, 9, 9, 9]] },
      'extract-labels': { labels: ['setosa', 'setosa', 'virginica'] },
    },
  });
  t.deepEqual(result.outputs.report.report.setosa.sepal_length, { mean: 2, min: 1, max: 3 });
  t.deepEqual(result.outputs.report.report.virginica.petal_width, { mean: 9, min: 9, max: 9 });
});

test('mismatched extracts fail join after its retry, skip report, and fire the alert', async (t) => {
  const result = await testPipeline(speciesReport, {
    stub: { 'extract-measurements': { rows: [[1, 2, 3, 4]] }, 'extract-labels': { labels: ['setosa', 'virginica'] } },
  });
  t.is(result.status, 'failed');
  t.is(result.steps.join.attempts, 2, 'retries: 1 in the pipeline defaults');
  t.is(result.steps.join.error?.message, 'expected as many labels as rows, found 2 labels for 1 rows');
  t.true(result.steps.report.skippedByFailure);
  t.deepEqual(result.outputs.alert, { alerted: true });
  t.true(result.logs.some((l) => l.step === 'alert' && l.level === 'warn'));
});
