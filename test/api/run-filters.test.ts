/**
 * Run filters are exact at any history size: a status index per bucket, the date range as a score
 * range, trigger checked per record with a scan that pages on. Flatness is checked by counting the
 * Redis commands a read costs (INFO commandstats of this test's private Redis), not by timing.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, startApiFixture, type ApiFixture } from './api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
let raw: Redis;
const allowed = new Set<string>();

const ok = definePipeline({ id: 'hist-ok' }).step('only', async () => ({ ok: true }));
const flaky = definePipeline({ id: 'hist-flaky' }).step('only', async ({ run }) => {
  if (!allowed.has(run.id)) throw new Error('not allowed yet');
  return { ok: true };
});

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [ok, flaky]);
  raw = new Redis(redis.url);
});

test.after.always(async () => {
  raw?.disconnect();
  await api?.close();
  await redis?.destroy();
});

async function get(path: string): Promise<any> {
  const res = await fetch(`${api.url}/api/v1${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Commands that read run lists and records (the worker and reconciler run other commands meanwhile). */
const READS = new Set(['hgetall', 'zrevrangebyscore', 'zrevrange', 'zrange', 'zscan', 'scan', 'keys', 'zcard']);

/** Calls of each run-reading Redis command since the last reset. */
async function commandCalls(): Promise<Record<string, number>> {
  const info = await raw.info('commandstats');
  await raw.config('RESETSTAT');
  return Object.fromEntries([...info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].filter((m) => READS.has(m[1]!)).map((m) => [m[1]!, Number(m[2])]));
}

/** Pages through a filter with nextOffset; every id once. */
async function all(query: string): Promise<any[]> {
  const out: any[] = [];
  let offset: number | null = 0;
  for (let pages = 0; offset !== null; pages++) {
    if (pages > 100) throw new Error('more than 100 pages');
    const page: any = await get(`/runs?${query}&limit=50&offset=${offset}`);
    out.push(...page.items);
    offset = page.nextOffset;
  }
  return out;
}

test.serial('status indexes follow runs through finish and retry (the real engine path)', async (t) => {
  const { engine } = api.runtime;
  const good = await Promise.all(Array.from({ length: 3 }, async () => (await engine.trigger(ok)).runId));
  const bad = await Promise.all(Array.from({ length: 3 }, async () => (await engine.trigger(flaky)).runId));
  await Promise.all([...good, ...bad].map((id) => engine.waitForRun(id, { timeoutMs: 30_000 })));
  const ids = async (query: string) => (await all(query)).map((r) => r.id).sort();
  t.deepEqual(await ids('status=failed'), [...bad].sort());
  t.deepEqual(await ids('status=failed&pipeline=hist-flaky'), [...bad].sort());
  t.deepEqual(await ids('status=failed&pipeline=hist-ok'), []);

  allowed.add(bad[0]!);
  await engine.retry(bad[0]!);
  await engine.waitForRun(bad[0]!, { timeoutMs: 30_000 });
  t.deepEqual(await ids('status=failed'), bad.slice(1).sort(), 'a retried run leaves the failed index');
  t.deepEqual(await ids('status=succeeded&pipeline=hist-flaky'), [bad[0]]);
  t.deepEqual(await ids('status=queued'), []);
  t.deepEqual((await get(`/runs?id=${bad[1]}`)).items.map((r: any) => r.id), [bad[1]], 'search by id');
  t.deepEqual((await get(`/runs?id=${bad[1]}&status=succeeded`)).items, [], 'by id, other filters still apply');

  // Pruning removes the run from every index it was in.
  await api.runtime.redis.zadd(api.runtime.keys.finishedRuns, 0, bad[1]!);
  await api.runtime.store.pruneFinished(1);
  t.false((await ids('status=failed')).includes(bad[1]!));
  for (const key of api.runtime.keys.runIndexes('hist-flaky')) t.is(await api.runtime.redis.zscore(key, bad[1]!), null, key);
});

test.serial('with 20,000 runs of which 100 failed, the failed filter finds all 100 by paging; reads cost the same at 1,000 and 20,000 runs', async (t) => {
  const { keys } = api.runtime;
  const t0 = Date.UTC(2026, 0, 1);
  const HOUR = 3_600_000;
  // Cheaply: the records and index entries createRun and markFinished write (the test above covers
  // that path), for runs one hour apart; every 200th failed, every 10th scheduled.
  const seed = async (from: number, to: number) => {
    const pipe = raw.pipeline();
    for (let i = from; i < to; i++) {
      const id = `hist-${String(i).padStart(5, '0')}`;
      const status = i % 200 === 7 ? 'failed' : 'succeeded';
      const createdAt = t0 + i * HOUR;
      const trigger = i % 10 === 3 ? { type: 'schedule', schedule: 'hourly', tickTime: new Date(createdAt).toISOString() } : { type: 'manual' };
      pipe.hset(keys.run(id).run, { id, pipeline: 'hist-bulk', status, createdAt, startedAt: createdAt, finishedAt: createdAt + 1000, trigger: JSON.stringify(trigger), params: '{}', dagHash: 'x', logicalTime: '' });
      for (const key of [keys.runsIndex, keys.pipelineRuns('hist-bulk'), keys.runStatusRuns(status as 'failed'), keys.runStatusRuns(status as 'failed', 'hist-bulk')]) pipe.zadd(key, createdAt, id);
    }
    await pipe.exec();
  };
  const unfilteredCost = async () => {
    await commandCalls();
    const page = await get('/runs?pipeline=hist-bulk&limit=20');
    t.is(page.items.length, 20);
    return commandCalls();
  };

  await seed(0, 1_000);
  const costAt1k = await unfilteredCost();
  await seed(1_000, 20_000);
  const costAt20k = await unfilteredCost();
  t.is(costAt20k.hgetall, 20, 'one record read per run shown');
  t.deepEqual(costAt20k, costAt1k, 'an unfiltered page costs the same commands at 1,000 and 20,000 runs');

  await commandCalls();
  const first = await get('/runs?status=failed&pipeline=hist-bulk&limit=50');
  const cost = await commandCalls();
  t.is(first.items.length, 50);
  t.is(cost.hgetall, 50, 'the failed filter reads only failed runs');
  const failed = await all('status=failed&pipeline=hist-bulk');
  t.is(failed.length, 100);
  t.is(new Set(failed.map((r) => r.id)).size, 100);
  t.true(failed.every((r) => r.status === 'failed'));
  t.deepEqual(failed.map((r) => r.createdAt), [...failed.map((r) => r.createdAt)].sort().reverse(), 'newest first');

  // Date range: runs 10,000..10,999 (hours), of which 5 failed and 100 scheduled.
  const from = new Date(t0 + 10_000 * HOUR).toISOString();
  const to = new Date(t0 + 10_999 * HOUR).toISOString();
  t.is((await all(`pipeline=hist-bulk&from=${from}&to=${to}`)).length, 1_000);
  t.is((await all(`status=failed&pipeline=hist-bulk&from=${from}&to=${to}`)).length, 5);
  const scheduled = await all(`trigger=schedule&pipeline=hist-bulk&from=${from}&to=${to}`);
  t.is(scheduled.length, 100);
  t.true(scheduled.every((r) => r.trigger.type === 'schedule'));
  // Trigger alone over the whole history: a scan that pages on, never a short answer.
  t.is((await all('trigger=schedule&pipeline=hist-bulk')).length, 2_000);
});

test.serial('bad filters answer 400 naming the parameter', async (t) => {
  for (const query of ['status=broken', 'trigger=cron', 'from=yesterday']) {
    const res = await fetch(`${api.url}/api/v1/runs?${query}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    t.is(res.status, 400, query);
    t.regex(await res.text(), new RegExp(query.split('=')[0]!), query);
  }
});
