import test from 'ava';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { attachMetrics } from '../../src/app/metrics-wiring.ts';
import { MetricsHub } from '../../src/monitoring/metrics-hub.ts';
import { OVERFLOW_LABEL } from '../../src/monitoring/label-guard.ts';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { parseExposition, scrape, scrapeWhen, valueOf, type Exposition } from './exposition.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const seriesCount = (exp: Exposition) => exp.samples.filter((s) => s.name.startsWith('conveyor_') && !s.name.startsWith('conveyor_process_') && !s.name.startsWith('conveyor_nodejs_')).length;

const pipeline = definePipeline({ id: 'many' })
  .step('prep', async () => ({ n: 1 }))
  .step('fit', { needs: ['prep'] }, async ({ upstream, run }) => {
    if (run.id.endsWith('0')) throw new Error('one in sixteen fails');
    return { n: upstream.prep.n + 1 };
  });

async function runBatch(runtime: Awaited<ReturnType<typeof testRuntime>>, n: number): Promise<void> {
  for (let done = 0; done < n; done += 50) {
    const ids = await Promise.all(Array.from({ length: Math.min(50, n - done) }, async () => (await runtime.engine.trigger(pipeline)).runId));
    await Promise.all(ids.map((id) => runtime.engine.waitForRun(id, { timeoutMs: 60_000 })));
  }
}

test('the number of series does not grow with the number of runs (1,000 runs)', async (t) => {
  const runtime = await testRuntime(redis);
  const host = await withWorker(runtime, [pipeline], { concurrency: 16 });
  const metrics = await attachMetrics(runtime, { workerHost: host, serve: { port: await freePort(), host: '127.0.0.1' }, failureWebhook: false });
  try {
    await runBatch(runtime, 100);
    const early = await scrape(metrics.server!.url);
    await runBatch(runtime, 900);
    const finished = (exp: Exposition, status: string) => valueOf(exp, 'conveyor_runs_finished_total', { pipeline: 'many', status }) ?? 0;
    const late = await scrapeWhen(() => scrape(metrics.server!.url), (e) => finished(e, 'succeeded') + finished(e, 'failed') === 1_000);
    t.is(finished(late, 'succeeded') + finished(late, 'failed'), 1_000);
    t.true(finished(late, 'failed') > 0, 'some runs failed, so both status series exist');
    t.true(finished(early, 'failed') > 0);
    t.is(seriesCount(late), seriesCount(early), 'series after 1,000 runs = series after 100 runs');
  } finally {
    await metrics.close();
    await host.stop(1_000);
    await runtime.close();
  }
});

test('a label that sees too many distinct values reports _other instead of growing', async (t) => {
  const hub = new MetricsHub({ labelLimit: 20, defaultMetrics: false, sampleMemory: false });
  for (let i = 0; i < 1_000; i++) hub.record({ type: 'run-finished', runId: `r${i}`, pipeline: `generated-${i}`, status: 'succeeded', durationMs: 5 });
  const exp = parseExposition(await hub.metrics());
  const finished = exp.samples.filter((s) => s.name === 'conveyor_runs_finished_total');
  t.is(finished.length, 21);
  t.is(valueOf(exp, 'conveyor_runs_finished_total', { pipeline: OVERFLOW_LABEL, status: 'succeeded' }), 980);
  t.is(valueOf(exp, 'conveyor_runs_finished_total', { pipeline: 'generated-7', status: 'succeeded' }), 1);
  hub.close();
});

test('map items are counted under their step name', async (t) => {
  const hub = new MetricsHub({ defaultMetrics: false, sampleMemory: false });
  for (let i = 0; i < 300; i++) hub.record({ type: 'step-finished', pipeline: 'p', step: `score[${i}]`, status: 'succeeded', durationMs: 3, attempt: 1, cpuMs: 1 });
  const exp = parseExposition(await hub.metrics());
  t.is(valueOf(exp, 'conveyor_step_duration_seconds_count', { pipeline: 'p', step: 'score', status: 'succeeded' }), 300);
  t.is(new Set(exp.samples.filter((s) => s.name.startsWith('conveyor_step_') && 'step' in s.labels).map((s) => s.labels.step)).size, 1);
  hub.close();
});
