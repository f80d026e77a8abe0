import test from 'ava';
import { Redis } from 'ioredis';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { NotFoundError, ValidationError } from '../../src/errors/conveyor-error.ts';
import { backfill, type BackfillProgress } from '../../src/scheduler/backfill.ts';
import type { LaunchRequest, LaunchResult } from '../../src/scheduler/launcher.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { RecordingLauncher } from './helpers.ts';

let server: TestRedis;
let redis: Redis;
let counter = 0;

test.before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
});
test.after.always(async () => {
  redis?.disconnect();
  await server?.destroy();
});

/**
 * An engine stand-in whose runs finish on their own: a run reports `running` the first time it is
 * polled and `succeeded` after that. It records how many runs were unfinished at once.
 */
class SelfFinishingLauncher extends RecordingLauncher {
  maxUnfinished = 0;
  private readonly unfinished = new Set<string>();
  private readonly polled = new Set<string>();

  override async trigger(pipeline: Parameters<RecordingLauncher['trigger']>[0], request: LaunchRequest): Promise<LaunchResult> {
    const result = await super.trigger(pipeline, request);
    if (result.created) {
      this.unfinished.add(request.runId);
      this.maxUnfinished = Math.max(this.maxUnfinished, this.unfinished.size);
    }
    return result;
  }

  override async runStatus(runId: string): Promise<string | undefined> {
    const status = await super.runStatus(runId);
    if (status === undefined || !this.unfinished.has(runId)) return status;
    if (!this.polled.has(runId)) {
      this.polled.add(runId);
      await this.setStatus(runId, 'running');
      return 'running';
    }
    this.unfinished.delete(runId);
    await this.setStatus(runId, 'succeeded');
    return 'succeeded';
  }
}

const pipeline = definePipeline({ id: 'train', schedule: { cron: '0 3 * * *', name: 'nightly', timezone: 'Europe/Berlin', params: { epochs: 2 } } }).step('fit', () => 1);
const from = Date.parse('2026-04-01T00:00:00Z');
const to = Date.parse('2026-04-10T01:00:00Z'); // 03:00 CEST on 2026-04-10 is exactly `to`: included

test.serial('backfill creates one run per tick with its logical time, at most maxParallel unfinished', async (t) => {
  const launcher = new SelfFinishingLauncher(redis, `bf${++counter}`);
  const progress: BackfillProgress[] = [];
  const result = await backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: to, maxParallel: 3, launcher, pollMs: 1, onProgress: (p) => progress.push(p) });
  const days = Array.from({ length: 10 }, (_, i) => String(i + 1).padStart(2, '0'));
  t.deepEqual(result.runIds, days.map((d) => `s.train.nightly.202604${d}T010000Z`));
  t.like(result, { total: 10, created: 10, existing: 0, aborted: false });
  t.deepEqual(await launcher.created(), result.runIds);
  t.true(launcher.maxUnfinished <= 3, `at most 3 unfinished at once, saw ${launcher.maxUnfinished}`);
  t.is(launcher.maxUnfinished, 3, 'the parallelism is used');
  t.deepEqual(await launcher.request('s.train.nightly.20260405T010000Z'), {
    runId: 's.train.nightly.20260405T010000Z',
    params: { epochs: 2 },
    trigger: { type: 'schedule', schedule: 'nightly', tickTime: '2026-04-05T01:00:00.000Z', backfill: true },
    logicalTime: '2026-04-05T01:00:00.000Z',
  });
  t.is(progress.length, 10);
  t.like(progress[9], { total: 10, done: 10, created: 10, existing: 0, tickTime: '2026-04-10T01:00:00.000Z' });
  for (const id of result.runIds) t.is(await launcher.runStatus(id), 'succeeded', `${id} waited for`);
});

test.serial('a repeated backfill is a no-op; an overlapping one creates only the new ticks', async (t) => {
  const launcher = new SelfFinishingLauncher(redis, `bf${++counter}`);
  await backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: to, maxParallel: 2, launcher, pollMs: 1 });
  const again = await backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: to, maxParallel: 2, launcher, pollMs: 1 });
  t.like(again, { total: 10, created: 0, existing: 10 });
  t.is((await launcher.created()).length, 10);
  t.true(Object.values(await launcher.triggers()).every((n) => n === 1), 'no run was triggered twice');

  const wider = await backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: Date.parse('2026-04-12T12:00:00Z'), maxParallel: 2, launcher, pollMs: 1 });
  t.like(wider, { total: 12, created: 2, existing: 10 });
  t.deepEqual((await launcher.created()).slice(10), ['s.train.nightly.20260411T010000Z', 's.train.nightly.20260412T010000Z']);
});

test.serial('a run created concurrently by someone else counts as existing', async (t) => {
  const launcher = new RecordingLauncher(redis, `bf${++counter}`);
  // The live scheduler got there first for 04-02 (same deterministic id).
  await launcher.trigger(pipeline, { runId: 's.train.nightly.20260402T010000Z', params: {}, trigger: { type: 'schedule', schedule: 'nightly', tickTime: '2026-04-02T01:00:00.000Z' }, logicalTime: '2026-04-02T01:00:00.000Z' });
  await launcher.setStatus('s.train.nightly.20260402T010000Z', 'succeeded');
  const result = await backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: Date.parse('2026-04-03T12:00:00Z'), maxParallel: 5, launcher, wait: false });
  t.like(result, { total: 3, created: 2, existing: 1 });
});

test.serial('bad backfill input is rejected with what was expected', async (t) => {
  const launcher = new RecordingLauncher(redis, `bf${++counter}`);
  await t.throwsAsync(() => backfill({ pipeline, schedule: 'hourly', fromMs: from, toMs: to, launcher }), { instanceOf: NotFoundError, message: /schedule of pipeline "train" "hourly" not found \(known: nightly\)/ });
  await t.throwsAsync(() => backfill({ pipeline, schedule: 'nightly', fromMs: to, toMs: from, launcher }), { instanceOf: ValidationError, message: /expected from ≤ to/ });
  await t.throwsAsync(() => backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: to, launcher, maxTicks: 5 }), { instanceOf: ValidationError, message: /holds more than 5 ticks/ });
  await t.throwsAsync(() => backfill({ pipeline, schedule: 'nightly', fromMs: from, toMs: to, launcher, maxParallel: 0 }), { instanceOf: ValidationError });
  t.deepEqual(await launcher.created(), []);
});
