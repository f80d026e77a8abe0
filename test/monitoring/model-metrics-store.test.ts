import test from 'ava';
import { Redis } from 'ioredis';
import { KeySpace } from '../../src/redis/keys.ts';
import { ModelMetricsStore } from '../../src/redis/model-metrics-store.ts';
import { createStepMonitorClient } from '../../src/monitoring/step-monitor-client.ts';
import { ValidationError } from '../../src/errors/conveyor-error.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
let client: Redis;
let n = 0;
const keys = () => new KeySpace(`mm${n++}`);

test.before(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
test.after.always(async () => {
  client?.disconnect();
  await redis?.destroy();
});

const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;

test('a series returns its points in time order, filtered by range', async (t) => {
  const store = new ModelMetricsStore(client, keys(), {}, () => T0 + 10 * HOUR);
  for (let h = 9; h >= 0; h--) await store.record('iris', h < 5 ? 1 : 2, 'accuracy', (90 + h) / 100, T0 + h * HOUR);
  const all = await store.series('iris', 'accuracy');
  t.deepEqual(all.map((p) => p.at), Array.from({ length: 10 }, (_, h) => T0 + h * HOUR));
  t.deepEqual(all.map((p) => p.version), ['1', '1', '1', '1', '1', '2', '2', '2', '2', '2']);
  const window = await store.series('iris', 'accuracy', { from: T0 + 2 * HOUR, to: T0 + 4 * HOUR });
  t.deepEqual(window.map((p) => p.value), [0.92, 0.93, 0.94]);
  const newest = await store.series('iris', 'accuracy', { limit: 3 });
  t.deepEqual(newest.map((p) => p.value), [0.97, 0.98, 0.99]);
  t.deepEqual(await store.series('iris', 'f1'), []);
});

const clock = () => T0 + 3 * HOUR;

test('two equal points at the same time are both kept', async (t) => {
  const store = new ModelMetricsStore(client, keys(), {}, clock);
  await store.record('m', 1, 'acc', 0.5, T0);
  await store.record('m', 1, 'acc', 0.5, T0);
  t.is((await store.series('m', 'acc')).length, 2);
});

test('retention trims by count: only the newest maxPoints stay', async (t) => {
  const store = new ModelMetricsStore(client, keys(), { maxPoints: 5 }, () => T0 + 100 * HOUR);
  for (let h = 0; h < 12; h++) await store.record('iris', 1, 'accuracy', h, T0 + h * HOUR);
  const left = await store.series('iris', 'accuracy');
  t.deepEqual(left.map((p) => p.value), [7, 8, 9, 10, 11]);
});

test('retention trims by age on every write; a series not written within the retention is dropped', async (t) => {
  let now = T0;
  const k = keys();
  const store = new ModelMetricsStore(client, k, { maxAgeMs: 24 * HOUR }, () => now);
  await store.record('retired', 1, 'accuracy', 0.8, T0);
  for (let h = 0; h <= 48; h += 6) {
    now = T0 + h * HOUR;
    await store.record('iris', 1, 'accuracy', h, now);
    if (h === 12) t.deepEqual((await store.latest()).map((l) => l.model), ['iris', 'retired'], 'still within the retention');
  }
  const left = await store.series('iris', 'accuracy');
  t.deepEqual(left.map((p) => p.value), [24, 30, 36, 42, 48], 'points older than 24 h before the last write are gone');
  t.deepEqual((await store.latest()).map((l) => `${l.model}/${l.metric}=${l.value}`), ['iris/accuracy=48']);
  t.deepEqual(await client.smembers(k.global('mm:index')), ['iris:accuracy']);
  t.is(await client.exists(k.global('mm:retired:accuracy')), 0);
});

test('latest gives every series its newest point', async (t) => {
  const store = new ModelMetricsStore(client, keys(), {}, clock);
  await store.record('iris', 1, 'accuracy', 0.95, T0);
  await store.record('iris', 2, 'accuracy', 0.91, T0 + HOUR);
  await store.record('iris', 2, 'f1', 0.9, T0 + HOUR);
  await store.record('churn', 'v7', 'auc', 0.8, T0);
  t.deepEqual(await store.latest(), [
    { model: 'churn', metric: 'auc', at: T0, version: 'v7', value: 0.8 },
    { model: 'iris', metric: 'accuracy', at: T0 + HOUR, version: '2', value: 0.91 },
    { model: 'iris', metric: 'f1', at: T0 + HOUR, version: '2', value: 0.9 },
  ]);
  t.is((await store.latest({ model: 'churn' })).length, 1);
});

test('bad names and values are refused before anything is written', async (t) => {
  const k = keys();
  const store = new ModelMetricsStore(client, k);
  const e1 = await t.throwsAsync(store.record('iris:prod', 1, 'accuracy', 0.9), { instanceOf: ValidationError });
  t.regex(e1.message, /model name.*"iris:prod"/);
  await t.throwsAsync(store.record('iris', 1, 'accuracy', Number.NaN), { instanceOf: ValidationError, message: /finite number/ });
  t.deepEqual(await client.keys(`${k.prefix}*`), []);
});

test('the step client stores points and data-quality figures, and reports them as events', async (t) => {
  const store = new ModelMetricsStore(client, keys(), {}, clock);
  const events: string[] = [];
  const monitor = createStepMonitorClient(store, { onEvent: (e) => events.push(e.type) });
  await monitor.recordModelMetric('iris', 3, 'accuracy', 0.9, '2026-03-01T01:00:00Z');
  await monitor.recordModelMetric('iris', 3, 'accuracy', 0.8, new Date(T0 + 2 * HOUR));
  t.deepEqual((await monitor.series('iris', 'accuracy', { from: '2026-03-01T00:30:00Z' })).map((p) => [p.at, p.value]), [
    [T0 + HOUR, 0.9],
    [T0 + 2 * HOUR, 0.8],
  ]);
  await t.throwsAsync(monitor.recordModelMetric('iris', 3, 'accuracy', 0.9, 'yesterday'), { instanceOf: ValidationError });
  const { datasets } = await monitor.recordDataQuality([
    { metric: 'null_rate', dataset: 'a', feature: 'x', value: 0.1 },
    { metric: 'drift_psi', dataset: 'b', feature: 'x', value: 0.3 },
  ]);
  t.deepEqual(datasets, ['a', 'b']);
  await monitor.recordDataQuality([{ metric: 'null_rate', dataset: 'a', feature: 'x', value: 0.2 }]);
  const dq = await store.dataQuality();
  t.deepEqual(dq.map((d) => [d.dataset, d.figures[0]!.value]), [
    ['a', 0.2],
    ['b', 0.3],
  ]);
  t.deepEqual(events, ['model-metric', 'model-metric', 'data-quality', 'data-quality']);
});
