import test from 'ava';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { ValidationError } from '../../src/errors/conveyor-error.ts';
import {
  describeCron,
  latestTickAtOrBefore,
  nextTicks,
  planTicks,
  resolveSchedule,
  ticksBetween,
  validateSchedules,
  type ResolvedSchedule,
} from '../../src/scheduler/cron.ts';

const ms = (iso: string) => Date.parse(iso);
const iso = (list: number[]) => list.map((t) => new Date(t).toISOString());
const MIN = 60_000;

function sched(cron: string, extra: Partial<Parameters<typeof resolveSchedule>[1]> = {}): ResolvedSchedule {
  return resolveSchedule('etl', { cron, name: 'nightly', ...extra });
}

// ---- DST: Europe/Berlin, 30 2 * * * ----

test('spring forward: 02:30 does not exist on 2026-03-29, the job runs once that day at 03:30 CEST', (t) => {
  const s = sched('30 2 * * *', { timezone: 'Europe/Berlin' });
  const ticks = ticksBetween(s, ms('2026-03-27T00:00:00Z'), ms('2026-03-31T00:00:00Z'), 100);
  t.deepEqual(iso(ticks), [
    '2026-03-27T01:30:00.000Z', // 02:30 CET
    '2026-03-28T01:30:00.000Z', // 02:30 CET
    '2026-03-29T01:30:00.000Z', // 03:30 CEST: moved forward by the one-hour gap
    '2026-03-30T00:30:00.000Z', // 02:30 CEST
  ]);
});

test('spring forward: the answer for that day does not depend on where the window starts', (t) => {
  const s = sched('30 2 * * *', { timezone: 'Europe/Berlin' });
  const moved = ms('2026-03-29T01:30:00Z');
  for (let from = ms('2026-03-28T22:00:00Z'); from <= ms('2026-03-29T02:00:00Z'); from += 5 * MIN) {
    const sameDay = ticksBetween(s, from, ms('2026-03-29T21:00:00Z'), 10);
    t.deepEqual(iso(sameDay), from < moved ? ['2026-03-29T01:30:00.000Z'] : [], `window starting ${new Date(from).toISOString()}`);
  }
});

test('fall back: 02:30 happens twice on 2026-10-25, the job fires once (first occurrence, CEST)', (t) => {
  const s = sched('30 2 * * *', { timezone: 'Europe/Berlin' });
  const ticks = ticksBetween(s, ms('2026-10-24T00:00:00Z'), ms('2026-10-27T00:00:00Z'), 100);
  t.deepEqual(iso(ticks), ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  const first = ms('2026-10-25T00:30:00Z');
  for (let from = ms('2026-10-24T22:00:00Z'); from <= ms('2026-10-25T02:30:00Z'); from += 5 * MIN) {
    const sameDay = ticksBetween(s, from, ms('2026-10-25T22:00:00Z'), 10);
    t.deepEqual(iso(sameDay), from < first ? ['2026-10-25T00:30:00.000Z'] : [], `window starting ${new Date(from).toISOString()}`);
  }
});

test('fall back: the scheduler plan fires the 02:30 tick once across passes every minute of the night', (t) => {
  const s = sched('30 2 * * *', { timezone: 'Europe/Berlin' });
  let cursor: number | undefined = ms('2026-10-24T20:00:00Z');
  const fired: number[] = [];
  for (let now = ms('2026-10-24T21:00:00Z'); now <= ms('2026-10-25T05:00:00Z'); now += MIN) {
    const plan = planTicks({ schedule: s, lastTickMs: cursor, nowMs: now });
    fired.push(...plan.fire);
    cursor = plan.cursorMs;
  }
  t.deepEqual(iso(fired), ['2026-10-25T00:30:00.000Z']);
});

test('spring forward: the scheduler plan fires exactly one run on 2026-03-29 across passes every minute', (t) => {
  const s = sched('30 2 * * *', { timezone: 'Europe/Berlin', catchup: 'none' });
  let cursor: number | undefined = ms('2026-03-28T20:00:00Z');
  const fired: number[] = [];
  for (let now = ms('2026-03-28T21:00:00Z'); now <= ms('2026-03-29T06:00:00Z'); now += MIN) {
    const plan = planTicks({ schedule: s, lastTickMs: cursor, nowMs: now });
    fired.push(...plan.fire);
    cursor = plan.cursorMs;
  }
  t.deepEqual(iso(fired), ['2026-03-29T01:30:00.000Z']);
});

test('latestTickAtOrBefore finds the moved spring-forward tick that cron-parser prev() skips', (t) => {
  const s = sched('30 2 * * *', { timezone: 'Europe/Berlin' });
  t.is(latestTickAtOrBefore(s, ms('2026-03-29T12:00:00Z'), 0), ms('2026-03-29T01:30:00Z'));
  t.is(latestTickAtOrBefore(s, ms('2026-10-25T12:00:00Z'), 0), ms('2026-10-25T00:30:00Z'));
});

// ---- nextTicks in a zone ----

test('nextTicks reads the expression in the schedule zone and follows its DST change', (t) => {
  const s = sched('0 9 * * 1-5', { timezone: 'America/New_York' });
  // Fri 2026-03-06 (EST, UTC-5), then DST starts Sun 2026-03-08 (EDT, UTC-4).
  t.deepEqual(iso(nextTicks(s, ms('2026-03-06T00:00:00Z'), 3)), [
    '2026-03-06T14:00:00.000Z',
    '2026-03-09T13:00:00.000Z',
    '2026-03-10T13:00:00.000Z',
  ]);
  t.deepEqual(iso(nextTicks(sched('0 9 * * 1-5'), ms('2026-03-06T00:00:00Z'), 1)), ['2026-03-06T09:00:00.000Z'], 'UTC by default');
});

// ---- catch-up planning after downtime (hourly, UTC; last handled tick 10:00) ----

const hourly = (extra: Partial<Parameters<typeof resolveSchedule>[1]> = {}) => sched('0 * * * *', extra);
const last = ms('2026-05-01T10:00:00Z');

test('first start never replays history: nothing fires and the cursor is now', (t) => {
  const now = ms('2026-05-01T15:00:00Z');
  for (const catchup of ['none', 'latest', 'all'] as const) {
    const plan = planTicks({ schedule: hourly({ catchup }), lastTickMs: undefined, nowMs: now });
    t.deepEqual(plan.fire, [], catchup);
    t.true(plan.initial);
    t.is(plan.cursorMs, now);
  }
});

test('catchup none: a tick noticed within the grace fires; after a downtime nothing old fires', (t) => {
  const onTime = planTicks({ schedule: hourly({ catchup: 'none' }), lastTickMs: last, nowMs: ms('2026-05-01T15:03:00Z') });
  t.deepEqual(iso(onTime.fire), ['2026-05-01T15:00:00.000Z']);
  t.is(onTime.skipped.length, 4, '11:00..14:00 dropped');
  const late = planTicks({ schedule: hourly({ catchup: 'none' }), lastTickMs: last, nowMs: ms('2026-05-01T15:20:00Z') });
  t.deepEqual(late.fire, []);
  t.deepEqual(iso(late.skipped), ['2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z', '2026-05-01T13:00:00.000Z', '2026-05-01T14:00:00.000Z', '2026-05-01T15:00:00.000Z']);
  t.is(late.cursorMs, ms('2026-05-01T15:00:00Z'), 'dropped ticks are handled: they never come back');
});

test('catchup none: the grace is capped by the period of an every-minute schedule', (t) => {
  const s = sched('* * * * *', { catchup: 'none' });
  const base = ms('2026-05-01T10:00:00Z');
  t.deepEqual(planTicks({ schedule: s, lastTickMs: base, nowMs: base + MIN + 30_000 }).fire, [base + MIN]);
  t.deepEqual(planTicks({ schedule: s, lastTickMs: base, nowMs: base + 3 * MIN + 30_000 }).fire, [base + 3 * MIN]);
});

test('catchup latest: only the most recent missed tick fires', (t) => {
  const plan = planTicks({ schedule: hourly({ catchup: 'latest' }), lastTickMs: last, nowMs: ms('2026-05-01T15:20:00Z') });
  t.deepEqual(iso(plan.fire), ['2026-05-01T15:00:00.000Z']);
  t.is(plan.skipped.length, 4);
  t.is(plan.cursorMs, ms('2026-05-01T15:00:00Z'));
  const daily = sched('0 3 * * *', { catchup: 'latest', catchupWindow: '6h' });
  const tooOld = planTicks({ schedule: daily, lastTickMs: ms('2026-05-01T03:00:00Z'), nowMs: ms('2026-05-03T12:00:00Z') });
  t.deepEqual(tooOld.fire, [], 'the latest tick is 9h old, outside the 6h window');
});

test('catchup all: every missed tick inside the window, oldest first; older ones dropped', (t) => {
  const all = planTicks({ schedule: hourly({ catchup: 'all' }), lastTickMs: last, nowMs: ms('2026-05-01T15:20:00Z') });
  t.deepEqual(iso(all.fire), ['11', '12', '13', '14', '15'].map((h) => `2026-05-01T${h}:00:00.000Z`));
  const windowed = planTicks({ schedule: hourly({ catchup: 'all', catchupWindow: '2h' }), lastTickMs: last, nowMs: ms('2026-05-01T15:20:00Z') });
  t.deepEqual(iso(windowed.fire), ['2026-05-01T14:00:00.000Z', '2026-05-01T15:00:00.000Z']);
  t.deepEqual(iso(windowed.skipped), ['2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z', '2026-05-01T13:00:00.000Z']);
});

test('catchup all: a plan is bounded; the cursor stops at the last fired tick so the rest follow', (t) => {
  const plan = planTicks({ schedule: hourly({ catchup: 'all' }), lastTickMs: last, nowMs: ms('2026-05-01T15:20:00Z'), limit: 2 });
  t.deepEqual(iso(plan.fire), ['2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z']);
  t.true(plan.truncated);
  t.is(plan.cursorMs, ms('2026-05-01T12:00:00Z'));
  const rest = planTicks({ schedule: hourly({ catchup: 'all' }), lastTickMs: plan.cursorMs, nowMs: ms('2026-05-01T15:20:00Z'), limit: 2 });
  t.deepEqual(iso(rest.fire), ['2026-05-01T13:00:00.000Z', '2026-05-01T14:00:00.000Z']);
});

test('nothing due: the cursor stays and nothing fires', (t) => {
  const plan = planTicks({ schedule: hourly(), lastTickMs: last, nowMs: last + 30 * MIN });
  t.deepEqual(plan.fire, []);
  t.is(plan.cursorMs, last);
});

// ---- validation ----

test('invalid cron expression: the error names pipeline, schedule and the problem', (t) => {
  const p = definePipeline({ id: 'churn', schedule: [{ cron: '0 3 * * *' }, { cron: '61 * * * *', name: 'hourly' }] });
  const error = t.throws(() => validateSchedules(p.spec), { instanceOf: ValidationError });
  t.regex(error!.message, /pipeline "churn": schedule "hourly": invalid cron "61 \* \* \* \*": .*61/);
  t.is(error!.code, 'VALIDATION');
});

test('wrong number of cron fields is rejected (cron-parser alone would accept 4)', (t) => {
  const error = t.throws(() => resolveSchedule('churn', { cron: '* * * *', name: 'x' }), { instanceOf: ValidationError });
  t.regex(error!.message, /schedule "x": invalid cron "\* \* \* \*": expected 5 fields .* found 4/);
});

test('unknown IANA zone is rejected with the zone named', (t) => {
  const p = definePipeline({ id: 'churn', schedule: { cron: '0 3 * * *', timezone: 'Europe/Berln' } });
  const error = t.throws(() => validateSchedules(p.spec), { instanceOf: ValidationError });
  t.regex(error!.message, /pipeline "churn": schedule "0": unknown time zone "Europe\/Berln"/);
});

test('bad catchupWindow and duplicate names are reported together', (t) => {
  const p = definePipeline({ id: 'churn', schedule: [{ cron: '0 3 * * *', name: 'a', catchupWindow: 'two days' }, { cron: '0 4 * * *', name: 'a' }] });
  const error = t.throws(() => validateSchedules(p.spec), { instanceOf: ValidationError });
  t.is(error!.issues.length, 2);
  t.regex(error!.issues[0], /invalid catchupWindow "two days"/);
  t.regex(error!.issues[1], /duplicate schedule name/);
});

test('valid schedules resolve with documented defaults', (t) => {
  const p = definePipeline({ id: 'churn', schedule: { cron: '0 3 * * *', params: { limit: 5 } } });
  const [s] = validateSchedules(p.spec);
  t.deepEqual(s, { pipelineId: 'churn', name: '0', cron: '0 3 * * *', timezone: 'UTC', catchup: 'latest', catchupWindowMs: undefined, overlap: 'skip', params: { limit: 5 } });
  t.is(resolveSchedule('x', { cron: '0 * * * *', catchup: 'all' }).catchupWindowMs, 86_400_000);
});

test('describeCron gives short descriptions of common forms and falls back to the expression', (t) => {
  t.is(describeCron('0 3 * * *'), 'at 03:00 every day');
  t.is(describeCron('@daily'), 'at 00:00 every day');
  t.is(describeCron('*/15 * * * *'), 'every 15 minutes');
  t.is(describeCron('* * * * *'), 'every minute');
  t.is(describeCron('0 * * * *'), 'every hour');
  t.is(describeCron('30 9 * * 1-5'), 'at 09:30 on Monday–Friday');
  t.is(describeCron('0 6 1 * *'), 'at 06:00 on day 1 of every month');
  t.is(describeCron('0 0 1 1 *'), 'at 00:00 on January 1');
  t.is(describeCron('5 4 * * 0,3'), 'at 04:05 on Sunday, Wednesday');
  t.is(describeCron('0 0 L * *'), 'cron "0 0 L * *"');
});

test('the nearest-weekday "W" is refused with a clear message; day-of-month and day-of-week together follow the OR rule', (t) => {
  for (const cron of ['0 9 15W * *', '0 9 LW * *', '0 0 9 1W * *']) {
    const error = t.throws(() => sched(cron), { instanceOf: ValidationError });
    t.regex(error!.message, /nearest-weekday "W" in the day-of-month field .* is not supported/, cron);
  }
  // 1st of the month OR Monday (Vixie cron): Thu 2026-01-01 and the Mondays after it.
  t.deepEqual(iso(nextTicks(sched('0 0 1 * 1'), ms('2025-12-31T12:00:00Z'), 3)), [
    '2026-01-01T00:00:00.000Z',
    '2026-01-05T00:00:00.000Z',
    '2026-01-12T00:00:00.000Z',
  ]);
});
