import test from 'ava';
import { join } from 'node:path';
import { loadPipelines } from '../../src/app/pipeline-loader.ts';
import { definePipeline } from '../../src/index.ts';
import { ROOT, newPrefix, spawnCliWorker, waitFor } from '../fixtures/procs.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime } from '../helpers/harness.ts';

/** A folder with two good files around one that busy-loops at import and one whose top-level await never settles. */
const HANGING = join(ROOT, 'test/fixtures-security/hanging');

test('files that never finish importing are skipped with an error naming them and the deadline; the others load', async (t) => {
  const loaded = await loadPipelines(HANGING, { importTimeoutMs: 1_500 });
  t.deepEqual(loaded.pipelines.map((p) => p.id).sort(), ['hang-neighbour-a', 'hang-neighbour-d']);
  t.deepEqual(
    loaded.problems.map((p) => [p.file.split('/').pop(), p.code]),
    [
      ['b-busy-loop.ts', 'IMPORT_TIMEOUT'],
      ['c-never-settles.ts', 'IMPORT_TIMEOUT'],
    ],
  );
  for (const problem of loaded.problems) t.regex(problem.message, /hanging\/[bc]-[a-z-]+\.ts: importing did not finish within 1500 ms.*CONVEYOR_PIPELINE_IMPORT_TIMEOUT/);
});

test('conveyor worker logs the hanging files and serves the others', async (t) => {
  const redis: TestRedis = await startTestRedis();
  const prefix = newPrefix();
  const worker = spawnCliWorker({ redisUrl: redis.url, prefix, pipelines: HANGING, extra: { CONVEYOR_PIPELINE_IMPORT_TIMEOUT: '1500ms' } });
  const rt = await testRuntime(redis, { CONVEYOR_PREFIX: prefix });
  try {
    await waitFor(() => /serving/.test(worker.stderr()) || !worker.isAlive(), 60_000, 'conveyor worker serving');
    t.true(worker.isAlive(), worker.stderr());
    t.regex(worker.stderr(), /b-busy-loop\.ts: importing did not finish within 1500 ms/);
    t.regex(worker.stderr(), /c-never-settles\.ts: importing did not finish within 1500 ms/);
    const neighbour = definePipeline({ id: 'hang-neighbour-d' }).step('only', async () => ({ ok: true }));
    const { runId } = await rt.engine.trigger(neighbour);
    const view = await rt.engine.waitForRun(runId, { timeoutMs: 30_000 });
    t.is(view.status, 'succeeded');
    t.deepEqual(view.steps.only.output, { ok: true });
  } finally {
    worker.signal('SIGTERM');
    await worker.exited;
    await rt.close();
    await redis.destroy();
  }
});
