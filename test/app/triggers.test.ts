import test from 'ava';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { definePipeline } from '../../src/index.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { ScheduleStore } from '../../src/redis/schedule-store.ts';
import { engineLauncher } from '../../src/app/launcher.ts';
import { EventTriggers } from '../../src/app/event-triggers.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

test('three schedulers on the real engine: exactly one run per tick, with its logical time', async (t) => {
  const hourly = definePipeline({ id: 'hourly', schedule: { cron: '0 * * * *', timezone: 'UTC', catchup: 'all', catchupWindow: '1d', overlap: 'allow', name: 'h' } })
    .step('report', async ({ run }) => ({ logicalTime: run.logicalTime }));
  const rt = await testRuntime(redis);
  const host = await withWorker(rt, [hourly]);
  const clock = new ManualClock(Date.parse('2026-11-26T10:30:00Z'));
  const schedulers = [1, 2, 3].map(() => new Scheduler({ store: new ScheduleStore(rt.redis, rt.keys), pipelines: [hourly], launcher: engineLauncher(rt), clock, logger: silentLogger }));
  try {
    await Promise.all(schedulers.map((s) => s.runPass())); // first start: remembers "now", replays nothing
    clock.set(Date.parse('2026-11-26T13:00:30Z')); // 11:00, 12:00, 13:00 are due
    await Promise.all(schedulers.map((s) => s.runPass()));
    await Promise.all(schedulers.map((s) => s.runPass()));
    const runs = await rt.engine.listRuns({ pipeline: 'hourly', limit: 50 });
    t.deepEqual(runs.map((r) => r.logicalTime).sort(), ['2026-11-26T11:00:00.000Z', '2026-11-26T12:00:00.000Z', '2026-11-26T13:00:00.000Z']);
    for (const run of runs) {
      const view = await rt.engine.waitForRun(run.id, { timeoutMs: 15_000 });
      t.is(view.status, 'succeeded');
      t.deepEqual(view.steps.report.output, { logicalTime: run.logicalTime });
      t.is(view.trigger.type, 'schedule');
    }
  } finally {
    await Promise.all(schedulers.map((s) => s.stop()));
    await host.stop(1_000);
    await rt.close();
  }
});

test('event triggers: onSucceeded, an external event (idempotent by key) and a model alias move', async (t) => {
  const upstream = definePipeline({ id: 'train' }).step('fit', async () => ({ ok: true }));
  const downstream = definePipeline({ id: 'after-train', triggers: [{ onSucceeded: 'train' }] }).step('go', async ({ run }) => ({ trigger: run.trigger }));
  const onData = definePipeline({ id: 'on-data', triggers: [{ event: 'data-landed', params: {} }] }).step('go', async ({ run }) => ({ trigger: run.trigger }));
  const onAlias = definePipeline({ id: 'on-promote', triggers: [{ onModelAlias: { model: 'iris', alias: 'production' } }] }).step('go', async ({ run }) => ({ trigger: run.trigger }));
  const all = [upstream, downstream, onData, onAlias];
  const rt = await testRuntime(redis);
  const triggers = new EventTriggers(rt, all);
  rt.onEngineEvent(triggers.onEngineEvent);
  const host = await withWorker(rt, all);
  try {
    const { runId } = await rt.engine.trigger(upstream);
    await rt.engine.waitForRun(runId, { timeoutMs: 15_000 });
    const chained = await waitForRunsOf(rt, 'after-train', 1);
    const view = await rt.engine.waitForRun(chained[0], { timeoutMs: 15_000 });
    t.is(view.status, 'succeeded');
    t.like(view.steps.go.output, { trigger: { type: 'event', upstreamRunId: runId } });

    const first = await triggers.fireEvent('data-landed', { file: 's3://bucket/day.csv' }, 'day-1');
    const again = await triggers.fireEvent('data-landed', { file: 's3://bucket/day.csv' }, 'day-1');
    t.deepEqual([first.length, first[0].created, again[0].created], [1, true, false]);
    t.is(first[0].runId, again[0].runId);
    const dataRun = await rt.engine.waitForRun(first[0].runId, { timeoutMs: 15_000 });
    t.like(dataRun.steps.go.output, { trigger: { event: 'data-landed', data: { file: 's3://bucket/day.csv' } } });
    t.deepEqual(await triggers.fireEvent('nobody-listens', {}), []);

    const unsubscribe = await rt.registry.subscribe(triggers.onAliasMoved);
    const registered = await registerTinyModel(rt);
    await rt.registry.setAlias('iris', 'production', registered, { actor: 'test', reason: 'first' });
    const promoted = await waitForRunsOf(rt, 'on-promote', 1);
    const promoteRun = await rt.engine.waitForRun(promoted[0], { timeoutMs: 15_000 });
    t.like(promoteRun.steps.go.output, { trigger: { event: 'model-alias:iris:production', data: { from: null, to: registered } } });
    await unsubscribe();
  } finally {
    await host.stop(1_000);
    await rt.close();
  }
});

async function registerTinyModel(rt: Awaited<ReturnType<typeof testRuntime>>): Promise<number> {
  const { version } = await rt.registry.register({
    name: 'iris', artifact: { content: Buffer.from(JSON.stringify({ weights: [1, 2, 3] })), filename: 'model.json' },
    framework: 'test', format: 'json', metrics: { accuracy: 0.9 },
  });
  return version.version;
}

async function waitForRunsOf(rt: Awaited<ReturnType<typeof testRuntime>>, pipeline: string, n: number): Promise<string[]> {
  for (let i = 0; i < 150; i++) {
    const runs = await rt.engine.listRuns({ pipeline, limit: 10 });
    if (runs.length >= n) return runs.map((r) => r.id);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no run of ${pipeline} appeared`);
}

test('clock skew: three schedulers whose clocks disagree by seconds still make exactly one run per tick', async (t) => {
  const minutely = definePipeline({ id: 'skewed', schedule: { cron: '* * * * *', timezone: 'UTC', catchup: 'all', catchupWindow: '1h', overlap: 'allow', name: 'm' } })
    .step('tick', async ({ run }) => ({ logicalTime: run.logicalTime }));
  const rt = await testRuntime(redis);
  const base = Date.parse('2026-11-26T10:00:30Z');
  const skews = [-2_000, 0, 3_500];
  const clocks = skews.map((skew) => new ManualClock(base + skew));
  const schedulers = clocks.map((clock) => new Scheduler({ store: new ScheduleStore(rt.redis, rt.keys), pipelines: [minutely], launcher: engineLauncher(rt), clock, logger: silentLogger }));
  try {
    await Promise.all(schedulers.map((s) => s.runPass()));
    // Five minutes pass, in 20-second steps; each scheduler ticks with its own (skewed) view of now.
    for (let elapsed = 20_000; elapsed <= 300_000; elapsed += 20_000) {
      clocks.forEach((clock, i) => clock.set(base + skews[i] + elapsed));
      await Promise.all(schedulers.map((s) => s.runPass()));
    }
    const runs = await rt.engine.listRuns({ pipeline: 'skewed', limit: 100 });
    const ticks = runs.map((r) => r.logicalTime).sort();
    t.deepEqual(ticks, [...new Set(ticks)], 'no tick has two runs');
    t.true(ticks.length >= 5 && ticks.length <= 6, `one run per minute: ${ticks.join(', ')}`);
    t.true(ticks.every((iso) => iso.endsWith(':00.000Z')), 'logical times are the ticks themselves, whichever clock fired them');
  } finally {
    await Promise.all(schedulers.map((s) => s.stop()));
    await rt.close();
  }
});
