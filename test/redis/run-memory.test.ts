import test from 'ava';
import { randomUUID } from 'node:crypto';
import { definePipeline } from '../../src/index.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

/**
 * What a finished run leaves in Redis (issue #17's memory target): its keys' exact size (MEMORY USAGE
 * is a byte count, not a timing), the compact step records that keep it small, and that retention
 * leaves nothing of it. BENCHMARKS.md ("Memory of a finished 5-step run") has the figures per key.
 */

let redis: TestRedis;
let rt: Runtime;
let host: WorkerHost;
/** Retention of 1 ms: a finished run's keys expire at once, so a test sees what retention leaves. */
let short: Runtime;
let shortHost: WorkerHost;
const five = definePipeline({ id: 'five' })
  .step('s0', () => 0)
  .step('s1', { needs: ['s0'] }, () => 1)
  // Busy for 10 ms: its CPU figure is a fraction of a millisecond's multiple (cpuMs as sent, e.g. 10.123).
  .step('s2', { needs: ['s1'] }, () => {
    for (const end = performance.now() + 10; performance.now() < end; );
    return 2;
  })
  .step('s3', { needs: ['s2'] }, () => 3)
  .step('s4', { needs: ['s3'] }, () => 4);

/** Fails its first attempt; the retried run's attempt waits for `release` so the test sees it running. */
let release: () => void = () => {};
let failedOnce = false;
const flaky = definePipeline({ id: 'flaky', defaults: { retries: 0 } })
  .step('a', async () => {
    if (!failedOnce) {
      failedOnce = true;
      throw new Error('first attempt fails');
    }
    await new Promise<void>((resolve) => (release = resolve));
    return 1;
  })
  .step('b', { needs: ['a'] }, () => 2);

test.before(async () => {
  redis = await startTestRedis();
  // Long locks: a delivery stalled by a loaded machine would be redelivered, and a step with two
  // deliveries keeps its history (JSON form) — another run than the plain one measured here.
  const plain = { CONVEYOR_LOCK_DURATION: '60s', CONVEYOR_STALLED_INTERVAL: '30s' };
  rt = await testRuntime(redis, plain);
  host = await withWorker(rt, [five, flaky]);
  short = await testRuntime(redis, { ...plain, CONVEYOR_RETENTION: '1ms' });
  shortHost = await withWorker(short, [five]);
});
test.after.always(async () => {
  await shortHost?.stop();
  await host?.stop();
  await short?.close();
  await rt?.close();
  await redis?.destroy();
});

async function scanAll(of: Runtime): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await of.redis.scan(cursor, 'MATCH', `${of.keys.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function pollUntil(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up after ${ms} ms waiting for ${what}`);
}

test.serial('a finished 5-step run: at most 2,048 bytes in Redis, compact step records in a listpack, no upstream counters', async (t) => {
  const { runId } = await rt.engine.trigger(five);
  const k = rt.keys.run(runId);
  let sized: { bytes: number; byKey: Record<string, number>; encoding: string; info: Record<string, string> } | undefined;
  await pollUntil(async () => {
    const names = Object.entries(k);
    const multi = rt.redis.multi().hget(k.run, 'status');
    for (const [, key] of names) multi.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    multi.object('ENCODING', k.info).hgetall(k.info);
    const replies = ((await multi.exec()) ?? []).map(([error, value]) => (error ? undefined : value));
    if (replies[0] !== 'succeeded') return false;
    const byKey: Record<string, number> = {};
    names.forEach(([name], i) => {
      const used = Number(replies[i + 1] ?? 0);
      if (used > 0) byKey[name] = used;
    });
    sized = { bytes: Object.values(byKey).reduce((a, b) => a + b, 0), byKey, encoding: String(replies[names.length + 1]), info: replies[names.length + 2] as Record<string, string> };
    return true;
  }, 'the run to succeed');
  const { bytes, byKey, encoding, info } = sized!;
  t.log(`${bytes} B`, JSON.stringify(byKey), info.s2);
  t.true(bytes <= 2048, `a finished 5-step run takes ${bytes} B: expected at most 2,048 B (${JSON.stringify(byKey)})`);
  t.deepEqual(Object.keys(byKey).sort(), ['def', 'info', 'output', 'run', 'status'], 'the upstream counters (pend, bad, cskip) are gone once the run ended');
  t.is(encoding, 'listpack', 'the info hash went back to a listpack when the run ended');
  for (const [step, record] of Object.entries(info)) {
    t.regex(record, /^1\|1\|[0-9a-z]{8}\|\d+\|0\|\d+\|\d+(\.\d+)?\|[0-9a-z]{5,7}\|[0-9a-f]{6}\|\|/, `step ${step}: compact record`);
    t.true(record.length <= 64, `step ${step}: ${record.length} B record, over hash-max-listpack-value`);
  }
  // The readers see the same fields as from the JSON form.
  const steps = new Map((await rt.store.getSteps(runId)).map((s) => [s.name, s]));
  for (const step of ['s0', 's1', 's2', 's3', 's4']) {
    const s = steps.get(step)!;
    t.like(s, { status: 'succeeded', attempts: 1, deliveries: 1, output: Number(step.slice(1)) });
    t.true(s.startedAt! > 0 && s.finishedAt! >= s.startedAt! && s.firstStartedAt === s.startedAt, JSON.stringify(s));
    t.regex(s.worker ?? '', /-\d+-/);
    t.true((s.resources?.rssBytes ?? 0) > 0, JSON.stringify(s.resources));
    if (step === 's2') t.true((s.resources?.cpuMs ?? 0) > 0, `s2 was busy: ${JSON.stringify(s.resources)}`);
  }
});

test.serial('a repeated completion of a finished step is told from a stale one by the compact record', async (t) => {
  const { runId } = await rt.engine.trigger(definePipeline({ id: 'manual' }).step('a', () => 1).step('b', { needs: ['a'] }, () => 1));
  const token = randomUUID();
  // A worker id may hold the separator: it is the record's last field.
  t.true((await rt.store.startStep(runId, 'a', token, 'pod|7', 1, [], Date.now())).ok);
  t.like(await rt.store.completeStep(runId, 'a', token, 's', '1', Date.now()), { ok: true, ready: ['b'] });
  t.regex((await rt.redis.hget(rt.keys.run(runId).info, 'a')) ?? '', /^1\|1\|.*\|\|pod\|7$/, 'the finished record is compact');
  t.like((await rt.store.getSteps(runId)).find((s) => s.name === 'a'), { status: 'succeeded', worker: 'pod|7', attempts: 1 });
  t.deepEqual(await rt.store.completeStep(runId, 'a', token, 's', '1', Date.now()), { ok: false, reason: 'duplicate' });
  t.deepEqual(await rt.store.completeStep(runId, 'a', randomUUID(), 's', '1', Date.now()), { ok: false, reason: 'stale' });
  await rt.engine.cancel(runId, 'test');
});

test.serial("a retried run's keys lose the expiry of its first finish, and get it again, without the counters, when it ends", async (t) => {
  const { runId } = await rt.engine.trigger(flaky);
  t.is((await rt.engine.waitForRun(runId, { timeoutMs: 15_000 })).status, 'failed');
  const k = rt.keys.run(runId);
  t.true((await rt.redis.pttl(k.run)) > 0, 'a finished run expires');
  t.is(await rt.redis.exists(k.pending), 0, 'no counters once the run ended');
  await rt.engine.retry(runId);
  await pollUntil(async () => (await rt.redis.hget(k.status, 'a')) === 'r', 'the retried step to run');
  for (const key of [k.run, k.info, k.status, k.pending]) t.is(await rt.redis.pttl(key), -1, `${key} has no expiry while the run runs again`);
  release();
  t.is((await rt.engine.waitForRun(runId, { timeoutMs: 15_000 })).status, 'succeeded');
  await pollUntil(async () => (await rt.redis.pttl(k.run)) > 0, 'the finish to set the expiry again');
  t.is(await rt.redis.exists(k.pending, k.bad, k.condSkip), 0);
});

test.serial('after retention nothing of a finished run is left: only fixed keys, no run key, no DAG snapshot', async (t) => {
  const runIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { runId } = await short.engine.trigger(five);
    runIds.push(runId);
  }
  const perRun = (keys: string[]) => keys.filter((key) => key.includes(':run:{') || key.includes(':dag:{') || runIds.some((id) => key.includes(id)));
  // The worker expires a run's keys (and releases its DAG snapshot) just after the run ends.
  await pollUntil(async () => perRun(await scanAll(short)).length === 0, "the finished runs' keys to expire");
  // Each run ended succeeded (its keys are gone; the status index still lists it until pruned).
  for (const id of runIds) t.not(await short.redis.zscore(short.keys.runStatusRuns('succeeded', five.id), id), null, `run ${id} succeeded`);
  const pruned = await short.store.pruneFinished(Date.now());
  t.true(pruned >= runIds.length, `pruned ${pruned} runs from the indexes`);
  const left = await scanAll(short);
  t.deepEqual(perRun(left), []);
  for (const key of short.keys.runIndexes(five.id)) t.is(await short.redis.zcard(key), 0, `${key} is empty`);
  t.log(`fixed keys left: ${left.map((key) => key.slice(short.keys.prefix.length)).sort().join(' ')}`);
});
