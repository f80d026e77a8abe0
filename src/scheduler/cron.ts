import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../core/duration.ts';
import { ValidationError } from '../errors/conveyor-error.ts';
import { instantsOfWall, offsetAt, wallAt } from './zone-time.ts';
import type { CatchupPolicy, OverlapPolicy, PipelineSpec, ScheduleSpec } from '../dsl/types.ts';

/**
 * Pure cron work: validation, tick enumeration in a time zone, catch-up planning. Nothing here reads the
 * clock or touches Redis; every function takes the times it works on.
 *
 * DST rules. The expression is read on the local wall clock; how a wall time maps to instants depends
 * on whether the hour field covers every hour (`*`, `0-23`, `@hourly`):
 * - every hour covered ("interval" schedules such as `0 * * * *`, `*\/15 * * * *`): the schedule fires at
 *   every instant whose local time matches, so both copies of a repeated hour fire and a missing hour
 *   has nothing to fire (the cadence in elapsed time is kept across the gap).
 * - other hours ("fixed-time" schedules such as `30 2 * * *`): each local time fires once per day. A
 *   time that happens twice (fall back, 02:30 on 2026-10-25 in Europe/Berlin) fires at its first
 *   occurrence (00:30Z); a time that does not exist (spring forward, 02:30 on 2026-03-29 in Berlin)
 *   fires once, moved forward by the gap: at 03:30 local (01:30Z).
 * Days: day-of-month and day-of-week restricted together match either (the Vixie cron OR rule);
 * `L` and `#` are supported, the nearest-weekday `W` is refused at validation.
 */

export interface ResolvedSchedule {
  pipelineId: string;
  name: string;
  cron: string;
  /** IANA zone the expression is read in. */
  timezone: string;
  catchup: CatchupPolicy;
  /** Oldest missed tick that catch-up replays, as an age at planning time; undefined = no limit. */
  catchupWindowMs: number | undefined;
  overlap: OverlapPolicy;
  params: Record<string, unknown>;
}

export const DEFAULT_TIMEZONE = 'UTC';
/** Like Airflow's `catchup=False`: after downtime the most recent missed tick still runs, once. */
export const DEFAULT_CATCHUP: CatchupPolicy = 'latest';
export const DEFAULT_OVERLAP: OverlapPolicy = 'skip';
/** Default window of `catchup: 'all'`: a day of missed ticks at most. */
export const DEFAULT_CATCHUP_ALL_WINDOW_MS = 86_400_000;
/** How late a tick may be noticed and still count as "due now" under `catchup: 'none'` (capped by the period). */
export const DEFAULT_NONE_GRACE_MS = 5 * 60_000;
/** Most ticks one plan fires (`all`) or lists as skipped; the rest follow in later passes. */
export const DEFAULT_PLAN_LIMIT = 1_000;

/** Largest DST shift of any zone is 2h: a wall time never lands further than this from its neighbours. */
const DST_MARGIN_MS = 3 * 3_600_000;
const MAX_DATE_MS = 8.64e15;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks and normalises one schedule of a pipeline. Throws a ValidationError naming pipeline and
 * schedule, e.g. `pipeline "etl": schedule "nightly": unknown time zone "Europe/Berln" ...`.
 */
export function resolveSchedule(pipelineId: string, spec: ScheduleSpec, index = 0): ResolvedSchedule {
  const name = spec.name ?? String(index);
  const where = `pipeline "${pipelineId}": schedule "${name}"`;
  const issues: string[] = [];
  const timezone = spec.timezone ?? DEFAULT_TIMEZONE;
  const zoneOk = isValidTimeZone(timezone);
  if (!zoneOk) issues.push(`${where}: unknown time zone "${timezone}" (expected an IANA zone such as "Europe/Berlin" or "UTC")`);
  const cronIssue = checkCron(spec.cron, zoneOk ? timezone : DEFAULT_TIMEZONE, `${pipelineId}/${name}`);
  if (cronIssue) issues.push(`${where}: invalid cron "${spec.cron}": ${cronIssue}`);
  const catchup = spec.catchup ?? DEFAULT_CATCHUP;
  let catchupWindowMs: number | undefined = catchup === 'all' ? DEFAULT_CATCHUP_ALL_WINDOW_MS : undefined;
  if (spec.catchupWindow !== undefined) {
    const parsed = parseDuration(spec.catchupWindow);
    if (parsed === undefined || parsed <= 0) {
      issues.push(`${where}: invalid catchupWindow "${spec.catchupWindow}" (expected a positive duration such as "30m", "12h", "2d")`);
    } else catchupWindowMs = parsed;
  }
  if (issues.length) throw new ValidationError(issues.join('; '), issues, { pipeline: pipelineId, schedule: name });
  return {
    pipelineId,
    name,
    cron: spec.cron.trim(),
    timezone,
    catchup,
    catchupWindowMs,
    overlap: spec.overlap ?? DEFAULT_OVERLAP,
    params: { ...(spec.params ?? {}) },
  };
}

/** Validates every schedule of a pipeline (all problems in one error) and returns them resolved. */
export function validateSchedules(spec: Pick<PipelineSpec, 'id' | 'schedules'>): ResolvedSchedule[] {
  const issues: string[] = [];
  const resolved: ResolvedSchedule[] = [];
  const seen = new Set<string>();
  spec.schedules.forEach((schedule, index) => {
    const name = schedule.name ?? String(index);
    if (seen.has(name)) issues.push(`pipeline "${spec.id}": schedule "${name}": duplicate schedule name (names must be unique per pipeline)`);
    seen.add(name);
    try {
      resolved.push(resolveSchedule(spec.id, schedule, index));
    } catch (error) {
      if (error instanceof ValidationError) issues.push(...error.issues);
      else throw error;
    }
  });
  if (issues.length) throw new ValidationError(issues.join('; '), issues, { pipeline: spec.id });
  return resolved;
}

/** Returns what is wrong with a cron expression, or undefined when it is usable. */
function checkCron(expr: string, tz: string, seed: string): string | undefined {
  const trimmed = (expr ?? '').trim();
  if (!trimmed.startsWith('@')) {
    const fields = trimmed.split(/\s+/).filter(Boolean).length;
    if (fields !== 5 && fields !== 6) {
      return `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found ${fields}`;
    }
  }
  const fields = trimmed.split(/\s+/);
  const dayOfMonth = fields.length === 6 ? fields[3] : fields[2];
  if (!trimmed.startsWith('@') && /w/i.test(dayOfMonth)) {
    return `the nearest-weekday "W" in the day-of-month field ("${dayOfMonth}") is not supported; list the days or use a day-of-week range such as 1-5`;
  }
  try {
    CronExpressionParser.parse(trimmed, { currentDate: new Date(0), tz, hashSeed: seed }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Hours in the hour field: 24 means the schedule reads as "every matching instant" (see the header). */
function coversEveryHour(schedule: TickSource): boolean {
  const key = `${seedOf(schedule)} ${schedule.cron}`;
  let answer = everyHourCache.get(key);
  if (answer === undefined) {
    answer = CronExpressionParser.parse(schedule.cron, { hashSeed: seedOf(schedule) }).fields.hour.values.length === 24;
    if (everyHourCache.size > 10_000) everyHourCache.clear();
    everyHourCache.set(key, answer);
  }
  return answer;
}
/** Parsing costs about a millisecond; the scheduler asks about the same few expressions every pass. */
const everyHourCache = new Map<string, boolean>();

type TickSource = Pick<ResolvedSchedule, 'cron' | 'timezone' | 'pipelineId' | 'name'>;
const seedOf = (schedule: TickSource) => `${schedule.pipelineId}/${schedule.name}`;

/** Fails loudly: a tick that cannot be computed must never read as "no further tick". */
function tickError(schedule: TickSource, afterWall: number, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(
    `schedule "${seedOf(schedule)}": cron "${schedule.cron}" in ${schedule.timezone}: cannot compute the tick after local ${new Date(afterWall).toISOString().slice(0, 19)}: ${reason}`,
  );
}

/**
 * The instants a schedule fires at for one local wall time: every copy of a repeated time when the hour
 * field covers every hour, else the first; nothing for a missing time when every hour is covered, else
 * the time moved forward by the gap.
 */
function firingInstants(tz: string, wall: number, everyHour: boolean): number[] {
  const { instants, movedForward } = instantsOfWall(tz, wall);
  if (movedForward !== undefined) return everyHour ? [] : [movedForward];
  return everyHour ? instants : instants.slice(0, 1);
}

/**
 * Ticks in (fromExclusiveMs, toInclusiveMs], oldest first, at most `limit`, in the schedule's zone.
 *
 * The expression is enumerated on the local wall clock (in UTC, where no time is missing or repeated)
 * and each wall time is mapped to its instants by the DST rules in the header. That makes the set of
 * ticks a pure function of the schedule, whatever window a caller asks about. Any error in the
 * arithmetic is thrown, never taken for "no further tick".
 */
export function ticksBetween(schedule: TickSource, fromExclusiveMs: number, toInclusiveMs: number, limit: number): number[] {
  const out: number[] = [];
  if (limit <= 0 || toInclusiveMs <= fromExclusiveMs) return out;
  const tz = schedule.timezone;
  const everyHour = coversEveryHour(schedule);
  let wall = wallAt(tz, fromExclusiveMs) - DST_MARGIN_MS;
  const iterator = CronExpressionParser.parse(schedule.cron, { currentDate: new Date(wall), tz: 'UTC', hashSeed: seedOf(schedule) });
  // Instants of a repeated hour arrive out of order: hold them until no later wall time can precede them.
  const pending: number[] = [];
  while (out.length < limit) {
    try {
      wall = iterator.next().toDate().getTime();
    } catch (error) {
      throw tickError(schedule, wall, error);
    }
    const instants = firingInstants(tz, wall, everyHour);
    for (const instant of instants) {
      if (instant > fromExclusiveMs && instant <= toInclusiveMs && !pending.includes(instant)) pending.push(instant);
    }
    pending.sort((a, b) => a - b);
    // A later wall time lands at most one DST shift before this one's earliest instant.
    const settled = (instants[0] ?? wall - offsetAt(tz, wall)) - DST_MARGIN_MS;
    while (pending.length && pending[0] < settled && out.length < limit) out.push(pending.shift()!);
    if (settled > toInclusiveMs) break;
  }
  while (pending.length && out.length < limit) out.push(pending.shift()!);
  return out;
}

/** The next `n` ticks strictly after `afterMs`. */
export function nextTicks(schedule: TickSource, afterMs: number, n: number): number[] {
  return ticksBetween(schedule, afterMs, MAX_DATE_MS, n);
}

/**
 * The latest tick in (floorExclusiveMs, nowMs], or undefined. Looks back in windows that grow fourfold,
 * so a long downtime costs a few dozen windows, each holding few ticks.
 */
export function latestTickAtOrBefore(schedule: TickSource, nowMs: number, floorExclusiveMs: number): number | undefined {
  for (let span = 3_600_000; ; span *= 4) {
    const from = Math.max(floorExclusiveMs, nowMs - span);
    const ticks = ticksBetween(schedule, from, nowMs, Number.MAX_SAFE_INTEGER);
    if (ticks.length) return ticks[ticks.length - 1];
    if (from === floorExclusiveMs || span > MAX_DATE_MS) return undefined;
  }
}

export interface PlanInput {
  schedule: ResolvedSchedule;
  /** The schedule's cursor: every tick at or before it is handled. Undefined on first start. */
  lastTickMs: number | undefined;
  nowMs: number;
  limit?: number;
  noneGraceMs?: number;
}

export interface TickPlan {
  /** Ticks to fire now, oldest first. */
  fire: number[];
  /** Missed ticks the policy drops, oldest first (at most `limit`; `moreSkipped` when there were more). */
  skipped: number[];
  moreSkipped: boolean;
  /** The cursor after this plan; equal to the input when nothing was due. */
  cursorMs: number | undefined;
  /** First start: the cursor is set to now and nothing before it runs. */
  initial: boolean;
  /** `all` had more ticks than `limit`: the cursor stops at the last fired tick and the rest follow. */
  truncated: boolean;
}

/**
 * Decides which ticks in (lastTickMs, nowMs] run:
 * - first start (no cursor): none; the cursor becomes `nowMs`, so history is never replayed and the
 *   first tick strictly after the start is the first to fire.
 * - `none`: only the latest due tick, and only while it is "due now": no older than its own period
 *   (gap to the next tick) and no older than `noneGraceMs` (5 min). Everything else is dropped.
 * - `latest`: the latest due tick however late (unless older than `catchupWindow`, when one is set).
 * - `all`: every due tick not older than `catchupWindow` (default 1d), oldest first, at most `limit`
 *   per plan; older ticks are dropped.
 */
export function planTicks(input: PlanInput): TickPlan {
  const { schedule, lastTickMs, nowMs } = input;
  const limit = input.limit ?? DEFAULT_PLAN_LIMIT;
  const nothing: TickPlan = { fire: [], skipped: [], moreSkipped: false, cursorMs: lastTickMs, initial: false, truncated: false };
  if (lastTickMs === undefined) return { ...nothing, cursorMs: nowMs, initial: true };
  if (nowMs <= lastTickMs) return nothing;
  const latest = latestTickAtOrBefore(schedule, nowMs, lastTickMs);
  if (latest === undefined) return nothing;

  if (schedule.catchup === 'all') {
    const windowMs = schedule.catchupWindowMs ?? DEFAULT_CATCHUP_ALL_WINDOW_MS;
    const windowStart = Math.max(lastTickMs, nowMs - windowMs);
    const inWindow = ticksBetween(schedule, windowStart, nowMs, limit + 1);
    const truncated = inWindow.length > limit;
    const fire = inWindow.slice(0, limit);
    const dropped = windowStart > lastTickMs ? ticksBetween(schedule, lastTickMs, windowStart, limit + 1) : [];
    return {
      fire,
      skipped: dropped.slice(0, limit),
      moreSkipped: dropped.length > limit,
      cursorMs: truncated ? fire[fire.length - 1] : latest,
      initial: false,
      truncated,
    };
  }

  let fire: number[] = [];
  if (schedule.catchup === 'none') {
    const [next] = nextTicks(schedule, latest, 1);
    const period = next === undefined ? Infinity : next - latest;
    const grace = Math.min(period, input.noneGraceMs ?? DEFAULT_NONE_GRACE_MS);
    if (nowMs - latest <= grace) fire = [latest];
  } else if (schedule.catchupWindowMs === undefined || nowMs - latest <= schedule.catchupWindowMs) {
    fire = [latest];
  }
  const missed = ticksBetween(schedule, lastTickMs, latest, limit + 1).filter((t) => !fire.includes(t));
  return { fire, skipped: missed.slice(0, limit), moreSkipped: missed.length > limit, cursorMs: latest, initial: false, truncated: false };
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
  '@weekdays': '0 0 * * 1-5',
  '@weekends': '0 0 * * 0,6',
};

/**
 * A short English description of common 5-field forms ("at 03:00 every day", "every 15 minutes",
 * "at 09:30 on Monday–Friday"); anything else is returned as `cron "<expr>"`.
 */
export function describeCron(expr: string): string {
  const trimmed = expr.trim();
  const fields = (MACROS[trimmed.toLowerCase()] ?? trimmed).split(/\s+/);
  const fallback = `cron "${trimmed}"`;
  if (fields.length !== 5) return fallback;
  const [min, hour, dom, mon, dow] = fields;
  const num = (s: string, max: number) => (/^\d+$/.test(s) && Number(s) <= max ? Number(s) : undefined);
  const step = (s: string) => /^\*\/(\d+)$/.exec(s)?.[1];
  const everyDay = dom === '*' && mon === '*' && dow === '*';
  if (min === '*' && hour === '*' && everyDay) return 'every minute';
  if (step(min) && hour === '*' && everyDay) return `every ${step(min)} minutes`;
  const m = num(min, 59);
  if (m === undefined) return fallback;
  if (hour === '*' && everyDay) return m === 0 ? 'every hour' : `at minute ${m} of every hour`;
  if (step(hour) && everyDay) return `every ${step(hour)} hours at minute ${m}`;
  const h = num(hour, 23);
  if (h === undefined) return fallback;
  const at = `at ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  if (everyDay) return `${at} every day`;
  if (dom === '*' && mon === '*') {
    const days = describeDays(dow);
    return days ? `${at} on ${days}` : fallback;
  }
  const d = num(dom, 31);
  if (d !== undefined && dow === '*') {
    if (mon === '*') return `${at} on day ${d} of every month`;
    const mo = num(mon, 12);
    if (mo !== undefined && mo >= 1) return `${at} on ${new Date(Date.UTC(2000, mo - 1, d)).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' })} ${d}`;
  }
  return fallback;
}

function describeDays(dow: string): string | undefined {
  const range = /^(\d)-(\d)$/.exec(dow);
  if (range && Number(range[1]) <= 7 && Number(range[2]) <= 7) return `${DAY_NAMES[Number(range[1])]}–${DAY_NAMES[Number(range[2])]}`;
  if (/^\d(,\d)*$/.test(dow)) {
    const days = dow.split(',').map(Number);
    if (days.every((d) => d <= 7)) return days.map((d) => DAY_NAMES[d]).join(', ');
  }
  return undefined;
}

/** `describeCron` plus the zone, as shown in `conveyor schedules`. */
export function describeSchedule(schedule: Pick<ResolvedSchedule, 'cron' | 'timezone'>): string {
  return `${describeCron(schedule.cron)} (${schedule.timezone})`;
}
