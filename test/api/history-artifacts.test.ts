/**
 * The operators' views over the API: a pipeline's history (runs × steps) read at a bounded cost, run
 * search by id prefix over thousands of runs, and run artifacts with path containment and auth.
 * Cost is counted in Redis commands (INFO commandstats of this test's private Redis), never timed.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, READER, REPORT_MD, diamond, failing, startApiFixture, type ApiFixture } from './api-fixture.ts';
import { rawHttp, rawStatus } from '../helpers/raw-http.ts';

let redis: TestRedis;
let api: ApiFixture;
let raw: Redis;
let failedRunId = '';
let okRunIds: string[] = [];

// Runs of `bulk` are seeded straight into Redis (records, indexes, step statuses), as createRun writes them.
const bulk = definePipeline({ id: 'bulk' }).step('extract', async () => 1).step('load', { needs: ['extract'] }, async () => 2);

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(), failing(), bulk]);
  raw = new Redis(redis.url);
  const { engine } = api.runtime;
  okRunIds = [(await engine.trigger(diamond(), { params: { n: 1 } })).runId, (await engine.trigger(diamond(), { params: { n: 2 } })).runId];
  failedRunId = (await engine.trigger(failing(), {})).runId;
  await Promise.all([...okRunIds, failedRunId].map((id) => engine.waitForRun(id, { timeoutMs: 30_000 })));
});

test.after.always(async () => {
  raw?.disconnect();
  await api?.close();
  await redis?.destroy();
});

async function call(path: string, token: string | null = ADMIN): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(`${api.url}/api/v1${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const READS = new Set(['hgetall', 'hget', 'hmget', 'get', 'mget', 'zrevrangebyscore', 'zrangebyscore', 'zrevrangebylex', 'zrangebylex', 'zrevrange', 'zrange', 'zscan', 'scan', 'hscan', 'keys', 'zcard']);
/**
 * Reads naming `word` in a key or argument while `action` runs, by command (MONITOR: the
 * worker's and scheduler's own commands do not count). An ECHO sent afterwards marks the end.
 */
async function commandsOn(word: string, action: () => Promise<unknown>): Promise<Record<string, number>> {
  const monitor = await raw.monitor();
  const counts: Record<string, number> = {};
  const marker = `end-${Math.random()}`;
  const ended = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) resolve();
      else if (READS.has(args[0]!.toLowerCase()) && args.slice(1).some((a) => a.includes(word))) counts[args[0]!.toLowerCase()] = (counts[args[0]!.toLowerCase()] ?? 0) + 1;
    });
  });
  try {
    await action();
    await raw.echo(marker);
    await ended;
  } finally {
    monitor.disconnect();
  }
  return counts;
}

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
/** Seeds runs bulk-00000 … (one a minute); every 7th failed with its `load` step failed. */
async function seed(from: number, to: number): Promise<void> {
  const { keys } = api.runtime;
  const pipe = raw.pipeline();
  for (let i = from; i < to; i++) {
    const id = `bulk-${String(i).padStart(5, '0')}`;
    const failed = i % 7 === 3;
    const status = failed ? 'failed' : 'succeeded';
    const createdAt = T0 + i * MINUTE;
    pipe.hset(keys.run(id).run, { id, pipeline: 'bulk', status, createdAt, startedAt: createdAt, finishedAt: createdAt + 1000 + (i % 5) * 100, trigger: JSON.stringify({ type: 'manual' }), params: '{}', dagHash: 'x', logicalTime: '' });
    pipe.hset(keys.run(id).status, { extract: 's', load: failed ? 'f' : 's' });
    for (const key of [keys.runsIndex, keys.pipelineRuns('bulk'), keys.runStatusRuns(status as 'failed'), keys.runStatusRuns(status as 'failed', 'bulk')]) pipe.zadd(key, createdAt, id);
    pipe.zadd(keys.runIdsLex, 0, id);
  }
  await pipe.exec();
}

test.serial('history: runs × step statuses, success rate, duration trend and next tick in its zone', async (t) => {
  const history = (await call('/pipelines/diamond/history?limit=10')).json;
  t.deepEqual(history.steps, ['a', 'b', 'c', 'd']);
  t.deepEqual(history.runs.map((r: any) => r.id), [...okRunIds].reverse(), 'newest first');
  t.deepEqual(history.runs[0].steps, { a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
  t.is(history.summary.successRate, 1);
  t.is(history.summary.lastRun.id, okRunIds[1]);
  t.is(history.summary.durationsMs.length, 2);
  t.is(history.nextRun.schedule, 'hourly');
  t.is(history.nextRun.timezone, 'UTC');
  t.true(Date.parse(history.nextRun.at) > Date.now());

  const fails = (await call('/pipelines/fails/history')).json;
  t.deepEqual(fails.runs[0].steps, { load: 'succeeded', validate: 'failed', publish: 'skipped' });
  t.is(fails.summary.successRate, 0);
  t.is(fails.nextRun, null, 'no schedule');

  t.is((await call('/pipelines/nope/history')).status, 404);
  t.is((await call('/pipelines/diamond/history?limit=101')).status, 400);
});

test.serial('history reads cost the same at 1,000 and 3,000 runs; id prefix search finds runs among thousands and pages', async (t) => {
  const cost = async () => {
    const calls = await commandsOn('bulk', () => call('/pipelines/bulk/history?limit=30'));
    return calls;
  };
  await seed(0, 1_000);
  const at1k = await cost();
  await seed(1_000, 3_000);
  const at3k = await cost();
  t.deepEqual(at3k, at1k, 'a history page costs the same at 1,000 and 3,000 runs');
  t.deepEqual(at3k, { zrevrangebyscore: 1, hgetall: 60 }, "one range of the pipeline's index, then a record and step statuses per run shown");
  const history = (await call('/pipelines/bulk/history?limit=30')).json;
  t.is(history.runs[0].id, 'bulk-02999');
  t.deepEqual(history.steps, ['extract', 'load']);
  const failedShown = history.runs.filter((r: any) => r.status === 'failed').length;
  t.is(history.summary.successRate, (30 - failedShown) / 30);
  t.true(history.runs.every((r: any) => r.steps.load === (r.status === 'failed' ? 'failed' : 'succeeded')));

  // Prefix: bulk-012 matches bulk-01200 … bulk-01299 (100 runs), newest (highest) first.
  const ids: string[] = [];
  let offset: number | null = 0;
  for (let pages = 0; offset !== null && pages < 20; pages++) {
    const page: any = (await call(`/runs?idPrefix=bulk-012&limit=40&offset=${offset}`)).json;
    ids.push(...page.items.map((r: any) => r.id));
    offset = page.nextOffset;
  }
  t.is(ids.length, 100);
  t.is(ids[0], 'bulk-01299');
  t.deepEqual(ids, [...ids].sort().reverse());
  t.deepEqual((await call('/runs?idPrefix=bulk-01234')).json.items.map((r: any) => r.id), ['bulk-01234'], 'a full id is its own prefix');
  const failedOnly = (await call('/runs?idPrefix=bulk-012&status=failed&limit=200')).json.items;
  t.true(failedOnly.length > 0 && failedOnly.every((r: any) => r.status === 'failed' && r.id.startsWith('bulk-012')), 'other filters still apply');
  t.deepEqual((await call('/runs?idPrefix=zzz')).json.items, []);
  t.is((await call('/runs?idPrefix=bad%20id')).status, 400);
  // Pruning removes a run from the id index too.
  await api.runtime.redis.zadd(api.runtime.keys.finishedRuns, 0, 'bulk-01234');
  await api.runtime.store.pruneFinished(1);
  t.deepEqual((await call('/runs?idPrefix=bulk-01234')).json.items, []);
});

test.serial('artifacts: listed with the run, served exactly, download as attachment, sandboxed', async (t) => {
  const list = (await call(`/runs/${failedRunId}/artifacts`)).json;
  t.is(list.items.length, 1);
  t.like(list.items[0], { name: 'report.md', step: 'validate', contentType: 'text/markdown; charset=utf-8', bytes: Buffer.byteLength(REPORT_MD) });
  const view = await call(`/runs/${failedRunId}/artifacts/report.md`);
  t.is(view.status, 200);
  t.is(view.text, REPORT_MD);
  t.regex(view.headers.get('content-type') ?? '', /^text\/markdown/);
  t.regex(view.headers.get('content-security-policy') ?? '', /sandbox/);
  t.regex(view.headers.get('content-disposition') ?? '', /^inline/);
  const download = await call(`/runs/${failedRunId}/artifacts/report.md?download=1`);
  t.is(download.headers.get('content-type'), 'application/octet-stream');
  t.is(download.headers.get('content-disposition'), 'attachment; filename="report.md"');
  t.is((await call(`/runs/${okRunIds[0]}/artifacts`)).json.items.length, 0);
  t.is((await call('/runs/r-none/artifacts')).status, 404);
  t.is((await call(`/runs/${failedRunId}/artifacts/other.md`)).status, 404);
  t.is((await call(`/runs/${okRunIds[0]}/artifacts/report.md`)).status, 404, "another run's artifact is not this run's");
});

test.serial('artifact names never reach outside their run: encoded ../, absolute paths and dot names are refused', async (t) => {
  const attempts = [
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '%2Fetc%2Fpasswd',
    '%2F%2Fetc%2Fpasswd',
    '..%5C..%5Cwindows',
    'report.md%2F..%2F..%2Freport.md',
    `..%2F${okRunIds[0]}%2Fartifacts%2Freport.md`,
    '.hidden',
    'a..md',
    'report.md%00.txt',
    'C%3A%5Cboot.ini',
  ];
  for (const name of attempts) {
    const res = await call(`/runs/${failedRunId}/artifacts/${name}`);
    // Each reaches the artifact route (decoded) and its name check: 400, not the router's 404.
    t.is(res.status, 400, `${name}: ${res.status}`);
    t.false(res.text.includes('root:'), name);
    t.notRegex(res.text, /Validation report/, name);
  }
  // Dot segments sent as they are (fetch would resolve them before sending): `..` reaches the route
  // and its name check (400); deeper ones match no route (404); neither returns the file or the report.
  for (const path of [`/api/v1/runs/${failedRunId}/artifacts/..`, `/api/v1/runs/${failedRunId}/artifacts/../../../../etc/passwd`]) {
    const response = await rawHttp(api.url, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN}\r\nConnection: close\r\n\r\n`);
    t.is(rawStatus(response), path.endsWith('/..') ? 400 : 404, path);
    t.regex(response, /"error":\{"code":/, path);
    t.false(response.includes('root:'), path);
    t.notRegex(response, /Validation report/, path);
  }
  // And a step cannot write outside its run either: the same names are refused on put.
  const store = api.runtime.store.artifacts;
  for (const name of ['../x.md', '/etc/passwd', 'a/b.md', '..', '.env']) {
    await t.throwsAsync(store.put(failedRunId, 'validate', name, 'x'), { message: /expected an artifact file name/ }, name);
  }
  await t.throwsAsync(store.put(failedRunId, 'validate', 'big.bin', new Uint8Array(1024 * 1024 + 1)), { message: /at most 1048576 bytes, found 1048577/ });
});

test.serial('history and artifacts need a token like every read; a read-only token may read them', async (t) => {
  for (const path of ['/pipelines/diamond/history', `/runs/${failedRunId}/artifacts`, `/runs/${failedRunId}/artifacts/report.md`, '/runs?idPrefix=r']) {
    t.is((await call(path, null)).status, 401, path);
    t.is((await call(path, 'wrong-token')).status, 401, path);
    t.is((await call(path, READER)).status, 200, path);
  }
});
