import type { Redis } from 'ioredis';
import type { KeySpace } from './keys.ts';
import { defineScripts, type ScriptClient } from './lua-scripts.ts';

/**
 * Redis state of the scheduler. Every key lives under the global hash tag (KeySpace.global), so the
 * scripts that touch several of them work on Redis Cluster.
 *
 *   sched:cursor:<p>:<s>        string  tick ms: every tick at or before it is handled (fired or dropped)
 *   sched:claim:<p>:<s>:<tick>  string  exists once a scheduler instance won that tick (expires)
 *   sched:pending:<p>:<s>       zset    tick -> lease start: claimed, launch not yet recorded
 *   sched:queue:<p>:<s>         zset    tick -> tick: waiting for the previous run (overlap `queue`)
 *   sched:last:<p>:<s>          hash    tick, runId, firedAt of the newest tick launched
 *   sched:paused                hash    pipeline -> paused-at ms
 *
 * Pipeline ids and schedule names never contain `:` (see NAME_PATTERN; default names are digits).
 */
const SCRIPTS = {
  schedClaim: 'schedule-claim.lua',
  schedAdvance: 'schedule-advance.lua',
  schedLease: 'schedule-lease.lua',
  schedFired: 'schedule-fired.lua',
  schedDefer: 'schedule-defer.lua',
  schedDequeue: 'schedule-dequeue.lua',
} as const;
type ScriptName = keyof typeof SCRIPTS;

/** Claims outlive any instance that could still plan the same tick from a stale cursor read. */
export const DEFAULT_CLAIM_TTL_MS = 2 * 86_400_000;

export interface ScheduleState {
  cursorMs: number | undefined;
  lastTickMs: number | undefined;
  lastRunId: string | undefined;
  lastFiredAtMs: number | undefined;
  /** Claimed ticks whose launch is not recorded yet (in flight, or left by a dead instance). */
  pending: number[];
  /** Ticks waiting for the previous run to finish (overlap `queue`). */
  queued: number[];
}

export class ScheduleStore {
  private readonly redis: ScriptClient<ScriptName>;
  private readonly keys: KeySpace;
  private readonly claimTtlMs: number;

  constructor(redis: Redis, keys: KeySpace, options: { claimTtlMs?: number } = {}) {
    this.redis = defineScripts(redis, SCRIPTS);
    this.keys = keys;
    this.claimTtlMs = options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
  }

  private key(kind: string, pipeline: string, schedule: string): string {
    return this.keys.global(`sched:${kind}:${pipeline}:${schedule}`);
  }
  claimKey(pipeline: string, schedule: string, tickMs: number): string {
    return this.keys.global(`sched:claim:${pipeline}:${schedule}:${tickMs}`);
  }
  private get pausedKey(): string {
    return this.keys.global('sched:paused');
  }

  async getCursor(pipeline: string, schedule: string): Promise<number | undefined> {
    const value = await this.redis.get(this.key('cursor', pipeline, schedule));
    return value === null ? undefined : Number(value);
  }

  /** Compare-and-set of the cursor; `expected` undefined means "no cursor yet". True when moved. */
  async advanceCursor(pipeline: string, schedule: string, expected: number | undefined, next: number): Promise<boolean> {
    const reply = await this.redis.schedAdvance(this.key('cursor', pipeline, schedule), expected === undefined ? '' : String(expected), String(next));
    return reply === 1;
  }

  /** Wins a tick for the caller (and records the intent to launch it) or returns false. */
  async claimTick(pipeline: string, schedule: string, tickMs: number, nowMs: number): Promise<boolean> {
    const reply = await this.redis.schedClaim(this.claimKey(pipeline, schedule, tickMs), this.key('pending', pipeline, schedule), tickMs, nowMs, this.claimTtlMs);
    return reply === 1;
  }

  async isClaimed(pipeline: string, schedule: string, tickMs: number): Promise<boolean> {
    return (await this.redis.exists(this.claimKey(pipeline, schedule, tickMs))) === 1;
  }

  /** Pending ticks whose lease is older than `leaseMs`, leased anew to the caller, oldest first. */
  async leaseStalePending(pipeline: string, schedule: string, nowMs: number, leaseMs: number, max = 100): Promise<number[]> {
    const reply = (await this.redis.schedLease(this.key('pending', pipeline, schedule), nowMs, leaseMs, max)) as string[];
    return reply.map(Number);
  }

  /** Drops a claimed tick from pending without launching it (policy decided to skip it). */
  async releasePending(pipeline: string, schedule: string, tickMs: number): Promise<void> {
    await this.redis.zrem(this.key('pending', pipeline, schedule), String(tickMs));
  }

  /** Records a launched tick: leaves pending; becomes the last fired tick unless a newer one is. */
  async recordFired(pipeline: string, schedule: string, tickMs: number, runId: string, nowMs: number): Promise<void> {
    await this.redis.schedFired(this.key('pending', pipeline, schedule), this.key('last', pipeline, schedule), tickMs, runId, nowMs);
  }

  async lastRunId(pipeline: string, schedule: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key('last', pipeline, schedule), 'runId')) ?? undefined;
  }

  /** Parks a claimed tick until the previous run finishes; returns ticks dropped to keep at most `max`. */
  async defer(pipeline: string, schedule: string, tickMs: number, max: number): Promise<number[]> {
    const reply = (await this.redis.schedDefer(this.key('queue', pipeline, schedule), this.key('pending', pipeline, schedule), tickMs, max)) as string[];
    return reply.map(Number);
  }

  async queuedCount(pipeline: string, schedule: string): Promise<number> {
    return this.redis.zcard(this.key('queue', pipeline, schedule));
  }

  /** Takes the oldest parked tick and leases it in pending, or undefined when none waits. */
  async dequeue(pipeline: string, schedule: string, nowMs: number): Promise<number | undefined> {
    const reply = (await this.redis.schedDequeue(this.key('queue', pipeline, schedule), this.key('pending', pipeline, schedule), nowMs)) as string | null;
    return reply === null ? undefined : Number(reply);
  }

  async pause(pipeline: string, nowMs: number): Promise<void> {
    await this.redis.hset(this.pausedKey, pipeline, String(nowMs));
  }
  async resume(pipeline: string): Promise<void> {
    await this.redis.hdel(this.pausedKey, pipeline);
  }
  async isPaused(pipeline: string): Promise<boolean> {
    return (await this.redis.hexists(this.pausedKey, pipeline)) === 1;
  }
  /** Paused pipelines and when they were paused (ms). */
  async pausedPipelines(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.pausedKey);
    return new Map(Object.entries(all).map(([p, at]) => [p, Number(at)]));
  }

  async getState(pipeline: string, schedule: string): Promise<ScheduleState> {
    const [cursor, last, pending, queued] = await Promise.all([
      this.redis.get(this.key('cursor', pipeline, schedule)),
      this.redis.hgetall(this.key('last', pipeline, schedule)),
      this.redis.zrange(this.key('pending', pipeline, schedule), 0, -1),
      this.redis.zrange(this.key('queue', pipeline, schedule), 0, -1),
    ]);
    return {
      cursorMs: cursor === null ? undefined : Number(cursor),
      lastTickMs: last.tick === undefined ? undefined : Number(last.tick),
      lastRunId: last.runId,
      lastFiredAtMs: last.firedAt === undefined ? undefined : Number(last.firedAt),
      pending: pending.map(Number).sort((a, b) => a - b),
      queued: queued.map(Number),
    };
  }
}
