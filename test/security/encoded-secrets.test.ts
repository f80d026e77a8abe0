import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { definePipeline, NonRetriableError } from '../../src/index.ts';
import { redactSecrets } from '../../src/api/redact.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

/** A secret with every character URL-encoding and base64 treat specially. */
const SECRET = 'p@ss/w0rd+S3cr3t=&?Z9';
const bytes = Buffer.from(SECRET);
const FORMS: Record<string, string> = {
  'URL component': encodeURIComponent(SECRET),
  'URL, lower-case escapes': encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
  'form-encoded': new URLSearchParams({ s: SECRET }).toString().slice(2),
  base64: bytes.toString('base64'),
  base64url: bytes.toString('base64url'),
  hex: bytes.toString('hex'),
  'HEX': bytes.toString('hex').toUpperCase(),
};
/** Basic auth: the secret base64-encoded inside a longer text, at an offset that is not a multiple of 3. */
const BASIC = Buffer.from(`user:${SECRET}`).toString('base64');
const leaks = (text: string) => [SECRET, BASIC, ...Object.values(FORMS)].filter((form) => text.includes(form));
const run = promisify(execFile);

let redis: TestRedis;
let dir: string;
test.before(async () => {
  redis = await startTestRedis({ extraArgs: ['--rdbcompression', 'no'] });
  dir = mkdtempSync(join(tmpdir(), 'conveyor-encoded-secrets-'));
});
test.after.always(async () => {
  await redis?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the API masks every encoded form of a known secret, also inside longer text', (t) => {
  for (const [name, form] of Object.entries(FORMS)) {
    const shown = redactSecrets({ message: `calling https://api.example/x?key=${form}&y=1`, list: [form] }, [SECRET]);
    t.deepEqual(leaks(JSON.stringify(shown)), [], name);
    t.deepEqual(shown.list, ['***'], name);
  }
  t.deepEqual(leaks(redactSecrets(`Authorization: Basic ${BASIC}`, [SECRET])), []);
  // Ordinary text that merely shares a few characters with the encodings stays as it is.
  t.is(redactSecrets('rows=704 bytes=cEBz S3cr', [SECRET]), 'rows=704 bytes=cEBz S3cr');
});

test('a step that logs, returns and throws encoded forms: nothing in logs, status --json, errors, stacks or Redis', async (t) => {
  const secretsFile = join(dir, 'secrets.json');
  writeFileSync(secretsFile, JSON.stringify({ X: SECRET }));
  const rt = await testRuntime(redis, { CONVEYOR_SECRETS_FILE: secretsFile });
  const p = definePipeline({ id: 'encoded-leak', defaults: { retries: 0, backoff: { type: 'fixed', delayMs: 10 } } })
    .step('use', async ({ secrets, log }) => {
      const x = secrets.X;
      log.info(`calling https://api.example/v1?key=${encodeURIComponent(x)}`, { hex: Buffer.from(x).toString('hex'), basic: `Basic ${Buffer.from(`user:${x}`).toString('base64')}` });
      return { url: `https://api.example/v1?key=${encodeURIComponent(x)}`, b64: Buffer.from(x).toString('base64url'), form: new URLSearchParams({ k: x }).toString() };
    })
    .step('fail', { needs: ['use'] }, async ({ secrets }) => {
      const error = new NonRetriableError(`rejected credentials ${Buffer.from(secrets.X).toString('base64')}`);
      error.stack = `${error.stack}\n    at request (https://api.example/?t=${Buffer.from(secrets.X).toString('hex').toUpperCase()})`;
      throw error;
    });
  const host = await withWorker(rt, [p]);
  try {
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    t.is(view.status, 'failed');
    t.deepEqual(view.steps.use.output, { url: 'https://api.example/v1?key=***', b64: '***', form: 'k=***' });
    t.regex(view.steps.fail.error?.message ?? '', /rejected credentials \*\*\*/);
    t.regex(view.steps.fail.error?.stack ?? '', /t=\*\*\*/);
    t.deepEqual(leaks(JSON.stringify(view)), []);

    const env = { ...process.env, REDIS_URL: redis.url, CONVEYOR_PREFIX: rt.config.prefix, NO_COLOR: '1' };
    const logs = await run('node', ['bin/conveyor.js', 'logs', runId, '--json'], { env });
    const status = await run('node', ['bin/conveyor.js', 'status', runId, '--json'], { env });
    t.regex(logs.stdout, /key=\*\*\*/);
    t.deepEqual(leaks(logs.stdout), [], 'conveyor logs');
    t.deepEqual(leaks(status.stdout), [], 'conveyor status --json');

    const raw = new Redis(redis.url);
    try {
      const keys = await raw.keys(`${rt.config.prefix}*`);
      t.true(keys.length > 0);
      for (const key of keys) t.deepEqual(leaks((await raw.dumpBuffer(key))?.toString('latin1') ?? ''), [], `key ${key}`);
    } finally {
      raw.disconnect();
    }
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
});
