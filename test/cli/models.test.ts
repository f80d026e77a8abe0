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
  t.regex(human.stdout, /rollback\s+production: 2 → 1/);
});

test.serial('bad input: unknown model exits 1 naming it; promote to an unknown version exits 1', async (t) => {
  const missing = await cli('models', 'show', 'nope', '--json');
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nope/);
  const badVersion = await cli('models', 'promote', 'churn', '99', '--alias', 'production');
  t.is(badVersion.code, 1);
  t.regex(badVersion.stderr, /99/);
});
