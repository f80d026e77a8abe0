import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import type { ScheduleSpec } from '../../src/dsl/types.ts';
import { ValidationError } from '../../src/errors/conveyor-error.ts';
import { KeySpace } from '../../src/redis/keys.ts';
import { ScheduleStore } from '../../src/redis/schedule-store.ts';
import type { SchedulerEvent } from '../../src/scheduler/events.ts';
import type { LaunchRequest, LaunchResult, RunLauncher } from '../../src/scheduler/launcher.ts';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { RecordingLauncher } from './helpers.ts';

let server: TestRedis;
const clients: Redis[] = [];
let counter = 0;

test.before(async () => {
  server = await startTestRedis();
});
test.after.always(async () => {
  for (const c of clients) c.disconnect();
  await server?.destroy();
});

function client(): Redis {
  const c = new Redis(server.url, { maxRetriesPerRequest: 3 });
  clients.push(c);
  return c;
}

const ms = (iso: string) => Date.parse(iso);
const pipe = (id: string, schedule: ScheduleSpec | ScheduleSpec[]) => definePipeline({ id, schedule }).step('work', () => 1);

/** A fresh key prefix, launcher namespace and event log per test, so tests never see each other's state. */
function setup() {
  const n = ++counter;
  const keys = new KeySpace(`t${n}`);
  const redis = client();
  const launcher = new RecordingLauncher(redis, `launch${n}`);
  const events: SchedulerEvent[] = [];
  const clock = new ManualClock(ms('2026-05-01T09:30:00Z'));
  const make = (pipelines: SchedulerOptions['pipelines'], extra: Partial<SchedulerOptions> = {}) =>
    new Scheduler({ store: new ScheduleStore(client(), keys), pipelines, launcher, clock, logger: silentLogger, intervalMs: 10, onEvent: (e) => events.push(e), ...extra });
  return { keys, redis, launcher, events, clock, make };
}

const ofType = <T extends SchedulerEvent['type']>(events: SchedulerEvent[], type: T) =>
  events.filter((e): e is Extract<SchedulerEvent, { type: T }> => e.type === type);

test.serial('three instances racing on the same ticks launch each tick exactly once', async (t) => {
  const { launcher, events, clock, make } = setup();
  const pipelines = [pipe('etl', [{ cron: '0 * * * *', name: 'hourly', overlap: 'allow' }, { cron: '*/15 * * * *', name: 'quarter', overlap: 'allow' }])];
  const instances = [make(pipelines), make(pipelines), make(pipelines)];
  await Promise.all(instances.map((s) => s.runPass())); // first start: cursor = 09:30, nothing replayed
  for (let step = 1; step <= 12; step++) {
    clock.set(ms('2026-05-01T09:30:00Z') + step * 15 * 60_000 + 1_000);
    await Promise.all(instances.map((s) => s.runPass()));
  }
  const triggers = await launcher.triggers();
  const expectedHourly = ['10', '11', '12'].map((h) => `s.etl.hourly.20260501T${h}0000Z`);
  const expectedQuarter: string[] = [];
  for (let m = 9 * 60 + 45; m <= 12 * 60 + 30; m += 15) expectedQuarter.push(`s.etl.quarter.20260501T${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}00Z`);
  t.deepEqual(Object.keys(triggers).sort(), [...expectedHourly, ...expectedQuarter].sort());
  t.true(Object.values(triggers).every((n) => n === 1), `each run triggered once: ${JSON.stringify(triggers)}`);
  t.is(ofType(events, 'tick-fired').length, expectedHourly.length + expectedQuarter.length);
  const request = await launcher.request('s.etl.hourly.20260501T100000Z');
  t.deepEqual(request, {
    runId: 's.etl.hourly.20260501T100000Z',
    params: {},
    trigger: { type: 'schedule', schedule: 'hourly', tickTime: '2026-05-01T10:00:00.000Z' },
    logicalTime: '2026-05-01T10:00:00.000Z',
  });
});

test.serial('a tick claimed by an instance killed before triggering is launched by a fresh instance', async (t) => {
  const { launcher, events, clock, keys, make, redis } = setup();
  const pipelines = [pipe('etl', { cron: '0 * * * *' })];
  let claimed!: () => void;
  const reachedTrigger = new Promise<void>((resolve) => (claimed = resolve));
  // The doomed instance: its launch never happens (it "dies" with the claim made and nothing launched).
  const dying: RunLauncher = {
    trigger: (): Promise<LaunchResult> => {
      claimed();
      return new Promise(() => {});
    },
    runStatus: async () => undefined,
  };
  const doomed = make(pipelines, { launcher: dying });
  await doomed.runPass();
  clock.set(ms('2026-05-01T10:00:01Z'));
  void doomed.runPass();
  await reachedTrigger;
  const store = new ScheduleStore(redis, keys);
  t.true(await store.isClaimed('etl', '0', ms('2026-05-01T10:00:00Z')), 'the tick is claimed');
  t.deepEqual(await launcher.triggers(), {}, 'no run exists yet');

  const fresh = make(pipelines, { leaseMs: 30_000 });
  await fresh.runPass();
  t.deepEqual(await launcher.triggers(), {}, 'within the lease the claimant is presumed alive');
  clock.set(ms('2026-05-01T10:00:40Z'));
  await fresh.runPass();
  t.deepEqual(await launcher.triggers(), { 's.etl.0.20260501T100000Z': 1 });
  const fired = ofType(events, 'tick-fired');
  t.is(fired.length, 1);
  t.like(fired[0], { runId: 's.etl.0.20260501T100000Z', recovered: true, created: true, latenessMs: 40_000 });
  t.deepEqual((await store.getState('etl', '0')).pending, [], 'nothing left pending');
  await fresh.runPass();
  t.deepEqual(await launcher.triggers(), { 's.etl.0.20260501T100000Z': 1 }, 'no second launch later');
});

test.serial('a scheduler process SIGKILLed between claim and launch: another instance launches the tick', async (t) => {
  const { launcher, events, clock, keys, make, redis } = setup();
  const pipelines = [pipe('etl', { cron: '0 * * * *' })];
  const survivor = make(pipelines);
  await survivor.runPass(); // cursor at 09:30
  const fixture = fileURLToPath(new URL('./fixtures/claim-and-hang.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import=tsx', fixture, server.url, keys.prefix, String(ms('2026-05-01T10:00:01Z'))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('CLAIMED')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before claiming`)));
  });
  child.kill('SIGKILL');
  await exited;
  const store = new ScheduleStore(redis, keys);
  t.deepEqual((await store.getState('etl', '0')).pending, [ms('2026-05-01T10:00:00Z')], 'the dead process left its claim pending');
  clock.set(ms('2026-05-01T10:01:00Z'));
  await survivor.runPass();
  t.deepEqual(await launcher.triggers(), { 's.etl.0.20260501T100000Z': 1 });
  t.like(ofType(events, 'tick-fired')[0], { recovered: true, created: true });
});

test.serial('a launcher failure leaves the tick pending and it is retried after the lease', async (t) => {
  const { launcher, events, clock, make } = setup();
  let failures = 1;
  const flaky: RunLauncher = {
    trigger: async (p, request: LaunchRequest) => {
      if (failures-- > 0) throw new Error('engine unavailable');
      return launcher.trigger(p, request);
    },
    runStatus: (id) => launcher.runStatus(id),
  };
  const s = make([pipe('etl', { cron: '0 * * * *' })], { launcher: flaky, leaseMs: 30_000 });
  await s.runPass();
  clock.set(ms('2026-05-01T10:00:01Z'));
  await s.runPass();
  t.like(ofType(events, 'tick-failed')[0], { tickTime: '2026-05-01T10:00:00.000Z', error: 'engine unavailable' });
  t.deepEqual(await launcher.triggers(), {});
  clock.set(ms('2026-05-01T10:01:00Z'));
  await s.runPass();
  t.deepEqual(await launcher.triggers(), { 's.etl.0.20260501T100000Z': 1 });
});

test.serial('catch-up policies after a downtime: none drops, latest fires the newest, all replays the window', async (t) => {
  const { launcher, events, clock, make } = setup();
  const s = make([
    pipe('none', { cron: '0 * * * *', catchup: 'none' }),
    pipe('latest', { cron: '0 * * * *', catchup: 'latest' }),
    pipe('all', { cron: '0 * * * *', catchup: 'all', catchupWindow: '4h', overlap: 'allow' }),
  ]);
  await s.runPass(); // 09:30 first start
  clock.set(ms('2026-05-01T10:00:02Z'));
  await s.runPass();
  t.deepEqual((await launcher.created()).sort(), ['s.all.0.20260501T100000Z', 's.latest.0.20260501T100000Z', 's.none.0.20260501T100000Z']);
  for (const id of await launcher.created()) await launcher.setStatus(id, 'succeeded');

  // Down from 10:00:02 until 15:20: ticks 11:00..15:00 were missed.
  clock.set(ms('2026-05-01T15:20:00Z'));
  events.length = 0;
  await s.runPass();
  const created = await launcher.created();
  t.deepEqual(created.filter((id) => id.startsWith('s.none.')), ['s.none.0.20260501T100000Z'], 'none: nothing old fires');
  t.deepEqual(created.filter((id) => id.startsWith('s.latest.')), ['s.latest.0.20260501T100000Z', 's.latest.0.20260501T150000Z']);
  t.deepEqual(created.filter((id) => id.startsWith('s.all.')), ['10', '12', '13', '14', '15'].map((h) => `s.all.0.20260501T${h}0000Z`), 'all: 4h window → 12:00..15:00');
  const caughtUp = ofType(events, 'tick-caught-up');
  t.like(caughtUp.find((e) => e.pipeline === 'none'), { policy: 'none', fired: 0, skipped: 5 });
  t.like(caughtUp.find((e) => e.pipeline === 'latest'), { policy: 'latest', fired: 1, skipped: 4 });
  t.like(caughtUp.find((e) => e.pipeline === 'all'), { policy: 'all', fired: 4, skipped: 1, fromTime: '2026-05-01T11:00:00.000Z', toTime: '2026-05-01T15:00:00.000Z' });
  t.true(ofType(events, 'tick-fired').every((e) => e.catchup), 'catch-up launches are marked');
  t.is(ofType(events, 'tick-skipped').filter((e) => e.reason === 'missed').length, 5 + 4 + 1);

  // Back to normal: 16:00 fires once for each.
  for (const id of await launcher.created()) await launcher.setStatus(id, 'succeeded');
  clock.set(ms('2026-05-01T16:00:01Z'));
  await s.runPass();
  t.is((await launcher.created()).filter((id) => id.endsWith('T160000Z')).length, 3);
});

test.serial('a restart after downtime with no cursor (first start) replays nothing', async (t) => {
  const { launcher, clock, make } = setup();
  clock.set(ms('2026-05-01T15:20:00Z'));
  const s = make([pipe('etl', { cron: '0 * * * *', catchup: 'all' })]);
  await s.runPass();
  t.deepEqual(await launcher.triggers(), {});
  clock.set(ms('2026-05-01T16:00:01Z'));
  await s.runPass();
  t.deepEqual(Object.keys(await launcher.triggers()), ['s.etl.0.20260501T160000Z']);
});

test.serial('overlap skip: a tick is dropped while the previous run is queued or running', async (t) => {
  const { launcher, events, clock, make } = setup();
  const s = make([pipe('etl', { cron: '0 * * * *' })]);
  await s.runPass();
  clock.set(ms('2026-05-01T10:00:01Z'));
  await s.runPass();
  await launcher.setStatus('s.etl.0.20260501T100000Z', 'running');
  clock.set(ms('2026-05-01T11:00:01Z'));
  await s.runPass();
  t.deepEqual(await launcher.created(), ['s.etl.0.20260501T100000Z']);
  t.like(ofType(events, 'tick-skipped')[0], { reason: 'overlap', tickTime: '2026-05-01T11:00:00.000Z', activeRunId: 's.etl.0.20260501T100000Z' });
  await launcher.setStatus('s.etl.0.20260501T100000Z', 'failed');
  clock.set(ms('2026-05-01T12:00:01Z'));
  await s.runPass();
  t.deepEqual(await launcher.created(), ['s.etl.0.20260501T100000Z', 's.etl.0.20260501T120000Z']);
});

test.serial('overlap queue: a tick waits for the previous run and then runs, in order', async (t) => {
  const { launcher, events, clock, make } = setup();
  const s = make([pipe('etl', { cron: '0 * * * *', overlap: 'queue' })]);
  await s.runPass();
  for (const h of ['10', '11', '12']) {
    clock.set(ms(`2026-05-01T${h}:00:01Z`));
    await s.runPass();
  }
  t.deepEqual(await launcher.created(), ['s.etl.0.20260501T100000Z']);
  t.deepEqual(ofType(events, 'tick-queued').map((e) => e.tickTime), ['2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z']);
  await launcher.setStatus('s.etl.0.20260501T100000Z', 'succeeded');
  clock.advance(60_000);
  await s.runPass();
  t.deepEqual(await launcher.created(), ['s.etl.0.20260501T100000Z', 's.etl.0.20260501T110000Z']);
  await s.runPass();
  t.is((await launcher.created()).length, 2, 'the 12:00 tick still waits for the 11:00 run');
  await launcher.setStatus('s.etl.0.20260501T110000Z', 'succeeded');
  await s.runPass();
  t.deepEqual(await launcher.created(), ['s.etl.0.20260501T100000Z', 's.etl.0.20260501T110000Z', 's.etl.0.20260501T120000Z']);
});

test.serial('pause and resume per pipeline: paused ticks are dropped, not replayed', async (t) => {
  const { launcher, events, clock, make } = setup();
  const s = make([pipe('etl', { cron: '0 * * * *', catchup: 'latest' }), pipe('other', { cron: '0 * * * *' })]);
  await s.runPass();
  await s.pause('etl');
  t.true(await s.isPaused('etl'));
  t.false(await s.isPaused('other'));
  clock.set(ms('2026-05-01T10:00:01Z'));
  await s.runPass();
  t.deepEqual(await launcher.created(), ['s.other.0.20260501T100000Z']);
  t.like(ofType(events, 'tick-skipped')[0], { pipeline: 'etl', reason: 'paused', tickTime: '2026-05-01T10:00:00.000Z' });
  await s.resume('etl');
  clock.set(ms('2026-05-01T10:30:00Z'));
  await s.runPass();
  t.false((await launcher.created()).includes('s.etl.0.20260501T100000Z'), 'resume does not replay the paused tick');
  clock.set(ms('2026-05-01T11:00:01Z'));
  for (const id of await launcher.created()) await launcher.setStatus(id, 'succeeded');
  await s.runPass();
  t.true((await launcher.created()).includes('s.etl.0.20260501T110000Z'));
  await t.throwsAsync(() => s.pause('nope'), { message: /pipeline "nope" not found \(known: etl, other\)/ });
});

test.serial('invalid schedules are rejected before anything is written', async (t) => {
  const { make, redis, keys } = setup();
  const error = t.throws(() => make([pipe('good', { cron: '0 3 * * *' }), pipe('bad', [{ cron: '0 3 * * *', timezone: 'Mars/Olympus', name: 'nightly' }, { cron: '99 * * * *', name: 'hourly' }])]), {
    instanceOf: ValidationError,
  });
  t.regex(error!.message, /pipeline "bad": schedule "nightly": unknown time zone "Mars\/Olympus"/);
  t.regex(error!.message, /pipeline "bad": schedule "hourly": invalid cron "99 \* \* \* \*"/);
  t.deepEqual(await redis.keys(`${keys.prefix}:*`), []);
});

test.serial('status lists each schedule with its description, next ticks and last run', async (t) => {
  const { clock, make, launcher } = setup();
  const s = make([pipe('etl', { cron: '0 3 * * *', timezone: 'Europe/Berlin', name: 'nightly' })]);
  await s.runPass();
  clock.set(ms('2026-05-02T01:00:01Z')); // 03:00 CEST
  await s.runPass();
  t.deepEqual(await launcher.created(), ['s.etl.nightly.20260502T010000Z']);
  const [status] = await s.status(2);
  t.like(status, {
    pipeline: 'etl',
    schedule: 'nightly',
    description: 'at 03:00 every day (Europe/Berlin)',
    paused: false,
    lastTickTime: '2026-05-02T01:00:00.000Z',
    lastRunId: 's.etl.nightly.20260502T010000Z',
    pending: 0,
    queued: 0,
  });
  t.deepEqual(status.nextTicks, ['2026-05-03T01:00:00.000Z', '2026-05-04T01:00:00.000Z']);
});

test.serial('start() runs passes until stop()', async (t) => {
  const { launcher, clock, make } = setup();
  let fired!: () => void;
  const firedOnce = new Promise<void>((resolve) => (fired = resolve));
  const s = make([pipe('etl', { cron: '0 * * * *' })], { onEvent: (e) => e.type === 'tick-fired' && fired() });
  await s.runPass();
  clock.set(ms('2026-05-01T10:00:01Z'));
  s.start();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([firedOnce, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no tick fired within 10 s of start()')), 10_000)))]);
  clearTimeout(timer);
  await s.stop();
  t.deepEqual(await launcher.created(), ['s.etl.0.20260501T100000Z']);
});
