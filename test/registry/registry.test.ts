import test from 'ava';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis, type RedisClient } from '../../src/redis/connection.ts';
import { KeySpace } from '../../src/redis/keys.ts';
import { NotFoundError, ValidationError, ConflictError } from '../../src/errors/conveyor-error.ts';
import {
  AliasConflictError,
  ArtifactChecksumError,
  GatesFailedError,
  LocalArtifactStore,
  ModelRegistry,
  createStepRegistryClient,
  type AliasMovedEvent,
  type RegisterInput,
} from '../../src/registry/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
let artifactDir: string;
const clients: RedisClient[] = [];
const keys = new KeySpace('regtest');

function client(): RedisClient {
  const c = createRedis(redis.url);
  clients.push(c);
  return c;
}

function registry(): ModelRegistry {
  return new ModelRegistry({ redis: client(), keys, artifacts: new LocalArtifactStore(artifactDir) });
}

function input(name: string, content: string, extra: Partial<RegisterInput> = {}): RegisterInput {
  return { name, artifact: { content: Buffer.from(content) }, framework: 'sklearn', format: 'pickle', metrics: { accuracy: 0.9 }, ...extra };
}

test.before(async () => {
  redis = await startTestRedis();
  artifactDir = await mkdtemp(join(tmpdir(), 'conveyor-artifacts-'));
});

test.after.always(async () => {
  for (const c of clients) c.disconnect();
  await redis?.destroy();
  if (artifactDir) await rm(artifactDir, { recursive: true, force: true });
});

test('50 concurrent registrations from 5 connections get versions exactly 1..50, each with its own record', async (t) => {
  const registries = Array.from({ length: 5 }, () => registry());
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => registries[i % 5].register(input('concurrent', `bytes-${i}`, { tags: { i: String(i) } }))),
  );
  const versions = results.map((r) => r.version.version).sort((a, b) => a - b);
  t.deepEqual(versions, Array.from({ length: 50 }, (_, i) => i + 1));
  t.true(results.every((r) => r.created));

  const page = await registries[0].listVersions('concurrent', { limit: 100 });
  t.is(page.total, 50);
  t.deepEqual(page.items.map((v) => v.version), Array.from({ length: 50 }, (_, i) => 50 - i));
  // Each stored version holds the tags its own registration sent (no record overwritten by another).
  const byVersion = new Map(results.map((r) => [r.version.version, r.version.tags.i]));
  for (const v of page.items) t.is(v.tags.i, byVersion.get(v.version) ?? "missing");
  t.is(new Set(page.items.map((v) => v.tags.i)).size, 50);
});

test('a version records artifact, metadata, data fingerprint and lineage; get by number, "latest" and alias', async (t) => {
  const reg = registry();
  const data = { source: 's3://bucket/churn.csv', sha256: 'a'.repeat(64), rowCount: 1000, schema: { age: 'int', churned: 'bool' } };
  const { version } = await reg.register(
    input('full', 'weights', { hyperparameters: { depth: 4, criterion: 'gini' }, data, tags: { team: 'growth' }, description: 'first', lineage: { runId: 'r1', step: 'train', dagHash: 'h1' } }),
  );
  t.is(version.version, 1);
  t.regex(version.artifact.uri, /^cas:\/\/sha256\/[0-9a-f]{64}$/);
  t.is(version.artifact.bytes, 7);
  t.is(version.artifact.filename, 'model.pickle');
  await reg.setAlias('full', 'staging', 1, { actor: 'user:alice' });

  for (const ref of [1, '1', 'latest', 'staging']) {
    const got = await reg.get('full', ref);
    t.deepEqual(got, version, `ref ${ref}`);
  }
  t.deepEqual(version.data, data);
  t.deepEqual(version.lineage, { runId: 'r1', step: 'train', dagHash: 'h1' });
  t.deepEqual(version.hyperparameters, { depth: 4, criterion: 'gini' });

  const err = await t.throwsAsync(reg.get('full', 'production'), { instanceOf: NotFoundError });
  t.regex(err!.message, /alias "full@production" not found \(known: staging\)/);
  await t.throwsAsync(reg.get('full', 9), { instanceOf: NotFoundError, message: /model version "full@9"/ });
  await t.throwsAsync(reg.get('nope', 1), { instanceOf: NotFoundError });
});

test('invalid input is refused with the path of each problem, and nothing is written', async (t) => {
  const reg = registry();
  const err = await t.throwsAsync(
    reg.register({ ...input('bad name!', 'x'), metrics: { loss: Number.NaN } } as RegisterInput),
    { instanceOf: ValidationError },
  );
  t.true(err!.issues.some((i) => i.startsWith('name:')), err!.issues.join('\n'));
  t.true(err!.issues.some((i) => i.startsWith('metrics.loss:')), err!.issues.join('\n'));
  await t.throwsAsync(reg.setAlias('full', 'latest', 1, { actor: 'u' }), { instanceOf: ValidationError, message: /other than "latest"/ });
  await t.throwsAsync(reg.setAlias('full', 'prod', 1, { actor: '' }), { instanceOf: ValidationError, message: /actor/ });
  const models = await reg.listModels({ limit: 1000 });
  t.false(models.items.some((m) => m.name === 'bad name!'));
});

test('concurrent compare-and-set alias moves: exactly one wins; the audit log is complete and ordered', async (t) => {
  const regs = Array.from({ length: 5 }, () => registry());
  for (let i = 0; i < 6; i++) await regs[0].register(input('cas', `cas-${i}`));
  await regs[0].setAlias('cas', 'production', 1, { actor: 'user:init', expectedVersion: null });

  const attempts = await Promise.allSettled(
    [2, 3, 4, 5, 6].map((v, i) => regs[i].setAlias('cas', 'production', v, { actor: `user:${v}`, reason: `promote ${v}`, expectedVersion: 1 })),
  );
  const won = attempts.filter((a) => a.status === 'fulfilled');
  const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
  t.is(won.length, 1);
  t.is(lost.length, 4);
  for (const l of lost) t.true(l.reason instanceof AliasConflictError, String(l.reason));
  const winner = (won[0] as PromiseFulfilledResult<AliasMovedEvent>).value;
  t.is((await regs[0].aliases('cas')).production, winner.to!);

  const history = await regs[0].history('cas');
  t.deepEqual(
    history.items.map((e) => [e.seq, e.action, e.from, e.to, e.actor]),
    [
      [2, 'set', 1, winner.to, `user:${winner.to}`],
      [1, 'set', null, 1, 'user:init'],
    ],
  );

  // Without compare-and-set, 20 concurrent moves all land; the log is a gap-free chain, newest first.
  await Promise.all(Array.from({ length: 20 }, (_, i) => regs[i % 5].setAlias('cas', 'production', (i % 6) + 1, { actor: `user:${i}` })));
  const all = (await regs[0].history('cas', { limit: 100 })).items;
  t.is(all.length, 22);
  t.deepEqual(all.map((e) => e.seq), Array.from({ length: 22 }, (_, i) => 22 - i));
  for (let i = 0; i < all.length - 1; i++) t.is(all[i].from, all[i + 1].to, `entry ${all[i].seq} starts where ${all[i + 1].seq} ended`);
  t.is((await regs[0].aliases('cas')).production, all[0].to!);
});

test('rollback moves the alias back one move at a time (a second rollback goes further back, not back and forth), audited', async (t) => {
  const reg = registry();
  for (let i = 0; i < 3; i++) await reg.register(input('rb', `rb-${i}`));
  await t.throwsAsync(reg.rollback('rb', 'production', 'user:bob'), { instanceOf: ConflictError, message: /nothing to roll back/ });

  await reg.setAlias('rb', 'production', 1, { actor: 'user:bob' });
  await reg.setAlias('rb', 'production', 2, { actor: 'user:bob' });
  await reg.setAlias('rb', 'production', 3, { actor: 'user:bob', reason: 'better auc' });
  await reg.setAlias('rb', 'staging', 2, { actor: 'user:bob' });
  const back = await reg.rollback('rb', 'production', 'user:carol', 'auc dropped in prod');
  t.like(back, { action: 'rollback', alias: 'production', from: 3, to: 2, actor: 'user:carol', reason: 'auc dropped in prod' });
  t.deepEqual(await reg.aliases('rb'), { production: 2, staging: 2 });
  t.like((await reg.get('rb', 'production')), { version: 2 });

  // The second rollback goes one further back (2 → 1), the third undoes the first-ever set (removes
  // the alias), and then there is nothing left to undo. Other aliases are untouched.
  t.like(await reg.rollback('rb', 'production', 'user:carol'), { from: 2, to: 1 });
  t.like(await reg.rollback('rb', 'production', 'user:carol'), { from: 1, to: null });
  await t.throwsAsync(reg.rollback('rb', 'production', 'user:carol'), { instanceOf: ConflictError, message: /nothing to roll back/ });
  t.like(await reg.rollback('rb', 'staging', 'user:carol'), { from: 2, to: null });
  t.deepEqual(await reg.aliases('rb'), {});

  // A promotion after rollbacks is undone first; a deleted alias can be rolled back into place.
  await reg.setAlias('rb', 'production', 1, { actor: 'user:dan' });
  await reg.setAlias('rb', 'production', 3, { actor: 'user:dan' });
  await reg.deleteAlias('rb', 'production', { actor: 'user:dan', reason: 'incident' });
  t.like(await reg.rollback('rb', 'production', 'user:dan'), { from: null, to: 3 });
  t.like(await reg.rollback('rb', 'production', 'user:dan'), { from: 3, to: 1 });
  t.deepEqual(
    (await reg.history('rb', { alias: 'production' })).items.slice(0, 5).map((e) => `${e.action}:${e.from}->${e.to}`),
    ['rollback:3->1', 'rollback:null->3', 'delete:3->null', 'set:1->3', 'set:null->1'],
  );
});

test('promote refuses a version whose gates failed (given at registration, or recorded by a blocked deploy) unless forced', async (t) => {
  const reg = registry();
  await reg.register(input('gated', 'g-1', { gates: { passed: true, gates: [{ name: 'accuracy', passed: true, reason: 'ok' }] } }));
  await reg.register(input('gated', 'g-2', { gates: { passed: false, gates: [{ name: 'accuracy', passed: false, reason: 'accuracy 0.70 < min 0.90' }] } }));
  await reg.register(input('gated', 'g-3'));
  await reg.recordDeployment('gated', { actor: 'run:r1/deploy', alias: 'production', from: null, to: 3, details: { outcome: 'blocked', gates: { passed: false, gates: [{ name: 'champion', passed: false, reason: 'accuracy 0.80 < champion 0.90' }] } } });
  t.like(await reg.promote('gated', 'production', 1, { actor: 'user:a' }), { from: null, to: 1 });
  const refused = await t.throwsAsync(reg.promote('gated', 'production', 2, { actor: 'user:a' }), { instanceOf: GatesFailedError, message: /version 2 failed its evaluation gates: accuracy \(accuracy 0\.70 < min 0\.90\).*"force": true/ });
  t.is(refused?.code, 'VALIDATION');
  await t.throwsAsync(reg.promote('gated', 'production', 3, { actor: 'user:a' }), { instanceOf: GatesFailedError, message: /champion \(accuracy 0\.80 < champion 0\.90\)/ });
  t.deepEqual(await reg.aliases('gated'), { production: 1 }, 'nothing moved');
  const forced = await reg.promote('gated', 'production', 3, { actor: 'user:a', reason: 'hotfix', force: true });
  t.like(forced, { action: 'set', from: 1, to: 3, details: { forced: true, failedGates: [{ name: 'champion' }] } });
  t.is((await reg.get('gated', 2)).gates?.passed, false);
  t.is((await reg.get('gated', 3)).gates, null, 'gates from a deploy record are not copied into the version');
});

test('history is newest first and pages', async (t) => {
  const reg = registry();
  for (let i = 0; i < 4; i++) await reg.register(input('hist', `h-${i}`));
  for (const v of [1, 2, 3, 4]) await reg.setAlias('hist', 'production', v, { actor: 'user:x', reason: `to ${v}` });
  const first = await reg.history('hist', { limit: 3 });
  t.is(first.total, 4);
  t.deepEqual(first.items.map((e) => e.reason), ['to 4', 'to 3', 'to 2']);
  const second = await reg.history('hist', { offset: 3, limit: 3 });
  t.deepEqual(second.items.map((e) => e.reason), ['to 1']);
  t.true(Date.parse(first.items[0].at) >= Date.parse(second.items[0].at));
});

test('a version whose artifact bytes do not match the checksum is refused', async (t) => {
  const reg = registry();
  const store = new LocalArtifactStore(artifactDir);
  const put = await store.put(Buffer.from('genuine model bytes'));
  await reg.register(input('sum', 'ok'));

  // Wrong claimed checksum for stored bytes.
  const err = await t.throwsAsync(
    reg.register({ ...input('sum', ''), artifact: { uri: put.uri, sha256: 'b'.repeat(64) } }),
    { instanceOf: ArtifactChecksumError },
  );
  t.is(err!.actual, put.sha256);
  // Wrong claimed checksum for bytes handed over directly.
  await t.throwsAsync(reg.register({ ...input('sum', ''), artifact: { content: Buffer.from('abc'), sha256: 'c'.repeat(64) } }), { instanceOf: ArtifactChecksumError });

  // The right checksum but the stored file was altered on disk after upload.
  const tampered = await store.put(Buffer.from('to be tampered'));
  const path = store.pathOf(tampered.sha256);
  await chmod(path, 0o644);
  await writeFile(path, 'evil bytes');
  await t.throwsAsync(reg.register({ ...input('sum', ''), artifact: { uri: tampered.uri, sha256: tampered.sha256 } }), { instanceOf: ArtifactChecksumError });

  t.is((await reg.listVersions('sum')).total, 1, 'no refused registration took a version number');
  const accepted = await reg.register({ ...input('sum', ''), artifact: { uri: put.uri, sha256: put.sha256.toUpperCase() } });
  t.is(accepted.version.version, 2);
});

test('listModels shows each model with its latest version and aliases', async (t) => {
  const reg = registry();
  await reg.register(input('listed', 'l1'));
  await reg.register(input('listed', 'l2', { metrics: { auc: 0.8 } }));
  await reg.setAlias('listed', 'production', 1, { actor: 'user:x' });
  const { items, total } = await reg.listModels({ limit: 1000 });
  t.is(total, items.length);
  const listed = items.find((m) => m.name === 'listed');
  t.like(listed, { latestVersion: 2, aliases: { production: 1 } });
  t.deepEqual(listed!.latest?.metrics, { auc: 0.8 });
  t.like(await reg.getModel('listed'), { latestVersion: 2 });
});

test('the step client fills in lineage and actor, and a retried registration returns the same version', async (t) => {
  const reg = registry();
  const ctx = createStepRegistryClient(reg, { runId: 'r42', step: 'train', dagHash: 'dag9' });
  const first = await ctx.register(input('stepmodel', 'same bytes'));
  const again = await ctx.register(input('stepmodel', 'same bytes'));
  t.true(first.created);
  t.false(again.created);
  t.is(again.version.version, first.version.version);
  t.deepEqual(first.version.lineage, { runId: 'r42', step: 'train', dagHash: 'dag9' });
  t.is((await reg.listVersions('stepmodel')).total, 1);

  const moved = await ctx.setAlias('stepmodel', 'staging', 1, { reason: 'eval passed' });
  t.like(moved, { actor: 'run:r42/train', reason: 'eval passed', to: 1 });
  t.like(await ctx.get('stepmodel', 'staging'), { version: 1 });
});

test.serial('every alias move is published on Redis, to in-process listeners and to configured webhooks', async (t) => {
  const { createServer } = await import('node:http');
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;

  const reg = new ModelRegistry({ redis: client(), keys, artifacts: new LocalArtifactStore(artifactDir), webhooks: [{ url: `http://127.0.0.1:${port}/hook`, backoffMs: 10 }] });
  const listened: AliasMovedEvent[] = [];
  reg.onAliasMoved((e) => void listened.push(e));
  const fromRedis: AliasMovedEvent[] = [];
  let gotOne!: () => void;
  const received1 = new Promise<void>((resolve) => (gotOne = resolve));
  // subscribe() resolves once Redis acknowledged SUBSCRIBE, so the move below cannot be missed.
  const stop = await reg.subscribe((e) => {
    fromRedis.push(e);
    gotOne();
  });
  t.teardown(stop);
  await reg.register(input('events', 'e1'));
  const moved = await reg.setAlias('events', 'production', 1, { actor: 'user:eve', reason: 'go' });
  await received1;
  await reg.flush();

  t.deepEqual(listened, [moved]);
  t.deepEqual(fromRedis, [moved]);
  t.deepEqual(received, [{ type: 'alias.moved', ...moved }]);
  t.like(moved, { model: 'events', alias: 'production', action: 'set', from: null, to: 1, actor: 'user:eve' });
});
