import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { definePipeline } from '../../src/index.ts';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

let master: TestRedis;
let replica: TestRedis;
let sentinel: ChildProcess;
let sentinelPort: number;
let dir: string;

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test.before(async () => {
  master = await startTestRedis();
  replica = await startTestRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
  sentinelPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'conveyor-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 5000',
    ].join('\n'),
  );
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis(sentinelPort, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  probe.on('error', () => {}); // the sentinel may not listen yet: retried
  // Ready once the sentinel knows the replica (a failover needs one).
  await waitUntil(async () => ((await probe.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length > 0, 'the sentinel to see the replica');
  probe.disconnect();
});

test.after.always(async () => {
  sentinel?.kill('SIGKILL');
  await replica?.destroy();
  await master?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pipeline = definePipeline({ id: 'through-sentinel', defaults: { retries: 2, backoff: { type: 'fixed', delayMs: 200 } } })
  .step('a', async () => ({ n: 1 }))
  .step('b', { needs: ['a'] }, async ({ upstream }) => ({ n: upstream.a.n + 1 }));

test.serial('a redis+sentinel:// URL finds the master; runs complete before and after a failover to the replica', async (t) => {
  try {
    await scenario(t);
  } catch (error) {
    t.fail(String((error as Error).stack));
  }
});

async function scenario(t: import('ava').ExecutionContext): Promise<void> {
  const url = `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster`;
  const rt = await testRuntime({ url } as TestRedis);
  const host = await withWorker(rt, [pipeline]);
  try {
    const first = await rt.engine.waitForRun((await rt.engine.trigger(pipeline)).runId, { timeoutMs: 15_000 });
    t.is(first.status, 'succeeded');

    const probe = new Redis(sentinelPort, '127.0.0.1');
    await probe.call('SENTINEL', 'FAILOVER', 'mymaster');
    await waitUntil(async () => ((await probe.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[])[1] === String(replica.port), 'the failover');
    probe.disconnect();
    // The clients follow the new master once their failover detector sees the switch; until then a
    // demoted master may still answer (reads from it can be stale). Wait as an operator would.
    await waitUntil(async () => {
      const [role] = (await rt.redis.role()) as [string];
      return role === 'master' && (await rt.redis.config('GET', 'port') as string[])[1] === String(replica.port);
    }, 'the client to follow the new master');

    // The client follows the new master (the old one is now a read-only replica).
    const second = await rt.engine.waitForRun((await rt.engine.trigger(pipeline)).runId, { timeoutMs: 30_000 });
    t.is(second.status, 'succeeded');
    t.deepEqual(second.steps.b.output, { n: 2 });
    const promoted = new Redis(replica.port);
    t.is((await promoted.role())[0], 'master');
    t.true((await promoted.keys(`${rt.keys.prefix}:run:{${second.id}}`)).length === 1, 'the second run lives on the promoted replica');
    promoted.disconnect();
  } finally {
    await host.stop(1_000);
    await rt.close();
  }
}
