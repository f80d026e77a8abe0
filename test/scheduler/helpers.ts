import type { Redis } from 'ioredis';
import type { Pipeline } from '../../src/dsl/pipeline.ts';
import type { LaunchRequest, LaunchResult, RunLauncher } from '../../src/scheduler/launcher.ts';

/**
 * Stands in for the engine: records each trigger in the test's own Redis (HINCRBY per run id, so a
 * second trigger of the same id reports `created: false`) and keeps a settable status per run.
 */
export class RecordingLauncher implements RunLauncher {
  constructor(
    private readonly redis: Redis,
    readonly ns: string,
  ) {}

  async trigger(_pipeline: Pipeline<any, any>, request: LaunchRequest): Promise<LaunchResult> {
    const count = await this.redis.hincrby(`${this.ns}:triggers`, request.runId, 1);
    if (count === 1) {
      await this.redis.hset(`${this.ns}:status`, request.runId, 'queued');
      await this.redis.hset(`${this.ns}:requests`, request.runId, JSON.stringify(request));
      await this.redis.rpush(`${this.ns}:order`, request.runId);
    }
    return { runId: request.runId, created: count === 1 };
  }

  async runStatus(runId: string): Promise<string | undefined> {
    return (await this.redis.hget(`${this.ns}:status`, runId)) ?? undefined;
  }

  async setStatus(runId: string, status: string): Promise<void> {
    await this.redis.hset(`${this.ns}:status`, runId, status);
  }

  /** run id -> number of trigger calls. */
  async triggers(): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(`${this.ns}:triggers`);
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }

  /** Run ids in the order they were created. */
  async created(): Promise<string[]> {
    return this.redis.lrange(`${this.ns}:order`, 0, -1);
  }

  async request(runId: string): Promise<LaunchRequest | undefined> {
    const raw = await this.redis.hget(`${this.ns}:requests`, runId);
    return raw ? (JSON.parse(raw) as LaunchRequest) : undefined;
  }
}
