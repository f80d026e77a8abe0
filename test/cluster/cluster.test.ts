import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { definePipeline } from '../../src/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../src/app/runtime.ts';
import { startCluster, type TestCluster } from '../helpers/redis-cluster.ts';
import { withWorker } from '../helpers/harness.ts';

let cluster: TestCluster;
test.before(async () => {
  cluster = await startCluster();
});
test.after.always(async () => {
  await cluster?.destroy();
});

/** Records warnings and errors (CROSSSLOT and friends surface here from workers and queues). */
function recordingLogger(lines: string[]): Logger {
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`);
  };
  return { ...silentLogger, warn: record('warn'), error: record('error') } as Logger;
}

async function clusterRuntime(lines: string[], env: Record<string, string> = { REDIS_URL: cluster.url }): Promise<Runtime> {
  const config = loadConfig(
    { ...env, CONVEYOR_PREFIX: `c${randomBytes(3).toString('hex')}`, CONVEYOR_LOG_LEVEL: 'silent', CONVEYOR_STALLED_INTERVAL: '1s', CONVEYOR_LOCK_DURATION: '2s' },
    {},
  );
  return createRuntime(config, { logger: recordingLogger(lines) });
}

const fast = { retries: 0, backoff: { type: 'fixed' as const, delayMs: 10 } };

test.serial('a redis+cluster:// URL gives a Cluster client; pipelines run end to end without CROSSSLOT errors', async (t) => {
  const lines: string[] = [];
  const rt = await clusterRuntime(lines);
  t.true((rt.redis as unknown as { isCluster?: boolean }).isCluster === true, 'runtime uses ioredis Cluster');
  let flaky = 0;
  const diamond = definePipeline({ id: 'cl-diamond', params: z.object({ min: z.number() }), defaults: fast })
    .step('load', async () => ({ rows: 10 }))
    .step('left', { needs: ['load'] }, async ({ upstream }) => ({ doubled: upstream.load.rows * 2 }))
    .step('right', { needs: ['load'], if: ({ params }) => params.min < 5 }, async ({ upstream }) => ({ squared: upstream.load.rows ** 2 }))
    .step('join', { needs: ['left', 'right'], runWhen: 'upstream-done' }, async ({ upstream }) => ({ sum: upstream.left.doubled + (upstream.right?.squared ?? 0) }));
  const retried = definePipeline({ id: 'cl-retry', defaults: { retries: 2, backoff: { type: 'fixed', delayMs: 20 } } }).step('flaky', async ({ attempt }) => {
    flaky++;
    if (attempt < 2) throw new Error('transient');
    return { attempt };
  });
  const host = await withWorker(rt, [diamond, retried]);
  try {
    // Fixed run ids (their hash tags are the ids): slots 9835, 13898, 1577, 5640, 9967, 14030 — all three
    // masters of a fresh 3-node cluster, so the spread check below does not depend on random ids.
    const runs = await Promise.all([1, 9, 2, 8, 3, 7].map((min, i) => rt.engine.trigger(diamond, { params: { min }, runId: `spread-${i}` })));
    const views = await Promise.all(runs.map((r) => rt.engine.waitForRun(r.runId, { timeoutMs: 30_000 })));
    t.deepEqual(
      views.map((v) => [v.status, v.steps.right.status, (v.steps.join.output as { sum: number }).sum]),
      [1, 9, 2, 8, 3, 7].map((min) => (min < 5 ? ['succeeded', 'succeeded', 120] : ['succeeded', 'skipped', 20])),
    );
    const r = await rt.engine.trigger(retried);
    const rv = await rt.engine.waitForRun(r.runId, { timeoutMs: 30_000 });
    t.is(rv.status, 'succeeded');
    t.deepEqual(rv.steps.flaky.output, { attempt: 2 });
    t.is(rv.steps.flaky.attempts, 2);
    t.is(flaky, 2);

    // Runs are spread over the masters: their keys land on more than one node.
    const nodes = new Set<number>();
    for (const { runId } of runs) {
      const key = rt.keys.run(runId).run;
      const owners: number[] = [];
      for (const port of cluster.ports) {
        const node = new Redis(port, '127.0.0.1');
        try {
          // READONLY-free check: EXISTS on a node that does not own the slot answers MOVED.
          if ((await node.exists(key).catch(() => 0)) === 1) owners.push(port);
        } finally {
          node.disconnect();
        }
      }
      t.is(owners.length, 1, `run ${runId} lives on exactly one node`);
      nodes.add(owners[0]);
      // Every key of the run is in the run's slot.
      const slots = new Set(await Promise.all(rt.keys.runKeyList(runId).map((k) => rt.redis.cluster('KEYSLOT', k))));
      t.is(slots.size, 1);
    }
    t.is(nodes.size, 3, `6 runs spread over ${nodes.size} node(s)`);
    const listed = await rt.engine.listRuns({ pipeline: 'cl-diamond', limit: 10 });
    t.is(listed.length, 6, 'listing runs (a multi-run read) works on the cluster');
    // Retention pruning deletes runs from several nodes and the global indexes.
    const removed = await rt.store.pruneFinished(Date.now() + 60_000);
    t.is(removed, 7);
    t.is(await rt.redis.exists(rt.keys.run(runs[0].runId).run), 0);
    t.deepEqual(await rt.engine.listRuns({ limit: 10 }), []);
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
  t.deepEqual(lines.filter((l) => /CROSSSLOT|slots allocation|MOVED|error/i.test(l)), []);
});

test.serial('CONVEYOR_REDIS_CLUSTER=1 with one seed node: cancel and retry-run on the cluster', async (t) => {
  const lines: string[] = [];
  const rt = await clusterRuntime(lines, { REDIS_URL: `redis://127.0.0.1:${cluster.ports[1]}`, CONVEYOR_REDIS_CLUSTER: '1' });
  t.true((rt.redis as unknown as { isCluster?: boolean }).isCluster === true);
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  let failOnce = true;
  const p = definePipeline({ id: 'cl-ops', defaults: fast })
    .step('wait', async ({ signal, params }) => {
      if ((params as { block?: boolean }).block) {
        started();
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      return { ok: true };
    })
    .step('flaky', { needs: ['wait'] }, async () => {
      if (failOnce) {
        failOnce = false;
        throw new Error('first run fails');
      }
      return { fixed: true };
    });
  const host = await withWorker(rt, [p]);
  try {
    const blocked = await rt.engine.trigger(p, { params: { block: true } });
    await running;
    await rt.engine.cancel(blocked.runId, 'test');
    const cancelled = await rt.engine.waitForRun(blocked.runId, { timeoutMs: 15_000 });
    t.is(cancelled.status, 'cancelled');

    const failing = await rt.engine.trigger(p, { params: {} });
    const failed = await rt.engine.waitForRun(failing.runId, { timeoutMs: 15_000 });
    t.is(failed.status, 'failed');
    t.is(failed.steps.flaky.status, 'failed');
    await rt.engine.retry(failing.runId);
    const retried = await rt.engine.waitForRun(failing.runId, { timeoutMs: 15_000 });
    t.is(retried.status, 'succeeded');
    t.deepEqual(retried.steps.flaky.output, { fixed: true });
  } finally {
    await host.stop(2_000);
    await rt.close();
  }
  t.deepEqual(lines.filter((l) => /CROSSSLOT|slots allocation|MOVED|error/i.test(l)), []);
});

test.serial('the model registry on the cluster: versions, aliases and the model list across slots', async (t) => {
  const lines: string[] = [];
  const rt = await clusterRuntime(lines);
  try {
    // Each model has its own hash tag, so these land on different slots (and likely different nodes).
    for (const name of ['churn', 'iris', 'fraud', 'ltv']) {
      const { version } = await rt.registry.register({ name, artifact: { content: Buffer.from(`model ${name}`), filename: 'm.bin' }, framework: 'test', format: 'bin' });
      await rt.registry.setAlias(name, 'production', version.version, { actor: 'test', reason: 'cluster' });
    }
    const page = await rt.registry.listModels({ limit: 10 });
    t.deepEqual(page.items.map((m) => m.name).sort(), ['churn', 'fraud', 'iris', 'ltv']);
    t.true(page.items.every((m) => m.aliases.production === 1));
    t.deepEqual((await rt.registry.history('iris')).items.map((e) => e.action), ['set']);
    t.deepEqual(lines.filter((l) => /CROSSSLOT|MOVED|slot/i.test(l)), []);
  } finally {
    await rt.close();
  }
});
