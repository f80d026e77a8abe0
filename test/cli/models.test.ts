/** `conveyor models …` and `schedules`/`trigger-event` as users call them: exit codes and --json shapes. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { runCli } from '../fixtures/procs.ts';

let redis: TestRedis;
let runtime: Runtime;
let env: Record<string, string>;
const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-models-cli-'));

test.before(async () => {
  redis = await startTestRedis();
  const prefix = `m${randomBytes(4).toString('hex')}`;
  env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, CONVEYOR_DATA_DIR: dataDir, CONVEYOR_LOG_LEVEL: 'warn' };
  runtime = await createRuntime(loadConfig(env, {}), { logger: silentLogger });
  for (const accuracy of [0.91, 0.95]) {
    await runtime.registry.register({
      name: 'churn', artifact: { content: Buffer.from(`model ${accuracy}`), filename: 'model.bin' },
      framework: 'sklearn', format: 'pickle', metrics: { accuracy }, hyperparameters: { depth: 3 },
    });
  }
});

test.after.always(async () => {
  await runtime?.close();
  await redis?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, env);

test.serial('models list / versions / show --json shapes', async (t) => {
  const list = await cli('models', 'list', '--json');
  t.is(list.code, 0, list.stderr);
  t.like(JSON.parse(list.stdout)[0], { name: 'churn', latestVersion: 2, aliases: {} });
  const versions = await cli('models', 'versions', 'churn', '--json');
  t.deepEqual(JSON.parse(versions.stdout).map((v: { version: number }) => v.version), [2, 1]);
  const show = await cli('models', 'show', 'churn', '1', '--json');
  t.like(JSON.parse(show.stdout), { name: 'churn', version: 1, metrics: { accuracy: 0.91 }, framework: 'sklearn' });
  t.regex(JSON.parse(show.stdout).artifact.sha256, /^[0-9a-f]{64}$/);
});

test.serial('promote, promote again, rollback and history (newest first) through the CLI', async (t) => {
  const first = await cli('models', 'promote', 'churn', '1', '--alias', 'production', '--reason', 'first release', '--json');
  t.is(first.code, 0, first.stderr);
  t.like(JSON.parse(first.stdout), { action: 'set', alias: 'production', from: null, to: 1, reason: 'first release' });
  await cli('models', 'promote', 'churn', '2', '--alias', 'production', '--reason', 'better');
  const back = await cli('models', 'rollback', 'churn', '--alias', 'production', '--reason', 'regression in prod', '--json');
  t.like(JSON.parse(back.stdout), { action: 'rollback', from: 2, to: 1 });
  const history = JSON.parse((await cli('models', 'history', 'churn', '--json')).stdout) as Array<{ action: string; from: number | null; to: number | null; actor: string }>;
  t.deepEqual(history.map((e) => [e.action, e.from, e.to]), [['rollback', 2, 1], ['set', 1, 2], ['set', null, 1]]);
  t.true(history.every((e) => e.actor.startsWith('user:')));
  const human = await cli('models', 'history', 'churn');
  const rows = human.stdout.trim().split('\n');
  t.regex(rows[0]!, /^WHEN\s+ALIAS\s+ACTION\s+FROM\s+TO\s+BY\s+REASON$/);
  t.regex(rows[1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+production\s+rollback\s+v2\s+v1\s+user:\S+\s+regression in prod$/);
  t.regex(rows[3]!, /promote\s+-\s+v1\s+user:\S+\s+first release$/);
});

test.serial('a second rollback goes one further back (not back and forth); history has one row per move with --json', async (t) => {
  await runtime.registry.register({ name: 'ladder', artifact: { content: Buffer.from('l1') }, framework: 'f', format: 'bin' });
  await runtime.registry.register({ name: 'ladder', artifact: { content: Buffer.from('l2') }, framework: 'f', format: 'bin' });
  await runtime.registry.register({ name: 'ladder', artifact: { content: Buffer.from('l3') }, framework: 'f', format: 'bin' });
  for (const v of ['1', '2', '3']) t.is((await cli('models', 'promote', 'ladder', v, '--alias', 'production')).code, 0);
  const first = JSON.parse((await cli('models', 'rollback', 'ladder', '--alias', 'production', '--json')).stdout);
  t.like(first, { action: 'rollback', from: 3, to: 2 });
  const second = await cli('models', 'rollback', 'ladder', '--alias', 'production');
  t.is(second.code, 0, second.stderr);
  t.is(second.stdout, 'ladder: production v2 → v1 (rollback)\n');
  const history = JSON.parse((await cli('models', 'history', 'ladder', '--json')).stdout) as Array<{ action: string; from: number | null; to: number | null; at: string; actor: string }>;
  t.deepEqual(history.map((e) => [e.action, e.from, e.to]), [['rollback', 2, 1], ['rollback', 3, 2], ['set', 2, 3], ['set', 1, 2], ['set', null, 1]]);
  t.true(history.every((e) => /Z$/.test(e.at) && e.actor.startsWith('user:')));
  t.is((await cli('models', 'history', 'ladder')).stdout.trim().split('\n').length, 1 + 5, 'a header and one row per move');
});

test.serial('promote of a version that failed its gates exits 2 naming the gates and --force; --force promotes and the audit says forced', async (t) => {
  const { version } = await runtime.registry.register({
    name: 'churn', artifact: { content: Buffer.from('model 0.70') }, framework: 'sklearn', format: 'pickle', metrics: { accuracy: 0.7 },
    gates: { passed: false, gates: [{ name: 'accuracy', passed: false, reason: 'accuracy 0.70 < min 0.90' }, { name: 'latency', passed: true, reason: 'p99 12ms ≤ max 50ms' }] },
  });
  const before = await runtime.registry.aliases('churn');
  const refused = await cli('models', 'promote', 'churn', String(version.version), '--alias', 'production');
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /failed its evaluation gates: accuracy \(accuracy 0\.70 < min 0\.90\)/);
  t.notRegex(refused.stderr, /latency/, 'only the failed gates are named');
  t.regex(refused.stderr, /--force/);
  const asJson = await cli('models', 'promote', 'churn', String(version.version), '--alias', 'production', '--json');
  t.is(asJson.code, 2);
  t.is(JSON.parse(asJson.stderr.trim()).error.code, 'VALIDATION');
  t.deepEqual(await runtime.registry.aliases('churn'), before, 'nothing moved');

  const forced = await cli('models', 'promote', 'churn', String(version.version), '--alias', 'production', '--force', '--reason', 'hotfix', '--json');
  t.is(forced.code, 0, forced.stderr);
  t.like(JSON.parse(forced.stdout), { action: 'set', to: version.version, reason: 'hotfix', details: { forced: true, failedGates: [{ name: 'accuracy', passed: false }] } });
  const human = await cli('models', 'history', 'churn', '--limit', '1');
  t.regex(human.stdout, /production\s+promote \(forced\)\s+v1\s+v3\s+user:\S+\s+hotfix/);
  const show = await cli('models', 'show', 'churn', String(version.version));
  t.regex(show.stdout, /gates\s+failed: accuracy/);

  // A version whose gates passed, or that was never evaluated, promotes without --force.
  t.is((await cli('models', 'promote', 'churn', '2', '--alias', 'production')).code, 0);
});

test.serial('bad input: unknown model exits 1 naming it; promote to an unknown version exits 1', async (t) => {
  const missing = await cli('models', 'show', 'nope', '--json');
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nope/);
  const badVersion = await cli('models', 'promote', 'churn', '99', '--alias', 'production');
  t.is(badVersion.code, 1);
  t.regex(badVersion.stderr, /99/);
});
