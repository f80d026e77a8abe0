import test from 'ava';
import { Cron } from 'croner';
import { nextTicks, resolveSchedule, ticksBetween, type ResolvedSchedule } from '../../src/scheduler/cron.ts';

/**
 * Property test of the DST rules of src/scheduler/cron.ts over every zone this runtime knows and every
 * offset change in two years. The expected ticks come from this file's own arithmetic (the offsets on
 * either side of a transition, found by bisection with Intl), and, where its conventions agree, from
 * croner, an independent cron implementation.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2026, 0, 1);
const TO = Date.UTC(2028, 0, 1);
/** Sampling step for offset changes; no zone changes its offset twice within a week in these years. */
const SAMPLE = 7 * DAY;

const offsetFormat = new Map<string, Intl.DateTimeFormat>();
/** Offset in ms from Intl's "GMT+10:30" label (independent of how src/ computes offsets). */
function offsetOf(tz: string, ms: number): number {
  let f = offsetFormat.get(tz);
  if (!f) offsetFormat.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })));
  const label = f.format(ms).split(' ').pop()!;
  const m = /^GMT(?:([+-])(\d\d):(\d\d)(?::(\d\d))?)?$/.exec(label);
  if (!m) throw new Error(`unexpected offset label "${label}" for ${tz}`);
  if (!m[1]) return 0;
  return (m[1] === '-' ? -1 : 1) * ((Number(m[2]) * 60 + Number(m[3])) * MIN + Number(m[4] ?? 0) * 1000);
}

interface Transition {
  tz: string;
  /** First instant with the new offset. */
  at: number;
  before: number;
  after: number;
}

function transitions(tz: string): Transition[] {
  const found: Transition[] = [];
  let prev = offsetOf(tz, FROM);
  for (let t = FROM + SAMPLE; t <= TO; t += SAMPLE) {
    const cur = offsetOf(tz, t);
    if (cur === prev) continue;
    let lo = t - SAMPLE; // offset prev at lo, cur at hi
    let hi = t;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (offsetOf(tz, mid) === prev) lo = mid;
      else hi = mid;
    }
    found.push({ tz, at: hi, before: prev, after: cur });
    prev = cur;
  }
  return found;
}

const zones = Intl.supportedValuesOf('timeZone');
const all = zones.flatMap(transitions);

/** Local wall time (as UTC ms) of an instant near a transition. */
const localOf = (tr: Transition, ms: number) => ms + (ms < tr.at ? tr.before : tr.after);
const iso = (list: number[]) => list.map((t) => new Date(t).toISOString());
const resolved = new Map<string, ResolvedSchedule>();
function sched(cron: string, timezone: string): ResolvedSchedule {
  const key = `${cron}@${timezone}`;
  if (!resolved.has(key)) resolved.set(key, resolveSchedule('p', { cron, timezone, name: 's' }));
  return resolved.get(key)!;
}

test('the zone list and transitions are real (the properties below are not vacuous)', (t) => {
  t.true(zones.length > 300, `${zones.length} zones`);
  t.true(all.length > 300, `${all.length} transitions`);
  t.true(all.some((tr) => tr.tz === 'Australia/Lord_Howe' && tr.after - tr.before === 30 * MIN), 'Lord Howe 30-minute change');
  t.true(all.some((tr) => tr.tz === 'Pacific/Chatham' && tr.before % HOUR === 45 * MIN), 'Chatham: DST in a 45-minute zone');
});

const INTERVALS: Array<[cron: string, matches: (wall: Date) => boolean]> = [
  ['*/15 * * * *', (w) => w.getUTCMinutes() % 15 === 0],
  ['45 * * * *', (w) => w.getUTCMinutes() === 45],
];

test('hour field "*": ticks are exactly the instants whose local time matches, around every transition of every zone', (t) => {
  const failures: string[] = [];
  for (const tr of all) {
    const from = tr.at - 2 * HOUR;
    const to = tr.at + 2 * HOUR;
    for (const [cron, matches] of INTERVALS) {
      const expected: number[] = [];
      for (let x = from + MIN; x <= to; x += MIN) if (matches(new Date(localOf(tr, x)))) expected.push(x);
      const actual = ticksBetween(sched(cron, tr.tz), from, to, 1_000);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        failures.push(`${tr.tz} ${new Date(tr.at).toISOString()} "${cron}": expected ${iso(expected).join(',')} got ${iso(actual).join(',')}`);
      }
    }
  }
  t.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${all.length * INTERVALS.length} cases differ`);
});

/** The local wall times around a transition that are missing or repeated: first, middle, last minute. */
function affectedWalls(tr: Transition): number[] {
  const start = tr.at + Math.min(tr.before, tr.after);
  const end = tr.at + Math.max(tr.before, tr.after);
  const mid = start + Math.floor((end - start) / 2 / MIN) * MIN;
  return [...new Set([start, mid, end - MIN])];
}

/** What a fixed-time schedule must do for a wall time near a transition (the documented rules). */
function expectedFixed(tr: Transition, wall: number): number {
  const copies = [wall - tr.before, wall - tr.after].filter((x) => localOf(tr, x) === wall).sort((a, b) => a - b);
  return copies.length ? copies[0] : wall - tr.before; // missing: moved forward by the gap
}

test('fixed-time schedules fire exactly once per local day across every transition of every zone', (t) => {
  const failures: string[] = [];
  for (const tr of all) {
    for (const affected of affectedWalls(tr)) {
      const d = new Date(affected);
      const cron = `${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
      const dayStart = affected - (affected % DAY);
      // The same local time one day before, on the day of the change, and one day after.
      const expected = [dayStart - DAY, dayStart, dayStart + DAY].map((day) => expectedFixed(tr, day + (affected - dayStart)));
      const actual = ticksBetween(sched(cron, tr.tz), expected[0] - 1, expected[2], 10);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        failures.push(`${tr.tz} ${new Date(tr.at).toISOString()} "${cron}": expected ${iso(expected).join(',')} got ${iso(actual).join(',')}`);
      }
    }
  }
  t.deepEqual(failures.slice(0, 5), [], `${failures.length} cases differ`);
});

test('croner agrees where the conventions agree (interval schedules, repeated fixed times), one transition of each shape', (t) => {
  // Ticks depend only on the local time of the change and the offsets on either side: one of each shape.
  const shapes = new Map<string, Transition>();
  for (const tr of all) shapes.set(`${(tr.at + tr.before) % DAY}/${tr.before}/${tr.after}`, shapes.get(`${(tr.at + tr.before) % DAY}/${tr.before}/${tr.after}`) ?? tr);
  const failures: string[] = [];
  const compare = (cron: string, tr: Transition, from: number, to: number) => {
    const oracle = new Cron(cron, { timezone: tr.tz })
      .nextRuns(100, new Date(from))
      .map((d) => d.getTime())
      .filter((x) => x <= to);
    const actual = ticksBetween(sched(cron, tr.tz), from, to, 100);
    if (JSON.stringify(actual) !== JSON.stringify(oracle)) failures.push(`${tr.tz} "${cron}": croner ${iso(oracle).join(',')} ours ${iso(actual).join(',')}`);
  };
  for (const tr of shapes.values()) {
    for (const [cron] of INTERVALS) compare(cron, tr, tr.at - 3 * HOUR, tr.at + 3 * HOUR);
    if (tr.after < tr.before) {
      for (const wall of affectedWalls(tr)) {
        const d = new Date(wall);
        compare(`${d.getUTCMinutes()} ${d.getUTCHours()} * * *`, tr, tr.at - DAY, tr.at + DAY);
      }
    }
  }
  t.true(shapes.size > 10, `${shapes.size} shapes`);
  t.deepEqual(failures.slice(0, 5), [], `${failures.length} cases differ`);
});

// ---- the cases reported in Australia/Lord_Howe (30-minute DST) ----

test('Lord Howe: "0 * * * *" keeps ticking through the 2026-04-05 fall back from +11 to +10:30', (t) => {
  const ticks = ticksBetween(sched('0 * * * *', 'Australia/Lord_Howe'), Date.parse('2026-04-04T10:00:00Z'), Date.parse('2026-04-04T20:00:00Z'), 100);
  // Local 22:00–01:00 at +11, then 02:00 (after the repeated 01:30–02:00) onwards at +10:30.
  t.deepEqual(iso(ticks), [
    '2026-04-04T11:00:00.000Z',
    '2026-04-04T12:00:00.000Z',
    '2026-04-04T13:00:00.000Z',
    '2026-04-04T14:00:00.000Z',
    '2026-04-04T15:30:00.000Z',
    '2026-04-04T16:30:00.000Z',
    '2026-04-04T17:30:00.000Z',
    '2026-04-04T18:30:00.000Z',
    '2026-04-04T19:30:00.000Z',
  ]);
});

test('Lord Howe: "0 2 * * *" runs on 2026-10-04, moved forward by the 30-minute gap to 02:30', (t) => {
  const ticks = ticksBetween(sched('0 2 * * *', 'Australia/Lord_Howe'), Date.parse('2026-10-02T12:00:00Z'), Date.parse('2026-10-05T12:00:00Z'), 10);
  // 02:00 +10:30 on the 3rd, 02:30 +11 (= 02:00 +10:30) on the 4th, 02:00 +11 on the 5th.
  t.deepEqual(iso(ticks), ['2026-10-02T15:30:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:00:00.000Z']);
});

test('an error in the cron arithmetic is thrown with the schedule named, never read as "no further tick"', (t) => {
  const error = t.throws(() => nextTicks(sched('0 0 * * *', 'UTC'), 8.64e15 - 2 * DAY, 5));
  t.regex(error!.message, /schedule "p\/s": cron "0 0 \* \* \*" in UTC: cannot compute the tick after local/);
});
