import { parseDuration } from '../../core/index.ts';
import { ValidationError } from '../../errors/index.ts';
import type { Row } from './rows.ts';

export type Severity = 'error' | 'warn';
export type CheckKind = 'row_count' | 'invalid_rows' | 'null_rate' | 'range' | 'category' | 'unique' | 'freshness' | 'custom' | 'drift';

export interface CheckResult {
  /** Stable name, e.g. `null_rate:age`, `range:sepal_length`, `custom:adult`. */
  name: string;
  kind: CheckKind;
  column?: string;
  severity: Severity;
  passed: boolean;
  /** The figure the check judged: a count, a rate, a timestamp. */
  observed: number | string | null;
  /** The rule, readable: "≤ 0.05", "in [0, 120]". */
  expected: string;
  message: string;
}

type WithSeverity<T> = T & { severity?: Severity };

export interface DataChecks {
  rowCount?: WithSeverity<{ min?: number; max?: number }>;
  /** Share of records that failed parsing or the row schema. Default when omitted: 0, severity error. */
  maxInvalidRate?: number | WithSeverity<{ max: number }>;
  /** Per column; the key `'*'` applies to every column seen that is not listed by name. */
  maxNullRate?: Record<string, number | WithSeverity<{ max: number }>>;
  /** Numeric bounds (inclusive). A present value that is not a number counts as a violation. */
  ranges?: Record<string, WithSeverity<{ min?: number; max?: number; maxViolationRate?: number }>>;
  categories?: Record<string, WithSeverity<{ allowed: readonly (string | number | boolean)[]; maxViolationRate?: number }>>;
  /** Columns whose present values must be distinct. Memory is O(distinct values) for these columns. */
  unique?: readonly (string | WithSeverity<{ column: string }>)[];
  /** The newest timestamp in `column` must be no older than `maxAge` ('2d', '6h', or ms) at `now`. */
  freshness?: WithSeverity<{ column: string; maxAge: string | number; now?: Date | string | number }>;
  custom?: readonly WithSeverity<{ name: string; predicate: (row: Row) => boolean; maxFailRate?: number }>[];
}

export function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (typeof value === 'number' && Number.isNaN(value));
}

/** A finite number, or a string that is one (CSV). Anything else: undefined. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Epoch ms from a Date, a number (epoch ms), a numeric string (epoch ms) or a date string. */
export function toTimestamp(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  const n = toNumber(value);
  if (n !== undefined) return n;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : Number(x.toPrecision(6)).toString());
const pct = (x: number): string => `${Number((x * 100).toPrecision(4))}%`;

interface ColumnViolations {
  count: number;
  firstLine: number | null;
  firstValue: unknown;
}

function violation(): ColumnViolations {
  return { count: 0, firstLine: null, firstValue: undefined };
}

function note(v: ColumnViolations, line: number, value: unknown): void {
  v.count++;
  if (v.firstLine === null) {
    v.firstLine = line;
    v.firstValue = value;
  }
}

function firstAt(v: ColumnViolations): string {
  return v.firstLine === null ? '' : `; first at line ${v.firstLine} (${JSON.stringify(v.firstValue)})`;
}

/**
 * Streaming accumulator for every configured check: `add` each valid row once, then `results`.
 * Everything but `unique` keeps O(columns) state, so a file of millions of rows costs no more memory
 * than a small one.
 */
export class CheckAccumulator {
  rows = 0;
  private readonly present = new Map<string, number>();
  private readonly ranges = new Map<string, ColumnViolations & { min: number; max: number }>();
  private readonly categories = new Map<string, ColumnViolations & { allowed: Set<string> }>();
  private readonly uniques = new Map<string, ColumnViolations & { seen: Set<string> }>();
  private newest: number | null = null;
  private newestLine = 0;
  private unparsedTimes = violation();
  private readonly custom: (ColumnViolations & { error: string | null })[];
  private readonly freshnessNow: number;
  private readonly freshnessMaxAge: number;

  constructor(private readonly checks: DataChecks, knownColumns: readonly string[] = []) {
    for (const c of knownColumns) this.present.set(c, 0);
    for (const column of Object.keys(checks.ranges ?? {})) this.ranges.set(column, { ...violation(), min: Infinity, max: -Infinity });
    for (const [column, spec] of Object.entries(checks.categories ?? {})) {
      this.categories.set(column, { ...violation(), allowed: new Set(spec.allowed.map(String)) });
    }
    for (const u of checks.unique ?? []) this.uniques.set(typeof u === 'string' ? u : u.column, { ...violation(), seen: new Set() });
    this.custom = (checks.custom ?? []).map(() => ({ ...violation(), error: null }));
    const f = checks.freshness;
    this.freshnessMaxAge = f ? (parseDuration(f.maxAge) ?? Number.NaN) : Number.NaN;
    if (f && Number.isNaN(this.freshnessMaxAge)) {
      throw new ValidationError(`checks.freshness.maxAge: expected a duration like '6h' or '2d' (or ms), found ${JSON.stringify(f.maxAge)}`);
    }
    const now = f?.now === undefined ? Date.now() : toTimestamp(f.now);
    if (now === undefined) throw new ValidationError(`checks.freshness.now: expected a date, found ${JSON.stringify(f?.now)}`);
    this.freshnessNow = now;
  }

  /** Columns seen so far (header or JSON keys), in first-seen order. */
  columns(): string[] {
    return [...this.present.keys()];
  }

  add(row: Row, line: number): void {
    this.rows++;
    for (const key in row) {
      if (!isMissing(row[key])) this.present.set(key, (this.present.get(key) ?? 0) + 1);
      else if (!this.present.has(key)) this.present.set(key, 0);
    }
    for (const [column, v] of this.ranges) {
      const value = row[column];
      if (isMissing(value)) continue;
      const spec = this.checks.ranges![column];
      const n = toNumber(value);
      if (n === undefined) {
        note(v, line, value);
        continue;
      }
      if (n < v.min) v.min = n;
      if (n > v.max) v.max = n;
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) note(v, line, value);
    }
    for (const [column, v] of this.categories) {
      const value = row[column];
      if (!isMissing(value) && !v.allowed.has(String(value))) note(v, line, value);
    }
    for (const [column, v] of this.uniques) {
      const value = row[column];
      if (isMissing(value)) continue;
      const key = typeof value === 'object' ? JSON.stringify(value) : String(value);
      if (v.seen.has(key)) note(v, line, value);
      else v.seen.add(key);
    }
    const f = this.checks.freshness;
    if (f && !isMissing(row[f.column])) {
      const t = toTimestamp(row[f.column]);
      if (t === undefined) note(this.unparsedTimes, line, row[f.column]);
      else if (this.newest === null || t > this.newest) {
        this.newest = t;
        this.newestLine = line;
      }
    }
    (this.checks.custom ?? []).forEach((c, i) => {
      const v = this.custom[i];
      let ok: boolean;
      try {
        ok = c.predicate(row) === true;
      } catch (error) {
        ok = false;
        v.error ??= (error as Error)?.message ?? String(error);
      }
      if (!ok) note(v, line, undefined);
    });
  }

  nullRates(): { name: string; present: number; missing: number; nullRate: number }[] {
    return [...this.present].map(([name, present]) => ({
      name,
      present,
      missing: this.rows - present,
      nullRate: this.rows === 0 ? 0 : (this.rows - present) / this.rows,
    }));
  }

  results(counts: { read: number; invalid: number }): CheckResult[] {
    const out: CheckResult[] = [];
    const c = this.checks;
    const sev = (s?: Severity): Severity => s ?? 'error';

    if (c.rowCount) {
      const { min, max } = c.rowCount;
      const passed = (min === undefined || this.rows >= min) && (max === undefined || this.rows <= max);
      const expected = [min !== undefined ? `≥ ${min}` : null, max !== undefined ? `≤ ${max}` : null].filter(Boolean).join(' and ');
      out.push({
        name: 'row_count', kind: 'row_count', severity: sev(c.rowCount.severity), passed, observed: this.rows, expected,
        message: `${this.rows} valid rows, expected ${expected}`,
      });
    }

    const invalidSpec = typeof c.maxInvalidRate === 'number' ? { max: c.maxInvalidRate } : (c.maxInvalidRate ?? { max: 0 });
    const invalidRate = counts.read === 0 ? 0 : counts.invalid / counts.read;
    out.push({
      name: 'invalid_rows', kind: 'invalid_rows', severity: sev((invalidSpec as { severity?: Severity }).severity), passed: invalidRate <= invalidSpec.max,
      observed: invalidRate, expected: `≤ ${pct(invalidSpec.max)}`,
      message: `${counts.invalid} of ${counts.read} records invalid (${pct(invalidRate)}), expected ≤ ${pct(invalidSpec.max)}`,
    });

    if (c.maxNullRate) {
      const rates = new Map(this.nullRates().map((r) => [r.name, r]));
      const named = Object.keys(c.maxNullRate).filter((k) => k !== '*');
      const targets = [...named, ...(c.maxNullRate['*'] !== undefined ? [...rates.keys()].filter((k) => !named.includes(k)) : [])];
      for (const column of targets) {
        const raw = c.maxNullRate[column] ?? c.maxNullRate['*'];
        const spec = typeof raw === 'number' ? { max: raw } : raw;
        const r = rates.get(column);
        const rate = r ? r.nullRate : 1;
        const passed = rate <= spec.max;
        out.push({
          name: `null_rate:${column}`, kind: 'null_rate', column, severity: sev((spec as { severity?: Severity }).severity), passed, observed: rate,
          expected: `≤ ${pct(spec.max)}`,
          message: r
            ? `${column}: ${r.missing} of ${this.rows} values missing (${pct(rate)}), expected ≤ ${pct(spec.max)}`
            : `${column}: column never present in ${this.rows} rows, expected missing ≤ ${pct(spec.max)}`,
        });
      }
    }

    for (const [column, v] of this.ranges) {
      const spec = c.ranges![column];
      const expected = `in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`;
      const allowed = spec.maxViolationRate ?? 0;
      const rate = this.rows === 0 ? 0 : v.count / this.rows;
      const seen = v.min <= v.max ? ` (observed min ${fmt(v.min)}, max ${fmt(v.max)})` : '';
      out.push({
        name: `range:${column}`, kind: 'range', column, severity: sev(spec.severity), passed: rate <= allowed, observed: v.count, expected,
        message: `${column}: ${v.count} of ${this.rows} values outside [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}] or not numeric${seen}${firstAt(v)}`,
      });
    }

    for (const [column, v] of this.categories) {
      const spec = c.categories![column];
      const allowed = spec.maxViolationRate ?? 0;
      const rate = this.rows === 0 ? 0 : v.count / this.rows;
      const expected = `one of ${spec.allowed.map((a) => JSON.stringify(a)).join(', ')}`;
      out.push({
        name: `category:${column}`, kind: 'category', column, severity: sev(spec.severity), passed: rate <= allowed, observed: v.count, expected,
        message: `${column}: ${v.count} of ${this.rows} values not ${expected}${firstAt(v)}`,
      });
    }

    for (const u of c.unique ?? []) {
      const column = typeof u === 'string' ? u : u.column;
      const v = this.uniques.get(column)!;
      out.push({
        name: `unique:${column}`, kind: 'unique', column, severity: sev(typeof u === 'string' ? undefined : u.severity), passed: v.count === 0,
        observed: v.count, expected: 'no duplicates',
        message: `${column}: ${v.count} duplicate values among ${v.seen.size} distinct${firstAt(v)}`,
      });
    }

    if (c.freshness) {
      const f = c.freshness;
      const limit = this.freshnessNow - this.freshnessMaxAge;
      const passed = this.newest !== null && this.newest >= limit;
      const unparsed = this.unparsedTimes.count ? `; ${this.unparsedTimes.count} values were not timestamps${firstAt(this.unparsedTimes)}` : '';
      const expected = `newest ≥ ${new Date(limit).toISOString()} (max age ${String(f.maxAge)})`;
      out.push({
        name: `freshness:${f.column}`, kind: 'freshness', column: f.column, severity: sev(f.severity), passed,
        observed: this.newest === null ? null : new Date(this.newest).toISOString(), expected,
        message: this.newest === null
          ? `${f.column}: no timestamp found, expected ${expected}${unparsed}`
          : `${f.column}: newest ${new Date(this.newest).toISOString()} (line ${this.newestLine}) is ${passed ? 'within' : 'older than'} max age ${String(f.maxAge)} at ${new Date(this.freshnessNow).toISOString()}${unparsed}`,
      });
    }

    (c.custom ?? []).forEach((spec, i) => {
      const v = this.custom[i];
      const allowed = spec.maxFailRate ?? 0;
      const rate = this.rows === 0 ? 0 : v.count / this.rows;
      const threw = v.error ? `; the predicate threw: ${v.error}` : '';
      out.push({
        name: `custom:${spec.name}`, kind: 'custom', severity: sev(spec.severity), passed: rate <= allowed, observed: v.count,
        expected: `fail rate ≤ ${pct(allowed)}`,
        message: `${spec.name}: ${v.count} of ${this.rows} rows failed (${pct(rate)}), expected ≤ ${pct(allowed)}${v.firstLine !== null ? `; first at line ${v.firstLine}` : ''}${threw}`,
      });
    });
    return out;
  }
}
