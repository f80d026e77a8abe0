import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { attachMetrics } from '../../src/app/metrics-wiring.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { parseExposition, scrapeWhen, valueOf } from './exposition.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

/** A receiver on 127.0.0.1 that answers 503 to the first `failFirst` requests, then 200. */
async function receiver(failFirst: number): Promise<{ url: string; bodies: unknown[]; hits: () => number; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  let hits = 0;
  const read = (req: IncomingMessage) => new Promise<string>((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    hits++;
    if (hits <= failFirst) return void res.writeHead(503).end('busy');
    bodies.push(JSON.parse(body));
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/conveyor`,
    bodies,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** waitForRun sees the final status written by the completion script; the run-finished event follows just after. */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const churn = definePipeline({ id: 'churn' })
  .step('load', async () => ({ rows: 3 }))
  .step('train', { needs: ['load'] }, async ({ params }) => {
    if ((params as { fail?: boolean }).fail) throw new Error('training diverged: loss is NaN');
    return { ok: true };
  })
  .step('publish', { needs: ['train'] }, async () => ({ done: true }));

test('a failed run is POSTed to CONVEYOR_FAILURE_WEBHOOK, retried through 503s; succeeded runs are not', async (t) => {
  const hook = await receiver(2);
  const runtime = await testRuntime(redis, { CONVEYOR_FAILURE_WEBHOOK: hook.url, CONVEYOR_METRICS_PORT: '0' });
  t.is(runtime.config.failureWebhook, hook.url);
  const host = await withWorker(runtime, [churn]);
  const metrics = await attachMetrics(runtime, { workerHost: host, webhookOptions: { backoffMs: 20 } });
  try {
    t.is(metrics.server, undefined, 'CONVEYOR_METRICS_PORT=0 serves nothing');
    const good = await runtime.engine.trigger(churn, { params: {} });
    await runtime.engine.waitForRun(good.runId, { timeoutMs: 30_000 });
    const bad = await runtime.engine.trigger(churn, { params: { fail: true } });
    const view = await runtime.engine.waitForRun(bad.runId, { timeoutMs: 30_000 });
    t.is(view.status, 'failed');
    await until(() => hook.bodies.length > 0);
    await metrics.flush();
    t.is(hook.hits(), 3, 'two 503s, then delivered');
    t.is(hook.bodies.length, 1, 'only the failed run was sent');
    const body = hook.bodies[0] as Record<string, unknown>;
    t.like(body, { runId: bad.runId, pipeline: 'churn', status: 'failed' });
    t.deepEqual(body.failedSteps, [{ step: 'train', error: 'training diverged: loss is NaN', attempts: 1 }]);
  } finally {
    await metrics.close();
    await host.stop(1_000);
    await runtime.close();
    await hook.close();
  }
});

test('without a webhook URL nothing is sent and failures still count in the metrics', async (t) => {
  const hook = await receiver(0);
  const runtime = await testRuntime(redis);
  const host = await withWorker(runtime, [churn]);
  const metrics = await attachMetrics(runtime, { workerHost: host, serve: false });
  try {
    const bad = await runtime.engine.trigger(churn, { params: { fail: true } });
    await runtime.engine.waitForRun(bad.runId, { timeoutMs: 30_000 });
    const exp = await scrapeWhen(async () => parseExposition(await metrics.hub.metrics()), (e) => valueOf(e, 'conveyor_runs_finished_total', { pipeline: 'churn', status: 'failed' }) === 1);
    t.is(valueOf(exp, 'conveyor_runs_finished_total', { pipeline: 'churn', status: 'failed' }), 1);
    await metrics.flush();
    t.is(hook.hits(), 0);
  } finally {
    await metrics.close();
    await host.stop(1_000);
    await runtime.close();
    await hook.close();
  }
});
