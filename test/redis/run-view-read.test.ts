import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { testRuntime } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../fixtures/procs.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('a run\'s steps are read in one transaction: a step that starts, fails and ends between two reads never shows as queued with its error', async (t) => {
  // Read apart, a follower (`run --wait --logs`) saw a claimed step queued (status read first) with
  // the error of its finished attempt (records read later) and printed "attempt 1 failed (retried)".
  // MONITOR shows the reads as the server ran them: inside one MULTI … EXEC of one client.
  const rt = await testRuntime(redis);
  const watcher = rt.redis.duplicate();
  const monitor = await watcher.monitor();
  try {
    const { runId } = await rt.engine.trigger(definePipeline({ id: 'read-once' }).step('a', () => 1));
    const k = rt.keys.run(runId);
    const seen: Array<{ source: string; cmd: string; key?: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, cmd: String(args[0]).toLowerCase(), key: args[1] }));
    await rt.store.getSteps(runId);
    await waitFor(() => seen.some((c) => c.cmd === 'exec'), 5_000, 'the read to reach MONITOR');
    const reads = seen.filter((c) => c.cmd === 'hgetall' && [k.status, k.info, k.output].includes(c.key!));
    t.is(reads.length, 3);
    const client = reads[0]!.source;
    const mine = seen.filter((c) => c.source === client).map((c) => c.cmd);
    t.deepEqual(mine, ['multi', 'hgetall', 'hgetall', 'hgetall', 'exec'], 'status, records and outputs in one transaction');
    await rt.engine.cancel(runId, 'test');
  } finally {
    monitor.disconnect();
    watcher.disconnect();
    await rt.close();
  }
});
