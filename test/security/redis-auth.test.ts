import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { definePipeline } from '../../src/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { withWorker } from '../helpers/harness.ts';

const run = promisify(execFile);
const PREFIX = 'conveyor';

/**
 * The least-privilege ACL documented in docs/redis.md: keys and channels under the prefix only, no
 * dangerous commands except the few read-only ones BullMQ and the startup check use.
 */
export const LEAST_PRIVILEGE_ACL = [
  'on', '>leastpw', `~${PREFIX}:*`, `&${PREFIX}:*`,
  '-@all', '+@read', '+@write', '+@keyspace', '+@hash', '+@list', '+@set', '+@sortedset', '+@string', '+@stream',
  '+@scripting', '+@pubsub', '+@transaction', '+@blocking', '+@connection', '+@fast', '-@dangerous',
  '+info', '+config|get', '+client|setname', '+client|getname', '+client|id', '+client|info', '+client|list', '+cluster|slots', '+cluster|shards', '+cluster|nodes', '+cluster|info',
];

let redis: TestRedis;
let dir: string;
test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-auth-'));
  redis = await startTestRedis({
    extraArgs: ['--user', 'default', 'off', '--user', 'conveyor', 'on', '>secretpw', '~*', '&*', '+@all', '--user', 'least', ...LEAST_PRIVILEGE_ACL],
  });
});
test.after.always(async () => {
  await redis?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function recording(lines: string[]): Logger {
  return { ...silentLogger, warn: (msg: string) => void lines.push(msg), error: (msg: string) => void lines.push(msg) } as Logger;
}

async function runtimeFor(url: string, lines: string[] = [], extra: Record<string, string> = {}): Promise<Runtime> {
  const config = loadConfig({ REDIS_URL: url, CONVEYOR_PREFIX: PREFIX, CONVEYOR_LOG_LEVEL: 'silent', CONVEYOR_STALLED_INTERVAL: '1s', CONVEYOR_LOCK_DURATION: '2s', ...extra }, {});
  return createRuntime(config, { logger: recording(lines), connectTimeoutMs: 2_000 });
}

const fast = { retries: 1, backoff: { type: 'fixed' as const, delayMs: 10 } };

async function runPipelineEndToEnd(t: import('ava').ExecutionContext, rt: Runtime, id: string): Promise<void> {
  let failed = false;
  const p = definePipeline({ id, defaults: fast })
    .step('load', async ({ log }) => {
      log.info('loading');
      return { rows: 3 };
    })
    .step('flaky', { needs: ['load'] }, async ({ upstream }) => {
      if (!failed) {
        failed = true;
        throw new Error('transient');
      }
      return { rows: upstream.load.rows + 1 };
    })
    .step('report', { needs: ['flaky'] }, async ({ upstream }) => ({ total: upstream.flaky.rows }));
  const host = await withWorker(rt, [p]);
  try {
    const { runId } = await rt.engine.trigger(p);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 20_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual(view.steps.report.output, { total: 4 });
    t.is(view.steps.flaky.attempts, 2);
    const runs = await rt.engine.listRuns({ pipeline: id, limit: 5 });
    t.is(runs.length, 1);
  } finally {
    await host.stop(2_000);
  }
}

test.serial('ACL user with password in the URL runs a pipeline end to end; the default user is off', async (t) => {
  const lines: string[] = [];
  const rt = await runtimeFor(`redis://conveyor:secretpw@127.0.0.1:${redis.port}`, lines);
  try {
    await runPipelineEndToEnd(t, rt, 'acl-full');
  } finally {
    await rt.close();
  }
  t.deepEqual(lines, []);
  // No credentials: the default user is disabled, so the connection is refused with a one-line error.
  const error = await t.throwsAsync(runtimeFor(`redis://127.0.0.1:${redis.port}`));
  t.regex(error!.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
});

test.serial('a wrong password fails with a one-line error that does not show the password', async (t) => {
  const error = await t.throwsAsync(runtimeFor(`redis://conveyor:wrong-pass-123@127.0.0.1:${redis.port}`));
  t.regex(error!.message, /cannot reach Redis at redis:\/\/conveyor:\*\*\*@127\.0\.0\.1:\d+.*(WRONGPASS|invalid username-password)/);
  t.false(error!.message.includes('wrong-pass-123'));
});

test.serial('the least-privilege ACL of docs/redis.md (prefix keys and channels, no dangerous commands) is enough', async (t) => {
  const lines: string[] = [];
  const rt = await runtimeFor(`redis://least:leastpw@127.0.0.1:${redis.port}`, lines);
  try {
    await runPipelineEndToEnd(t, rt, 'acl-least');
    // The user really is restricted: other prefixes and dangerous commands are refused.
    await t.throwsAsync(rt.redis.set('other:key', '1'), { message: /NOPERM/ });
    await t.throwsAsync(rt.redis.flushall(), { message: /NOPERM/ });
  } finally {
    await rt.close();
  }
  t.deepEqual(lines.filter((l) => /NOPERM|error/i.test(l)), []);
});

test('startup warns loudly unless maxmemory-policy is noeviction', async (t) => {
  const lru = await startTestRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
  try {
    const lines: string[] = [];
    const rt = await runtimeFor(lru.url, lines);
    await rt.close();
    t.true(lines.some((l) => /maxmemory-policy is "allkeys-lru"; Conveyor needs "noeviction"/.test(l)), lines.join('\n'));
    const quiet: string[] = [];
    const ok = await runtimeFor(`redis://conveyor:secretpw@127.0.0.1:${redis.port}`, quiet);
    await ok.close();
    t.deepEqual(quiet, [], 'no warning with noeviction');
  } finally {
    await lru.destroy();
  }
});

test.serial('rediss:// with CONVEYOR_REDIS_TLS_CA runs a pipeline over TLS; without the CA the certificate is refused', async (t) => {
  const tls = join(dir, 'tls');
  await run('mkdir', ['-p', tls]);
  const ssl = (args: string[]) => run('openssl', args, { cwd: tls });
  await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=conveyor-test-ca']);
  await ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(tls, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext']);
  const port = await freePort();
  const server = spawn(
    'redis-server',
    ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', join(tls, 'server.crt'), '--tls-key-file', join(tls, 'server.key'),
      '--tls-ca-cert-file', join(tls, 'ca.crt'), '--tls-auth-clients', 'no', '--save', '', '--dir', tls, '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  try {
    const url = `rediss://127.0.0.1:${port}`;
    let rt: Runtime | undefined;
    for (let i = 0; !rt; i++) {
      try {
        rt = await runtimeFor(url, [], { CONVEYOR_REDIS_TLS_CA: join(tls, 'ca.crt') });
      } catch (error) {
        if (i > 20) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      await runPipelineEndToEnd(t, rt, 'tls');
    } finally {
      await rt.close();
    }
    const refused = await t.throwsAsync(runtimeFor(url));
    t.regex(refused!.message, /cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+.*(self[- ]signed|unable to verify|certificate)/i);
    await t.throwsAsync(runtimeFor(url, [], { CONVEYOR_REDIS_TLS_CA: join(tls, 'missing.pem') }), { message: /CONVEYOR_REDIS_TLS_CA: expected a readable PEM file, found .*missing\.pem/ });
  } finally {
    await new Promise((r) => {
      server.once('exit', r);
      server.kill('SIGKILL');
    });
  }
});
