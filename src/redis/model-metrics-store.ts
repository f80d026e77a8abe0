import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ValidationError } from '../errors/conveyor-error.ts';
import type { KeySpace } from './keys.ts';

/**
 * Model performance over time, and the latest data-quality figures, in Redis.
 *
 *   G:mm:<model>:<metric>  zset  one point per recording, score = time (ms), member = JSON point
 *   G:mm:index             set   "<model>:<metric>" of every series (what a scrape walks)
 *   G:dq                   hash  dataset -> JSON { at, figures } (the latest report of each dataset)
 *
 * G is the key space's global tag, so the keys of one MULTI share a slot on Redis Cluster. Names are
 * restricted to [A-Za-z0-9_.-] so they can be used in keys and as Prometheus label values unchanged.
 */
export interface ModelMetricPoint {
  /** ms since the epoch. */
  at: number;
  version: string;
  value: number;
}

export interface ModelMetricLatest extends ModelMetricPoint {
  model: string;
  metric: string;
}

/** Same shape as steps/data `ReportFigure` (redis/ may not import steps/). */
export interface DataQualityFigure {
  metric: 'null_rate' | 'drift_psi' | 'drift_ks' | 'check_passed';
  dataset: string;
  feature?: string;
  check?: string;
  value: number;
}

export interface RetentionPolicy {
  /** Points older than this are trimmed on every write (default 90 days). */
  maxAgeMs: number;
  /** At most this many points are kept per series, newest first (default 10,000). */
  maxPoints: number;
}

export const DEFAULT_MODEL_METRIC_RETENTION: RetentionPolicy = Object.freeze({ maxAgeMs: 90 * 86_400_000, maxPoints: 10_000 });

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function checkName(kind: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new ValidationError(`model metrics: expected ${kind} of 1-100 letters, digits, "_", "." or "-", found ${JSON.stringify(value)}`);
  }
  return value;
}

export class ModelMetricsStore {
  readonly retention: RetentionPolicy;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    retention: Partial<RetentionPolicy> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.retention = Object.freeze({ ...DEFAULT_MODEL_METRIC_RETENTION, ...retention });
  }

  private seriesKey(model: string, metric: string): string {
    return this.keys.global(`mm:${model}:${metric}`);
  }

  private get indexKey(): string {
    return this.keys.global('mm:index');
  }

  private get dataQualityKey(): string {
    return this.keys.global('dq');
  }

  /** Appends a point and trims the series by age and by count in the same transaction. */
  async record(model: string, version: string | number, metric: string, value: number, at: number = this.now()): Promise<ModelMetricPoint> {
    checkName('a model name', model);
    checkName('a metric name', metric);
    const ver = checkName('a version', String(version));
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(`model metrics: ${model}/${metric}: expected a finite number, found ${JSON.stringify(value)}`);
    }
    if (!Number.isFinite(at) || at < 0) throw new ValidationError(`model metrics: ${model}/${metric}: expected a time in ms, found ${at}`);
    const key = this.seriesKey(model, metric);
    const point: ModelMetricPoint = { at, version: ver, value };
    // The nonce keeps two equal points (same time, same value) as two members instead of one.
    const member = JSON.stringify({ ...point, n: randomBytes(4).toString('hex') });
    await this.redis
      .multi()
      .zadd(key, at, member)
      .zremrangebyscore(key, '-inf', `(${this.now() - this.retention.maxAgeMs}`)
      .zremrangebyrank(key, 0, -(this.retention.maxPoints + 1))
      .sadd(this.indexKey, `${model}:${metric}`)
      .exec();
    return point;
  }

  /** Points of one series between `from` and `to` (ms, inclusive), oldest first. */
  async series(model: string, metric: string, range: { from?: number; to?: number; limit?: number } = {}): Promise<ModelMetricPoint[]> {
    checkName('a model name', model);
    checkName('a metric name', metric);
    const from = range.from ?? '-inf';
    const to = range.to ?? '+inf';
    const raw = range.limit
      ? // The newest `limit` points, returned oldest first.
        (await this.redis.zrevrangebyscore(this.seriesKey(model, metric), to, from, 'LIMIT', 0, range.limit)).reverse()
      : await this.redis.zrangebyscore(this.seriesKey(model, metric), from, to);
    return raw.map(parsePoint);
  }

  /** Every series' newest point (what the metrics scrape exposes as gauges), series older than the retention left out. */
  async latest(filter: { model?: string } = {}): Promise<ModelMetricLatest[]> {
    const names = (await this.redis.smembers(this.indexKey)).sort();
    const wanted = names
      .map((name) => {
        const i = name.indexOf(':');
        return { model: name.slice(0, i), metric: name.slice(i + 1) };
      })
      .filter((s) => !filter.model || s.model === filter.model);
    if (wanted.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const s of wanted) pipe.zrange(this.seriesKey(s.model, s.metric), -1, -1);
    const results = (await pipe.exec()) ?? [];
    const out: ModelMetricLatest[] = [];
    const expired: Array<{ model: string; metric: string }> = [];
    const cutoff = this.now() - this.retention.maxAgeMs;
    wanted.forEach((s, i) => {
      const [error, members] = results[i] ?? [];
      if (error) return;
      const member = Array.isArray(members) ? (members[0] as string | undefined) : undefined;
      const point = member ? parsePoint(member) : undefined;
      if (point && point.at >= cutoff) out.push({ model: s.model, metric: s.metric, ...point });
      else expired.push(s);
    });
    // A series not written for longer than the retention is dropped with its index entry (a model that
    // was retired stops being reported), so neither keys nor the index grow without bound.
    if (expired.length) {
      const tx = this.redis.multi();
      for (const s of expired) tx.del(this.seriesKey(s.model, s.metric)).srem(this.indexKey, `${s.model}:${s.metric}`);
      await tx.exec();
    }
    return out;
  }

  /** Replaces the latest data-quality figures of each dataset named in `figures`. */
  async putDataQuality(figures: readonly DataQualityFigure[], at: number = this.now()): Promise<string[]> {
    const byDataset = new Map<string, DataQualityFigure[]>();
    for (const f of figures) {
      checkName('a dataset name', f.dataset);
      if (typeof f.value !== 'number' || Number.isNaN(f.value)) {
        throw new ValidationError(`data quality: ${f.dataset}/${f.metric}: expected a number, found ${JSON.stringify(f.value)}`);
      }
      byDataset.set(f.dataset, [...(byDataset.get(f.dataset) ?? []), f]);
    }
    if (byDataset.size === 0) return [];
    const fields: string[] = [];
    for (const [dataset, list] of byDataset) fields.push(dataset, JSON.stringify({ at, figures: list }));
    await this.redis.hset(this.dataQualityKey, ...fields);
    return [...byDataset.keys()];
  }

  /** The latest figures of every dataset. */
  async dataQuality(): Promise<Array<{ dataset: string; at: number; figures: DataQualityFigure[] }>> {
    const all = await this.redis.hgetall(this.dataQualityKey);
    return Object.entries(all)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([dataset, json]) => ({ dataset, ...(JSON.parse(json) as { at: number; figures: DataQualityFigure[] }) }));
  }
}

function parsePoint(member: string): ModelMetricPoint {
  const p = JSON.parse(member) as ModelMetricPoint;
  return { at: p.at, version: p.version, value: p.value };
}
