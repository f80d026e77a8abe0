import test from 'ava';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { definePipeline } from '../../src/dsl/index.ts';
import { httpJob } from '../../src/steps/http-job/index.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

/**
 * A remote training service on 127.0.0.1: POST /jobs starts a job; GET /jobs/<id> reports it
 * `running` until the test releases it and it has been polled `pollsNeeded` times, then `succeeded`
 * (or `failed` with the job's `fail` reason).
 */
interface RemoteJob {
  name: string;
  polls: number;
  pollsNeeded: number;
  released: boolean;
  fail?: string;
}
class TrainingService {
  readonly jobs = new Map<string, RemoteJob>();
  readonly starts = new Map<string, number>();
  private server!: Server;
  base = '';

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req).then(([status, body]) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    if (req.method === 'POST' && req.url === '/jobs') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const body = JSON.parse(raw) as { name: string; fail?: string; pollsNeeded?: number };
      this.starts.set(body.name, (this.starts.get(body.name) ?? 0) + 1);
      const job = this.jobs.get(body.name) ?? { name: body.name, polls: 0, pollsNeeded: body.pollsNeeded ?? 2, released: false, fail: body.fail };
      this.jobs.set(body.name, job);
      return [202, { id: body.name, statusUrl: `/jobs/${encodeURIComponent(body.name)}` }];
    }
    const match = /^\/jobs\/([^/]+)$/.exec(req.url ?? '');
    const job = match && req.method === 'GET' ? this.jobs.get(decodeURIComponent(match[1])) : undefined;
    if (!job) return [404, { error: 'no such job' }];
    job.polls++;
    if (!job.released || job.polls < job.pollsNeeded) return [200, { status: 'running', polls: job.polls }];
    if (job.fail) return [200, { status: 'failed', error: job.fail }];
    return [200, { status: 'succeeded', result: { accuracy: 0.97, modelUri: `models/${job.name}` } }];
  }

  polls(name: string): number {
    return this.jobs.get(name)?.polls ?? 0;
  }

  release(name: string): void {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no remote job "${name}" to release`);
    job.released = true;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type JobStatus = { status: string; error?: string; result?: { accuracy: number; modelUri: string } };

const remoteTrain = definePipeline({
  id: 'remote-train',
  params: z.object({ base: z.string(), name: z.string(), fail: z.string().optional(), pollsNeeded: z.number().default(2), timeoutMs: z.number().optional() }),
  defaults: { retries: 2, backoff: { type: 'fixed', delayMs: 100 }, timeoutMs: 60_000 },
}).step('train', async (ctx) => {
  const { base, name, fail, pollsNeeded, timeoutMs } = ctx.params;
  return httpJob(ctx, {
    start: { url: `${base}/jobs`, body: { name, fail, pollsNeeded } },
    poll: {
      url: (started: { statusUrl: string }) => started.statusUrl,
      intervalMs: 100,
      done: (body: JobStatus) => body.status === 'succeeded',
      failed: (body: JobStatus) => body.status === 'failed' && (body.error ?? true),
      result: (body: JobStatus) => body.result!,
    },
    timeoutMs,
  });
});

const quick = definePipeline({ id: 'quick' }).step('work', async () => ({ done: true }));

let redis: TestRedis;
const service = new TrainingService();
test.before(async () => {
  redis = await startTestRedis();
  await service.listen();
});
test.after.always(async () => {
  await service.close();
  await redis?.destroy();
});

/** Waits (generously) until `check` holds; fails the test with `what` otherwise. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function closeAll(runtimes: Runtime[], hosts: { stop(drainMs?: number): Promise<void> }[]): Promise<void> {
  for (const host of hosts) await host.stop(1_000).catch(() => {});
  for (const runtime of runtimes) await runtime.close().catch(() => {});
}

test.serial('a parked httpJob holds no worker slot: with concurrency 1 another run completes while it waits', async (t) => {
  const runtime = await testRuntime(redis);
  const host = await withWorker(runtime, [remoteTrain, quick], { concurrency: 1 });
  try {
    const { runId } = await runtime.engine.trigger(remoteTrain, { params: { base: service.base, name: 'slot' } });
    await until('the first status poll', () => service.polls('slot') >= 1);

    const other = await runtime.engine.trigger(quick, {});
    const quickRun = await runtime.engine.waitForRun(other.runId, { timeoutMs: 20_000 });
    t.is(quickRun.status, 'succeeded');
    const meanwhile = await runtime.engine.getRun(runId);
    t.is(meanwhile.status, 'running', 'the remote job was not released, so its run must still be waiting');
    t.not(meanwhile.steps.train.status, 'succeeded');

    service.release('slot');
    const view = await runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(view.status, 'succeeded');
    const output = view.steps.train.output as { result: unknown; polls: number; pollUrl: string };
    t.deepEqual(output.result, { accuracy: 0.97, modelUri: 'models/slot' });
    t.true(output.polls >= 2);
    t.is(output.pollUrl, `${service.base}/jobs/slot`);
    t.is(service.starts.get('slot'), 1, 'the remote job is started once');
    t.is(view.steps.train.attempts, 1, 'parking does not use up attempts');
  } finally {
    await closeAll([runtime], [host]);
  }
});

test.serial('restarting the worker while the job is parked loses nothing: a new worker resumes polling and the run succeeds', async (t) => {
  const runtime = await testRuntime(redis);
  const first = await withWorker(runtime, [remoteTrain]);
  const second: { runtime?: Runtime; host?: Awaited<ReturnType<typeof withWorker>> } = {};
  try {
    const { runId } = await runtime.engine.trigger(remoteTrain, { params: { base: service.base, name: 'restart' } });
    await until('the first status poll', () => service.polls('restart') >= 1);
    await first.stop(1_000);
    await runtime.close();
    const pollsWhileDown = service.polls('restart');

    // A fresh process's worth of state: new connections, same Redis and prefix.
    second.runtime = await createRuntime(runtime.config, { logger: silentLogger });
    second.host = await withWorker(second.runtime, [remoteTrain]);
    service.release('restart');
    const view = await second.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual((view.steps.train.output as { result: unknown }).result, { accuracy: 0.97, modelUri: 'models/restart' });
    t.true(service.polls('restart') > pollsWhileDown, 'the new worker polled');
    t.is(service.starts.get('restart'), 1, 'the remote job was not started again');
    t.not(view.steps.train.worker, undefined);
  } finally {
    await closeAll(second.runtime ? [second.runtime] : [], [first, ...(second.host ? [second.host] : [])]);
  }
});

test.serial('a failed remote job fails the step with its reason, without retries', async (t) => {
  const runtime = await testRuntime(redis);
  const host = await withWorker(runtime, [remoteTrain]);
  try {
    const { runId } = await runtime.engine.trigger(remoteTrain, { params: { base: service.base, name: 'oom', fail: 'CUDA out of memory on gpu 0' } });
    await until('the remote job to exist', () => service.jobs.has('oom'));
    service.release('oom');
    const view = await runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(view.status, 'failed');
    t.is(view.steps.train.status, 'failed');
    t.regex(view.steps.train.error?.message ?? '', /remote job .*\/jobs\/oom failed: CUDA out of memory on gpu 0/);
    t.is(view.steps.train.attempts, 1, 'NonRetriableError: the two retries are not used');
  } finally {
    await closeAll([runtime], [host]);
  }
});

test.serial("httpJob's timeoutMs bounds the whole wait", async (t) => {
  const runtime = await testRuntime(redis);
  const host = await withWorker(runtime, [remoteTrain]);
  try {
    const { runId } = await runtime.engine.trigger(remoteTrain, { params: { base: service.base, name: 'never', timeoutMs: 800 } });
    const view = await runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(view.status, 'failed');
    t.regex(view.steps.train.error?.message ?? '', /remote job .*\/jobs\/never not finished after \d+ ms \(timeoutMs 800/);
    t.true(service.polls('never') >= 1);
  } finally {
    await closeAll([runtime], [host]);
  }
});

test.serial('a start request the service rejects (4xx) fails at once', async (t) => {
  const runtime = await testRuntime(redis);
  const host = await withWorker(runtime, [remoteTrain]);
  try {
    const { runId } = await runtime.engine.trigger(remoteTrain, { params: { base: `${service.base}/nowhere`, name: 'bad-url' } });
    const view = await runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(view.status, 'failed');
    t.regex(view.steps.train.error?.message ?? '', /start POST .*\/nowhere\/jobs: expected a 2xx answer, found HTTP 404/);
    t.is(view.steps.train.attempts, 1);
  } finally {
    await closeAll([runtime], [host]);
  }
});
