import test from 'ava';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { attachMetrics, type MetricsAttachment } from '../../src/app/metrics-wiring.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { scrape, scrapeWhen, valueOf, type Exposition } from './exposition.ts';

const ok = definePipeline({ id: 'x' })
  .step('a', async () => {
    // 20 ms of CPU: more than the worker's 5 ms CPU sampling resolution, so the counter must move.
    const start = process.cpuUsage();
    let s = 0;
    while (process.cpuUsage(start).user < 20_000) for (let i = 0; i < 10_000; i++) s += Math.sqrt(i);
    return { s };
  })
  .step('b', { needs: ['a'] }, async ({ upstream }) => ({ doubled: upstream.a.s * 2 }));

const failing = definePipeline({ id: 'y', defaults: { retries: 1, backoff: { type: 'fixed', delayMs: 10 } } }).step('boom', async () => {
  throw new Error('always fails');
});

// No worker serves queue "parked": its jobs wait, which is what the backlog gauges must show.
const parked = definePipeline({ id: 'z', defaults: { queue: 'parked' } }).step('wait', async () => ({}));

let redis: TestRedis;
let runtime: Runtime;
let host: WorkerHost;
let metrics: MetricsAttachment;
let exp: Exposition;
const runIds: string[] = [];

test.before(async () => {
  redis = await startTestRedis();
  runtime = await testRuntime(redis);
  host = await withWorker(runtime, [ok, failing], { queues: ['default'] });
  metrics = await attachMetrics(runtime, { workerHost: host, queues: ['parked'], serve: { port: await freePort(), host: '127.0.0.1' } });
  const runs = runIds;
  for (let i = 0; i < 3; i++) runs.push((await runtime.engine.trigger(ok)).runId);
  runs.push((await runtime.engine.trigger(failing)).runId);
  for (const runId of [...runs]) await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 });
  runs.push((await runtime.engine.trigger(parked)).runId);
  runs.push((await runtime.engine.trigger(parked)).runId);
  await metrics.monitor.recordModelMetric('iris', 3, 'accuracy', 0.93);
  await metrics.monitor.recordDataQuality([
    { metric: 'null_rate', dataset: 'iris-batch', feature: 'petal_length', value: 0.02 },
    { metric: 'drift_psi', dataset: 'iris-batch', feature: 'petal_length', value: 0.41 },
    { metric: 'check_passed', dataset: 'iris-batch', check: 'row_count', value: 1 },
  ]);
  const url = metrics.server!.url;
  exp = await scrapeWhen(() => scrape(url), (e) => valueOf(e, 'conveyor_runs_finished_total', { pipeline: 'y', status: 'failed' }) === 1 && valueOf(e, 'conveyor_runs_finished_total', { pipeline: 'x', status: 'succeeded' }) === 3);
});

test.after.always(async () => {
  await metrics?.close();
  await host?.stop(1_000);
  await runtime?.close();
  await redis?.destroy();
});

test('runs started and finished are counted by pipeline and status', (t) => {
  t.is(valueOf(exp, 'conveyor_runs_started_total', { pipeline: 'x', trigger: 'manual' }), 3);
  t.is(valueOf(exp, 'conveyor_runs_finished_total', { pipeline: 'x', status: 'succeeded' }), 3);
  t.is(valueOf(exp, 'conveyor_runs_finished_total', { pipeline: 'y', status: 'failed' }), 1);
  t.is(valueOf(exp, 'conveyor_runs_finished_total', { pipeline: 'x', status: 'failed' }), undefined);
  t.is(valueOf(exp, 'conveyor_run_duration_seconds_count', { pipeline: 'x', status: 'succeeded' }), 3);
});

test('step durations, retries and CPU time are recorded per pipeline and step', (t) => {
  t.is(valueOf(exp, 'conveyor_step_duration_seconds_count', { pipeline: 'x', step: 'a', status: 'succeeded' }), 3);
  t.is(valueOf(exp, 'conveyor_step_duration_seconds_count', { pipeline: 'x', step: 'b', status: 'succeeded' }), 3);
  t.is(valueOf(exp, 'conveyor_step_duration_seconds_count', { pipeline: 'y', step: 'boom', status: 'failed' }), 1);
  t.is(valueOf(exp, 'conveyor_step_retries_total', { pipeline: 'y', step: 'boom' }), 1);
  t.true(valueOf(exp, 'conveyor_step_cpu_seconds_total', { pipeline: 'x', step: 'a' })! > 0);
  t.true(valueOf(exp, 'conveyor_step_peak_rss_bytes', { pipeline: 'x', step: 'a' })! > 10_000_000);
});

test('labels never carry run ids', (t) => {
  t.is(runIds.length, 6);
  const labelValues = exp.samples.flatMap((s) => Object.values(s.labels));
  const leaked = labelValues.filter((v) => runIds.some((id) => v.includes(id)));
  t.deepEqual(leaked, []);
  for (const name of ['runId', 'run_id', 'run']) t.false(exp.samples.some((s) => name in s.labels));
});

test('queue depth and oldest waiting age come from BullMQ at scrape time', (t) => {
  t.is(valueOf(exp, 'conveyor_queue_jobs', { queue: 'parked', state: 'wait' }), 2);
  t.true(valueOf(exp, 'conveyor_queue_oldest_waiting_age_seconds', { queue: 'parked' })! >= 0);
  t.is(valueOf(exp, 'conveyor_queue_jobs', { queue: 'default', state: 'wait' }), 0);
  t.is(valueOf(exp, 'conveyor_queue_oldest_waiting_age_seconds', { queue: 'default' }), 0);
});

test('live workers, Redis INFO and process metrics are exposed', (t) => {
  t.is(valueOf(exp, 'conveyor_workers_active'), 1);
  t.is(valueOf(exp, 'conveyor_workers_by_queue', { queue: 'default' }), 1);
  t.is(valueOf(exp, 'conveyor_workers_by_queue', { queue: 'parked' }), undefined);
  t.true(valueOf(exp, 'conveyor_redis_connected_clients')! >= 3);
  t.true(valueOf(exp, 'conveyor_redis_used_memory_bytes')! > 100_000);
  t.true(valueOf(exp, 'conveyor_process_resident_memory_bytes')! > 0);
  t.true(exp.families.has('conveyor_process_cpu_seconds_total'));
});

test('model metrics and data quality figures recorded by steps are exposed', (t) => {
  t.is(valueOf(exp, 'conveyor_model_metric', { model: 'iris', version: '3', metric: 'accuracy' }), 0.93);
  t.is(valueOf(exp, 'conveyor_data_null_rate', { dataset: 'iris-batch', feature: 'petal_length' }), 0.02);
  t.is(valueOf(exp, 'conveyor_data_drift_psi', { dataset: 'iris-batch', feature: 'petal_length' }), 0.41);
  t.is(valueOf(exp, 'conveyor_data_check_passed', { dataset: 'iris-batch', check: 'row_count' }), 1);
  t.is(valueOf(exp, 'conveyor_data_checks_total', { dataset: 'iris-batch', check: 'row_count', result: 'passed' }), 1);
});

test.serial('a newer model version replaces the older series; another process sees the same value', async (t) => {
  await metrics.monitor.recordModelMetric('iris', 4, 'accuracy', 0.81);
  const again = await scrape(metrics.server!.url);
  t.is(valueOf(again, 'conveyor_model_metric', { model: 'iris', version: '4', metric: 'accuracy' }), 0.81);
  t.is(valueOf(again, 'conveyor_model_metric', { model: 'iris', version: '3', metric: 'accuracy' }), undefined);
  // A second process (its own hub, no events of its own) reads the same figures from Redis.
  const other = await attachMetrics(runtime, { serve: { port: await freePort(), host: '127.0.0.1' }, failureWebhook: false });
  try {
    const seen = await scrape(other.server!.url);
    t.is(valueOf(seen, 'conveyor_model_metric', { model: 'iris', version: '4', metric: 'accuracy' }), 0.81);
    t.is(valueOf(seen, 'conveyor_data_drift_psi', { dataset: 'iris-batch', feature: 'petal_length' }), 0.41);
    t.is(valueOf(seen, 'conveyor_runs_finished_total', { pipeline: 'x', status: 'succeeded' }), undefined, 'counters are per process');
  } finally {
    await other.close();
  }
});

test('healthz answers 200 while Redis answers, and unknown paths 404', async (t) => {
  const health = await fetch(`${metrics.server!.url}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await health.json(), { status: 'ok' });
  t.is((await fetch(`${metrics.server!.url}/nope`)).status, 404);
});
