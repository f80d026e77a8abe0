/**
 * A poison step that kills its worker process on every delivery ends `failed` by the stall limit
 * (the run ends), while other runs on the same — constantly restarted — workers succeed.
 */
import test from 'ava';
import type { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { newPrefix } from '../fixtures/procs.ts';
import { Supervisor } from '../fixtures/supervisor.ts';
import { checkJournal, fxClient, fxRuntime, waitRunTolerant } from '../fixtures/fx-runtime.ts';
import { readRecords } from '../fixtures/fx-effects.ts';
import poison from '../fixtures/pipelines/faults/fx-poison.ts';
import chain from '../fixtures/pipelines/faults/fx-chain.ts';
import { MAX_STALLED_COUNT } from '../../src/redis/job-consumer.ts';
import type { Runtime } from '../../src/app/runtime.ts';

let redis: TestRedis;
let journal: Redis;
let runtime: Runtime | undefined;
let supervisor: Supervisor | undefined;

test.before(async () => {
  redis = await startTestRedis();
  journal = fxClient(redis.url);
});

test.after.always(async () => {
  await supervisor?.stop();
  await runtime?.close();
  journal?.disconnect();
  await redis?.destroy();
});

test.serial('a step that crashes its worker on every delivery ends failed by the stall limit; other runs succeed', async (t) => {
  const prefix = newPrefix();
  runtime = await fxRuntime(redis.url, prefix);
  // One step at a time per process: a crashing step takes down whatever runs beside it in its process
  // (see RELIABILITY.md), which is not what this test is about.
  supervisor = new Supervisor({ redisUrl: redis.url, prefix, concurrency: 1 }, 2);
  await supervisor.start();
  const bad = await runtime.engine.trigger(poison, {});
  const good: string[] = [];
  for (let i = 0; i < 6; i++) good.push((await runtime.engine.trigger(chain, { params: { sleepMs: 20 } })).runId);

  const view = await waitRunTolerant(runtime, bad.runId, 100_000);
  t.is(view.status, 'failed');
  t.is(view.steps.crash.status, 'failed');
  t.regex(view.steps.crash.error?.message ?? '', /abandoned/);
  t.is(view.steps.after.status, 'skipped', 'what depends on it is skipped');
  const deliveries = await readRecords(journal, bad.runId, 'crash');
  t.is(deliveries.length, MAX_STALLED_COUNT + 1, 'one delivery, then one per allowed stall');
  t.is(new Set(deliveries.map((d) => d.pid)).size, deliveries.length, 'each delivery killed a different worker process');
  // The supervisor notices the last crash asynchronously: give it a moment before counting restarts.
  const sup = supervisor;
  for (let i = 0; i < 100 && sup.restarts < deliveries.length; i++) await new Promise((r) => setTimeout(r, 100));
  t.true(sup.restarts >= deliveries.length, `workers restarted: ${sup.restarts}`);

  for (const id of good) {
    const goodView = await waitRunTolerant(runtime, id, 60_000);
    t.is(goodView.status, 'succeeded', JSON.stringify(goodView.steps, null, 1));
    const check = await checkJournal(journal, goodView);
    t.deepEqual(check.missing, [], id);
    t.deepEqual(check.afterSuccess, [], id);
  }
});
