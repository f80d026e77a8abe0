/**
 * Run artifacts at the store: the per-run cap holds under concurrent puts (one script checks and
 * writes), and a content type that could not be sent as a header is refused when the step keeps it.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { KeySpace } from '../../src/redis/keys.ts';
import { MAX_ARTIFACTS_PER_RUN, RunArtifacts } from '../../src/redis/run-artifacts.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
let client: Redis;
let artifacts: RunArtifacts;
test.before(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  artifacts = new RunArtifacts(client, new KeySpace('art'));
});
test.after.always(async () => {
  client?.disconnect();
  await redis?.destroy();
});

test('80 concurrent puts of new names keep exactly the cap; replacing a kept one still works', async (t) => {
  const results = await Promise.allSettled(Array.from({ length: 80 }, (_, i) => artifacts.put('run-a', 'report', `r${i}.txt`, `report ${i}`)));
  // Before the fix every put passed its own count check: 80 were kept.
  t.is(results.filter((r) => r.status === 'fulfilled').length, MAX_ARTIFACTS_PER_RUN);
  t.is((await artifacts.list('run-a')).length, MAX_ARTIFACTS_PER_RUN);
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.regex(refused.reason.message, /at most 50 artifacts/);
  const kept = (await artifacts.list('run-a'))[0].name;
  await artifacts.put('run-a', 'report', kept, 'replaced');
  t.is((await artifacts.get('run-a', kept)).content.toString(), 'replaced');
});

test('bytes round-trip exactly, binary included', async (t) => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  await artifacts.put('run-b', 'plot', 'plot.png', bytes);
  t.deepEqual([...(await artifacts.get('run-b', 'plot.png')).content], [...bytes]);
});

test('a content type with control characters, non-ASCII or a huge value is refused; ordinary ones are kept', async (t) => {
  for (const bad of ['text/plain;\r\nSet-Cookie: pwn=1', 'text/plain;\u0000', 'text/plain; charset=\u4e2d', `text/plain; x=${'a'.repeat(300)}`, 'plain', '']) {
    const error = await t.throwsAsync(artifacts.put('run-c', 'report', 'r.txt', 'x', bad));
    t.regex(error!.message, /expected a content type/, JSON.stringify(bad));
  }
  t.is((await artifacts.list('run-c')).length, 0, 'nothing kept');
  for (const good of ['text/markdown; charset=utf-8', 'application/json', 'image/svg+xml', 'text/csv;charset="utf-8"']) {
    await artifacts.put('run-c', 'report', 'ok.txt', 'x', good);
    t.is((await artifacts.get('run-c', 'ok.txt')).meta.contentType, good);
  }
});
