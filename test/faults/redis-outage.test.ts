/**
 * Redis going away under real workers: a restart with AOF (workers reconnect by themselves, the run
 * completes), a restart that comes back empty (detected and reported), Redis unreachable when the CLI
 * or a worker starts.
 */
import test from 'ava';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-server.ts';
import { newPrefix, runCli, spawnCliWorker, startCliWorker, waitFor } from '../fixtures/procs.ts';
import { checkJournal, fxRuntime, waitRunTolerant } from '../fixtures/fx-runtime.ts';
import { readRecords } from '../fixtures/fx-effects.ts';
import chain from '../fixtures/pipelines/faults/fx-chain.ts';
import { faultSuite } from '../fixtures/fault-suite.ts';

const suite = faultSuite(test, { redis: { appendonly: true } });

const EMPTY_MESSAGE = /Redis came back empty: .*runs lost/;

test.serial('Redis restarted (AOF) mid-run: workers reconnect by themselves and the run completes', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const worker = await startCliWorker({ redisUrl: suite.redis.url, prefix, concurrency: 4 });
  suite.procs.push(worker);
  const { runId } = await runtime.engine.trigger(chain, { params: { sleepMs: 1_500 } });
  await waitFor(async () => (await readRecords(suite.journal, runId, 'a')).length > 0, 30_000, 'step a to start');
  await suite.redis.stop();
  await suite.redis.start();
  const view = await waitRunTolerant(runtime, runId, 60_000);
  t.is(view.status, 'succeeded', worker.stderr());
  const check = await checkJournal(suite.journal, view);
  t.deepEqual(check.missing, []);
  t.deepEqual(check.afterSuccess, []);
  t.true(worker.isAlive(), 'the worker survived the restart');
  t.notRegex(worker.stderr(), EMPTY_MESSAGE, 'a Redis that kept its data is not reported as empty');
  // And it keeps serving new runs.
  const next = await runtime.engine.trigger(chain, { params: { sleepMs: 0 } });
  t.is((await waitRunTolerant(runtime, next.runId, 30_000)).status, 'succeeded');
});

test.serial('Redis coming back EMPTY is detected and reported on the worker\'s stderr; the worker keeps serving', async (t) => {
  const { prefix, runtime } = await suite.setup();
  const worker = await startCliWorker({ redisUrl: suite.redis.url, prefix, concurrency: 4 });
  suite.procs.push(worker);
  const lost = await runtime.engine.trigger(chain, { params: { sleepMs: 60_000 } });
  await waitFor(async () => (await readRecords(suite.journal, lost.runId, 'a')).length > 0, 30_000, 'step a to start');
  await suite.redis.stop();
  for (const entry of readdirSync(suite.redis.dir)) rmSync(join(suite.redis.dir, entry), { recursive: true, force: true });
  await suite.redis.start();
  await waitFor(() => EMPTY_MESSAGE.test(worker.stderr()), 30_000, 'the worker to report the empty Redis');
  const line = worker.stderr().split('\n').find((l) => EMPTY_MESSAGE.test(l))!;
  t.regex(line, /"level":50/, 'logged as an error');
  t.true(worker.isAlive());
  const next = await runtime.engine.trigger(chain, { params: { sleepMs: 0 } });
  t.is((await waitRunTolerant(runtime, next.runId, 30_000)).status, 'succeeded');
  t.is(worker.stderr().split('\n').filter((l) => EMPTY_MESSAGE.test(l)).length, 1, 'reported once: the marker was re-armed');
});

test.serial('Redis unreachable: `conveyor status` exits 1 with a one-line error naming the URL', async (t) => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const result = await runCli(['status', 'x'], { REDIS_URL: url });
  t.is(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, result.stderr);
  t.true(lines[0].includes(url), lines[0]);
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
  t.is(result.stdout, '');
});

test.serial('a worker started while Redis is down retries with backoff and serves once Redis is up', async (t) => {
  const prefix = newPrefix();
  await suite.redis.stop();
  // debug level: the connection attempts made before Redis is up are logged at debug only.
  const worker = spawnCliWorker({ redisUrl: suite.redis.url, prefix, concurrency: 2, extra: { CONVEYOR_LOG_LEVEL: 'debug' } });
  suite.procs.push(worker);
  try {
    await waitFor(() => /redis connection error/.test(worker.stderr()) || !worker.isAlive(), 30_000, 'the worker to try Redis');
  } finally {
    await suite.redis.start();
  }
  t.true(worker.isAlive(), worker.stderr());
  await waitFor(() => /serving/.test(worker.stderr()) || !worker.isAlive(), 30_000, 'the worker to serve');
  t.regex(worker.stderr(), /redis connection restored/);
  const runtime = await fxRuntime(suite.redis.url, prefix);
  suite.runtimes.push(runtime);
  const { runId } = await runtime.engine.trigger(chain, { params: { sleepMs: 0 } });
  t.is((await waitRunTolerant(runtime, runId, 30_000)).status, 'succeeded');
});
