import test from 'ava';
import { Redis } from 'ioredis';
import { testPipeline } from '../../src/testing/index.ts';
import { KeySpace } from '../../src/redis/keys.ts';
import { ModelMetricsStore } from '../../src/redis/model-metrics-store.ts';
import { createStepMonitorClient } from '../../src/monitoring/step-monitor-client.ts';
import monitoring from '../../pipelines/model-monitoring.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
let client: Redis;
test.before(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
test.after.always(async () => {
  client?.disconnect();
  await redis?.destroy();
});

test.serial('an in-distribution batch scores well, is recorded, and asks for no retraining', async (t) => {
  const store = new ModelMetricsStore(client, new KeySpace('mon1'));
  const result = await testPipeline(monitoring, { monitor: createStepMonitorClient(store), logicalTime: new Date().toISOString() });
  t.is(result.status, 'succeeded');
  t.true(result.outputs.score.accuracy >= 0.9, `accuracy ${result.outputs.score.accuracy}`);
  t.is(result.outputs.score.rows, 50);
  t.false(result.outputs['check-drift'].drifted);
  t.deepEqual(result.outputs.decide, { retrain: false, reasons: [] });
  t.false('request-retraining' in result.outputs);
  t.is(result.steps['request-retraining'].status, 'skipped');
  const series = await store.series('iris', 'accuracy');
  t.deepEqual(series.map((p) => [p.version, p.value]), [['baseline', result.outputs.score.accuracy]]);
  t.true((await store.dataQuality())[0]!.figures.some((f) => f.metric === 'drift_psi' && f.feature === 'petal_length'));
});

test.serial('a shifted batch loses accuracy and drifts: retraining is requested', async (t) => {
  const store = new ModelMetricsStore(client, new KeySpace('mon2'));
  const result = await testPipeline(monitoring, {
    params: { batch: 'data/iris-batch-shifted.csv' },
    monitor: createStepMonitorClient(store),
    logicalTime: new Date().toISOString(),
  });
  t.is(result.status, 'succeeded');
  t.log('accuracy on the shifted batch', result.outputs.score.accuracy, result.outputs.decide.reasons);
  t.true(result.outputs['check-drift'].drifted);
  t.true(result.outputs['check-drift'].driftedFeatures.includes('petal_length'));
  t.true(result.outputs.decide.retrain);
  t.like(result.outputs['request-retraining'], { retrain: true, event: 'model-degraded', model: 'iris' });
  t.is((await store.series('iris', 'accuracy'))[0]!.value, result.outputs.score.accuracy);
});

test('the pipeline is scheduled hourly', (t) => {
  t.deepEqual(monitoring.spec.schedules.map((s) => s.cron), ['0 * * * *']);
});
