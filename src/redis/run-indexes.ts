import type { Redis } from 'ioredis';
import type { RunStatus } from '../domain/run-state.ts';
import { RUN_INDEX_BUCKETS, type KeySpace, type RunIndexBucket } from './keys.ts';

/** What the status indexes need to know of a run. */
export interface IndexedRun {
  pipeline: string;
  createdAt: number;
}

export const isFinalBucket = (status: RunStatus): status is Exclude<RunIndexBucket, 'active'> => status === 'succeeded' || status === 'failed' || status === 'cancelled';

/** ioredis returns errors inside a MULTI's results instead of throwing (OOM, READONLY...): surface them. */
export function throwFirstError(results: Array<[Error | null, unknown]> | null): void {
  const failed = results?.find(([error]) => error);
  if (failed) throw failed[0];
}

/**
 * The global side of run state: the indexes (all runs, per pipeline, per status, active, finished,
 * outbox) under the global hash tag, version routes, and the data-loss marker. Separate commands from
 * the run scripts, which cannot touch global keys on Redis Cluster; RunStore (run-store.ts) builds on
 * this and writes the run-scoped keys.
 */
export class RunIndexes {
  constructor(
    protected readonly redis: Redis,
    readonly keys: KeySpace,
  ) {}

  /** Registers a version queue (see domain/step-routes.ts): field = queue name, value = what it needs. */
  async registerRoute(queue: string, routeJson: string): Promise<void> {
    await this.redis.hset(this.keys.routes, queue, routeJson);
  }

  async routes(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.routes);
  }


  /** Runs whose follow-ups are still owed, finished at or before `before`, oldest first. */
  async outboxDue(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.outbox, 0, before, 'LIMIT', 0, limit);
  }

  /** Marks a run's follow-ups delivered: it leaves the outbox index (the run's `outbox` field stays as a record). */
  async closeOutbox(runId: string): Promise<void> {
    await this.redis.zrem(this.keys.outbox, runId);
  }

  /** Refreshes a run's position in the active set (the reconciler looks at the least recent first). */
  async touchActive(runId: string, now: number): Promise<void> {
    await this.redis.zadd(this.keys.activeRuns, now, runId);
  }

  async activeRunsIdleSince(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.activeRuns, 0, before, 'LIMIT', 0, limit);
  }

  /** Puts the run in one status bucket (global and per pipeline) and takes it out of the others. */
  protected moveInStatusIndexes(multi: ReturnType<Redis['multi']>, runId: string, run: IndexedRun, to: RunIndexBucket): void {
    for (const bucket of RUN_INDEX_BUCKETS) {
      for (const key of [this.keys.runStatusRuns(bucket), this.keys.runStatusRuns(bucket, run.pipeline)]) {
        if (bucket === to) multi.zadd(key, run.createdAt, runId);
        else multi.zrem(key, runId);
      }
    }
  }


  /**
   * Run ids of one index, newest first, created within [from, to] (ms, inclusive), from position
   * `offset` of that range. `bucket` picks a status index; `pipeline` the pipeline's own.
   */
  async rangeRunIds(options: { pipeline?: string; bucket?: RunIndexBucket; from?: number; to?: number; offset: number; count: number }): Promise<string[]> {
    const key = options.bucket ? this.keys.runStatusRuns(options.bucket, options.pipeline) : options.pipeline ? this.keys.pipelineRuns(options.pipeline) : this.keys.runsIndex;
    const max = options.to === undefined ? '+inf' : String(options.to);
    const min = options.from === undefined ? '-inf' : String(options.from);
    return this.redis.zrevrangebyscore(key, max, min, 'LIMIT', options.offset, options.count);
  }

  /**
   * Adds runs created before the id index existed (an upgrade) to it, a batch per call, newest first;
   * returns how many it added. Cheap once done: one ZCARD of each index says there is nothing to add.
   */
  async backfillIdIndex(batch = 1_000): Promise<number> {
    const [all, indexed] = await Promise.all([this.redis.zcard(this.keys.runsIndex), this.redis.zcard(this.keys.runIdsLex)]);
    if (indexed >= all) return 0;
    let added = 0;
    for (let offset = 0; offset < all; offset += batch) {
      const ids = await this.redis.zrevrange(this.keys.runsIndex, offset, offset + batch - 1);
      if (ids.length === 0) break;
      // NX: an id already indexed is left alone; the count is what was missing.
      added += await this.redis.zadd(this.keys.runIdsLex, 'NX', ...ids.flatMap((id) => [0, id]));
      if (indexed + added >= all) break;
    }
    return added;
  }

  /**
   * Run ids starting with `prefix`, in reverse byte order (newest first for generated ids, which
   * start with their creation time), from position `offset`. Runs created before this index existed
   * join it at the next retention pass (backfillIdIndex); until then their exact id finds them.
   */
  async runIdsByPrefix(prefix: string, offset: number, count: number): Promise<string[]> {
    // Run ids use [A-Za-z0-9_.-] only, all below "~": "(<prefix>~" bounds every id with the prefix.
    return this.redis.zrevrangebylex(this.keys.runIdsLex, `(${prefix}~`, `[${prefix}`, 'LIMIT', offset, count);
  }

  async listRunIds(options: { pipeline?: string; limit: number; offset?: number }): Promise<string[]> {
    const key = options.pipeline ? this.keys.pipelineRuns(options.pipeline) : this.keys.runsIndex;
    const start = options.offset ?? 0;
    return this.redis.zrevrange(key, start, start + options.limit - 1);
  }


  /**
   * Deletes runs that finished before `before` and removes them from every run index. The pipeline
   * of each run (for its per-pipeline index) comes from `runPipelines`, written with the index
   * entries, because the run's own hash may have expired already; only runs created before that
   * hash existed fall back to the run hash. Idempotent: replicas pruning at once only repeat work.
   */
  async pruneFinished(before: number, options: { batch?: number } = {}): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(this.keys.finishedRuns, 0, before, 'LIMIT', 0, options.batch ?? 500);
      if (ids.length === 0) return removed;
      const recorded = await this.redis.hmget(this.keys.runPipelines, ...ids);
      const unrecorded = ids.filter((_, i) => recorded[i] === null);
      const fromRuns = new Map(await Promise.all(unrecorded.map(async (id) => [id, (await this.redis.hget(this.keys.run(id).run, 'pipeline')) ?? undefined] as const)));
      // One DEL per run (its keys share the run's hash tag), then the index updates in one pipeline
      // on the global tag: nothing here touches two slots, so it works on Redis Cluster.
      await Promise.all(ids.map((id) => this.redis.del(...this.keys.runKeyList(id))));
      const pipe = this.redis.pipeline();
      ids.forEach((id, i) => {
        for (const index of this.keys.runIndexes(recorded[i] ?? fromRuns.get(id))) pipe.zrem(index, id);
      });
      pipe.hdel(this.keys.runPipelines, ...ids);
      await pipe.exec().then(throwFirstError);
      removed += ids.length;
    }
  }

  /** True when Conveyor's marker key is present; false means this Redis lost its data (or is new). */
  async hasMarker(): Promise<boolean> {
    return (await this.redis.exists(this.keys.marker)) === 1;
  }

  async setMarker(now: number): Promise<void> {
    await this.redis.set(this.keys.marker, String(now), 'NX');
  }

  /**
   * A run whose keys expired before its bookkeeping: it leaves the active set for the finished index
   * (where pruning removes its index entries). Nothing of the run is left to expire or release.
   */
  async dropExpiredRun(runId: string, now: number): Promise<void> {
    await this.redis.multi().zrem(this.keys.activeRuns, runId).zadd(this.keys.finishedRuns, now, runId).exec().then(throwFirstError);
  }
}
