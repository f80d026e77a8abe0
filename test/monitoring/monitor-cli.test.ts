import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { ModelMetricsStore } from '../../src/redis/model-metrics-store.ts';
import { sparkline } from '../../src/cli/commands/monitor.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

const run = promisify(execFile);
let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('sparkline scales between min and max', (t) => {
  t.is(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  t.is(sparkline([0.9, 0.9, 0.9]), '▄▄▄');
  t.is(sparkline([0.95, 0.5]), '█▁');
  t.is(sparkline([]), '');
});

test('`conveyor monitor --once` prints queues, live workers, recent runs and the accuracy trend; --json the same data', async (t) => {
  const runtime = await testRuntime(redis);
  const pipeline = definePipeline({ id: 'watched' }).step('only', async () => ({ ok: true }));
  const host = await withWorker(runtime, [pipeline]);
  try {
    const { runId } = await runtime.engine.trigger(pipeline);
    await runtime.engine.waitForRun(runId, { timeoutMs: 30_000 });
    const store = new ModelMetricsStore(runtime.redis, runtime.keys);
    const now = Date.now();
    for (const [i, v] of [0.97, 0.96, 0.95, 0.9, 0.8, 0.6].entries()) await store.record('iris', 2, 'accuracy', v, now - (6 - i) * 3_600_000);
    const args = ['bin/conveyor.js', '--redis-url', redis.url, '--prefix', runtime.config.prefix, 'monitor'];
    const env = { ...process.env, NO_COLOR: '1' };
    const { stdout } = await run(process.execPath, [...args, '--once', '--model', 'iris'], { env });
    t.regex(stdout, /Queues/);
    t.regex(stdout, /default\s+0\s+0/);
    t.regex(stdout, /Workers \(1 live\)/);
    t.true(stdout.includes(runId), 'the recent run is listed');
    t.regex(stdout, /iris\s+accuracy\s+2\s+0\.6\s+███▇▅▁/);
    const json = JSON.parse((await run(process.execPath, [...args, '--json'], { env })).stdout);
    t.is(json.workers.length, 1);
    t.is(json.runs[0].id, runId);
    t.deepEqual(json.models[0].trend, [0.97, 0.96, 0.95, 0.9, 0.8, 0.6]);
  } finally {
    await host.stop(1_000);
    await runtime.close();
  }
});
