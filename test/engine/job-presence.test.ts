import test from 'ava';
import { Worker } from 'bullmq';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('jobPresence tells waiting, failed-for-good and missing jobs apart in one call (what the reconciler acts on)', async (t) => {
  const rt = await testRuntime(redis);
  const data = { r: 'run', s: 'step', p: 'pipe' };
  const job = (step: string) => ({ queue: 'q', jobId: `run.${step}`, step, data, attempts: 1, backoff: { type: 'fixed' as const, delayMs: 0 } });
  // A raw BullMQ worker fails "doomed" for good (one attempt), then stops.
  await rt.queues.add([job('doomed')]);
  await new Promise<void>((resolve) => {
    const worker = new Worker('q', async () => {
      throw new Error('boom');
    }, { connection: rt.extraClient(true), prefix: rt.keys.bullPrefix });
    worker.on('failed', () => void worker.close().then(resolve));
  });
  // "waiting" is added with no worker running.
  await rt.queues.add([job('waiting')]);
  const presence = await rt.queues.jobPresence('q', ['run.waiting', 'run.doomed', 'run.never-added']);
  t.is(presence.get('run.doomed'), 'failed');
  t.is(presence.get('run.never-added'), 'missing');
  t.is(presence.get('run.waiting'), 'present');
  await rt.close();
});
