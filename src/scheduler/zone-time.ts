/**
 * Wall-clock arithmetic in IANA zones, on plain numbers. A "wall" time is a local date and time written
 * as milliseconds of the same fields read as UTC (local 2026-03-29 02:30 is Date.UTC(2026, 2, 29, 2, 30)),
 * so cron expressions can be enumerated in UTC, where no hour is missing or repeated, and then mapped
 * to the instants that carry that local time.
 */

const HOUR_MS = 3_600_000;
/** No zone is further than 14h ahead of or 12h behind UTC; looking 15h either side brackets every offset. */
const OFFSET_BRACKET_MS = 15 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let found = formatters.get(tz);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(tz, found);
  }
  return found;
}

/**
 * Offsets are cached per zone and whole minute: every transition since the 1970s falls on a whole
 * minute, and an every-second schedule would otherwise ask Intl sixty times a minute.
 */
const offsetCache = new Map<string, number>();
const OFFSET_CACHE_LIMIT = 50_000;

/** The zone's offset from UTC at an instant, in ms (local = instant + offset). */
export function offsetAt(tz: string, instantMs: number): number {
  const minute = Math.floor(instantMs / 60_000);
  const key = `${tz}@${minute}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const at = minute * 60_000;
  const parts: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(at)) parts[part.type] = part.value;
  const year = parts.era === 'BC' || parts.era === 'B' ? 1 - Number(parts.year) : Number(parts.year);
  const local = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear puts them back.
  const wall = year >= 0 && year < 100 ? new Date(local).setUTCFullYear(year) : local;
  const offset = wall - at;
  if (offsetCache.size >= OFFSET_CACHE_LIMIT) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/** The local wall time of an instant. */
export function wallAt(tz: string, instantMs: number): number {
  return instantMs + offsetAt(tz, instantMs);
}

export interface WallMapping {
  /** Every instant whose local time is `wall`, oldest first: none in a gap, two in a repeated range. */
  instants: number[];
  /**
   * For a wall time inside a gap: the instant it lands on when moved forward by the gap
   * (read with the offset in force before the gap). Undefined when the wall time exists.
   */
  movedForward: number | undefined;
}

/** The instants that carry a local wall time in a zone (assumes at most one transition within ±15h). */
export function instantsOfWall(tz: string, wall: number): WallMapping {
  const before = offsetAt(tz, wall - OFFSET_BRACKET_MS);
  const after = offsetAt(tz, wall + OFFSET_BRACKET_MS);
  const instants: number[] = [];
  for (const offset of new Set([before, after, offsetAt(tz, wall - before), offsetAt(tz, wall - after)])) {
    const instant = wall - offset;
    if (offsetAt(tz, instant) === offset && !instants.includes(instant)) instants.push(instant);
  }
  instants.sort((a, b) => a - b);
  return { instants, movedForward: instants.length ? undefined : wall - before };
}
