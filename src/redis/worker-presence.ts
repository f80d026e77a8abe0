import type { WorkerRecord } from '../domain/api-facing.ts';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { KeySpace } from './keys.ts';

const HEARTBEAT_MS = 5_000;

/**
 * Publishes which worker is alive, which queues it serves and which pipeline versions (DAG hashes) it
 * has loaded, so `conveyor pipelines`, the API and the monitor can show them.
 */
export class WorkerPresence {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly id: string,
    private readonly queues: string[],
    private readonly pipelines: Array<{ id: string; hash: string; code: string }>,
    private readonly running: () => number,
    private readonly versionQueues: () => string[] = () => [],
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => {}), HEARTBEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.hdel(this.keys.workers, this.id).catch(() => {});
  }

  private async beat(): Promise<void> {
    const record = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      queues: this.queues,
      pipelines: this.pipelines,
      versionQueues: this.versionQueues(),
      running: this.running(),
      startedAt: this.startedAt,
      lastSeen: Date.now(),
    };
    await this.redis.hset(this.keys.workers, this.id, JSON.stringify(record));
  }
}

export type { WorkerRecord } from '../domain/api-facing.ts';

/** Workers seen within the last three heartbeats; older entries are dead workers and are dropped. */
export async function liveWorkers(redis: Redis, keys: KeySpace, now = Date.now()): Promise<WorkerRecord[]> {
  const all = await redis.hgetall(keys.workers);
  const alive: WorkerRecord[] = [];
  const dead: string[] = [];
  for (const [id, json] of Object.entries(all)) {
    const record = JSON.parse(json) as WorkerRecord;
    if (now - record.lastSeen <= 3 * HEARTBEAT_MS) alive.push(record);
    else dead.push(id);
  }
  if (dead.length) await redis.hdel(keys.workers, ...dead);
  return alive;
}
