import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { definePipeline, NonRetriableError } from '../../src/index.ts';
import { createRedactor, isSecretKey } from '../../src/core/redact.ts';
import { loadSecrets, parseSecretsText } from '../../src/app/secrets.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

const run = promisify(execFile);
const SECRET = 'sk-live-9f8e7d6c5b4a';
const QUOTED = 'p"a\\ss-word';

let redis: TestRedis;
let dir: string;
test.before(async () => {
  // No RDB compression, so DUMP shows stored strings verbatim and the "nowhere in Redis" check can fail.
  redis = await startTestRedis({ extraArgs: ['--rdbcompression', 'no'] });
  dir = mkdtempSync(join(tmpdir(), 'conveyor-secrets-'));
});
test.after.always(async () => {
  await redis?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('redactor masks secret values deep in strings, objects and arrays, and secret-looking keys', (t) => {
  const redact = createRedactor([SECRET, QUOTED, 'abc']);
  const input = {
    msg: `calling api with ${SECRET}`,
    nested: [{ url: `https://x/?k=${SECRET}&q=1` }],
    password: 'not-a-known-value',
    DB_PASSWORD: 'x1',
    'api-key': 'x2',
    apiKey: 'x3',
    Authorization: 'Bearer zzz',
    private_key: 'x4',
    'Access-Key': 'x5',
    client_secret: 'x6',
    github_token: 'x7',
    max_tokens: 512,
    tokenizer: 'bert-base',
    short: 'abc',
  };
  const out = redact(input) as Record<string, unknown>;
  t.is(out.msg, 'calling api with ***');
  t.deepEqual(out.nested, [{ url: 'https://x/?k=***&q=1' }]);
  for (const key of ['password', 'DB_PASSWORD', 'api-key', 'apiKey', 'Authorization', 'private_key', 'Access-Key', 'client_secret', 'github_token']) {
    t.is(out[key], '***', key);
  }
  t.is(out.max_tokens, 512, 'ML parameters that merely contain "token" stay visible');
  t.is(out.tokenizer, 'bert-base');
  t.is(out.short, 'abc', 'values under 4 characters are not replaced in text');
  t.is(input.msg, `calling api with ${SECRET}`, 'input not mutated');
  // The JSON-escaped form of a secret is masked too: this is how step outputs are stored.
  t.false(String(redact(JSON.stringify({ v: QUOTED }))).includes(JSON.stringify(QUOTED).slice(1, -1)));
  t.is(JSON.parse(String(redact(JSON.stringify({ v: `x${QUOTED}y` })))).v, 'x***y');
  const cyclic: Record<string, unknown> = { token: 'x' };
  cyclic.self = cyclic;
  t.deepEqual(redact(cyclic), { token: '***', self: '[Circular]' });
  const tricky = JSON.parse('{"__proto__": {"polluted": "yes"}}');
  redact(tricky);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.true(isSecretKey('X-Auth-Token'));
  t.false(isSecretKey('tokens_per_second'));
});

test('secrets load from CONVEYOR_SECRET_* env vars and a JSON or KEY=VALUE file; env wins', (t) => {
  const envFile = join(dir, 'secrets.env');
  writeFileSync(envFile, '# comment\nDB_PASSWORD=fromfile\nexport API_KEY="quoted value"\n\n');
  const fromEnvFile = loadSecrets({ secretsFile: envFile }, { CONVEYOR_SECRET_DB_PASSWORD: 'fromenv', CONVEYOR_SECRET_S3: 'bucketkey', OTHER: 'x' });
  t.deepEqual({ ...fromEnvFile }, { DB_PASSWORD: 'fromenv', API_KEY: 'quoted value', S3: 'bucketkey' });
  t.true(Object.isFrozen(fromEnvFile));
  const jsonFile = join(dir, 'secrets.json');
  writeFileSync(jsonFile, JSON.stringify({ TOKEN: 'abcd1234' }));
  t.deepEqual({ ...loadSecrets({ secretsFile: jsonFile }, {}) }, { TOKEN: 'abcd1234' });
  t.throws(() => parseSecretsText('{"N": 3}', 'f.json'), { message: /f\.json: secret "N" must be a string, found number/ });
  t.throws(() => parseSecretsText('A=1\nnot a pair\n', 'f.env'), { message: /f\.env:2: expected KEY=VALUE/ });
  t.throws(() => loadSecrets({ secretsFile: join(dir, 'missing.env') }, {}), { message: /CONVEYOR_SECRETS_FILE: expected a readable file, found .*missing\.env \(ENOENT\)/ });
});

test.serial('a step that logs, returns and throws a secret: logs, status --json and the stored error never contain it', async (t) => {
  const secretsFile = join(dir, 'run.env');
  writeFileSync(secretsFile, `API_TOKEN=${SECRET}\n`);
  const rt = await testRuntime(redis, { CONVEYOR_SECRETS_FILE: secretsFile });
  const seen: string[] = [];
  const p = definePipeline({ id: 'leaky', defaults: { retries: 0, backoff: { type: 'fixed', delayMs: 10 } } })
    .step('use', async ({ secrets, log }) => {
      seen.push(secrets.API_TOKEN);
      log.info(`connecting with ${secrets.API_TOKEN}`, { header: `Bearer ${secrets.API_TOKEN}`, password: 'hunter2-local' });
      return { echoed: secrets.API_TOKEN, note: `token=${secrets.API_TOKEN}`, rows: 3 };
    })
    .step('fail', { needs: ['use'] }, async ({ secrets, upstream }) => {
      throw new NonRetriableError(`auth failed for ${secrets.API_TOKEN} (rows ${upstream.use.rows})`);
    });
  const host = await withWorker(rt, [p]);
  try {
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.deepEqual(seen, [SECRET], 'the step received the secret value');
    t.is(view.status, 'failed');
    t.deepEqual(view.steps.use.output, { echoed: '***', note: 'token=***', rows: 3 });
    t.regex(String(view.steps.fail.error?.message ?? JSON.stringify(view.steps.fail.error)), /auth failed for \*\*\* \(rows 3\)/);

    const env = { ...process.env, REDIS_URL: redis.url, CONVEYOR_PREFIX: rt.config.prefix, NO_COLOR: '1' };
    const logs = await run('node', ['bin/conveyor.js', 'logs', runId, '--json'], { env });
    const status = await run('node', ['bin/conveyor.js', 'status', runId, '--json'], { env });
    t.regex(logs.stdout, /connecting with \*\*\*/);
    t.regex(logs.stdout, /"password":"\*\*\*"/);
    t.false(logs.stdout.includes('hunter2-local'));
    t.false(logs.stdout.includes(SECRET));
    t.regex(status.stdout, /auth failed for \*\*\*/);
    t.false(status.stdout.includes(SECRET));

    // Nothing in Redis holds it, in any key (run hashes, logs, BullMQ's failed-job records).
    const raw = new Redis(redis.url);
    try {
      const keys = await raw.keys(`${rt.config.prefix}*`);
      t.true(keys.length > 0);
      for (const key of keys) {
        const dump = await raw.dumpBuffer(key);
        t.false(dump?.toString('latin1').includes(SECRET) ?? false, `key ${key} contains the secret`);
      }
    } finally {
      raw.disconnect();
    }
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});
