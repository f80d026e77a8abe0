import type { Redis } from 'ioredis';
import type { KeySpace } from './keys.ts';
import { defineScripts, type ScriptClient } from './lua-scripts.ts';

const DAG_SCRIPTS = {
  dagRetain: 'dag-retain.lua',
  dagRelease: 'dag-release.lua',
} as const;

/** Snapshots kept in this process; they are immutable, so a cached one is never stale. */
const CACHE_LIMIT = 256;

/**
 * DAG snapshots stored once per pipeline version, under their content hash, instead of one copy per
 * run. The run scripts never read a snapshot (only workers and readers do, outside scripts), so the
 * snapshot can live under its own hash tag on Redis Cluster. A set of unfinished runs keeps it
 * alive; when the last one finishes it expires with their retention.
 */
export class DagStore {
  private readonly redis: ScriptClient<keyof typeof DAG_SCRIPTS>;
  private readonly cache = new Map<string, string>();

  constructor(
    redis: Redis,
    private readonly keys: KeySpace,
  ) {
    this.redis = defineScripts(redis, DAG_SCRIPTS);
  }

  /**
   * Before a run is created (so readers always find its snapshot) and when a finished run is retried.
   * Returns whether the run was not a user yet.
   */
  async retain(hash: string, runId: string, json = ''): Promise<boolean> {
    const k = this.keys.dag(hash);
    return (await this.redis.dagRetain(k.snapshot, k.users, runId, json)) === 1;
  }

  async release(hash: string, runId: string, retentionMs: number): Promise<void> {
    const k = this.keys.dag(hash);
    await this.redis.dagRelease(k.snapshot, k.users, runId, retentionMs);
  }

  async get(hash: string): Promise<string | null> {
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const json = await this.redis.get(this.keys.dag(hash).snapshot);
    if (json) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(hash, json);
    }
    return json;
  }
}
