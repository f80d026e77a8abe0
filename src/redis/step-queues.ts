import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueStats } from '../domain/api-facing.ts';
import type { KeySpace } from './keys.ts';
import type { StepJobData } from '../domain/step-job.ts';

/** What the engine hands over to be enqueued: one BullMQ job per ready step. */
export interface StepJob {
  queue: string;
  /** Deterministic: `<runId>.<step>` (plus `.g<n>` after a run retry), so a repeat add is a no-op. */
  jobId: string;
  step: string;
  data: StepJobData;
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delayMs: number };
  delayMs?: number;
}

const ADD_CHUNK = 1_000;

function jobOptions(job: StepJob): JobsOptions {
  return {
    jobId: job.jobId,
    attempts: job.attempts,
    backoff: { type: job.backoff.type, delay: job.backoff.delayMs },
    removeOnComplete: true,
    removeOnFail: { age: KEEP_FAILED_S, count: KEEP_FAILED_COUNT },
    ...(job.delayMs ? { delay: job.delayMs } : {}),
  };
}

/**
 * BullMQ keeps finished jobs only as long as needed: run state in Redis is the record. A finally-failed
 * step's job stays in the queue's failed set for queue dashboards and exporters: 7 days, and at most
 * the newest 10,000 per queue, so a failure storm cannot fill Redis (RELIABILITY.md, "Failed jobs").
 */
const KEEP_FAILED_S = 7 * 24 * 3600;
const KEEP_FAILED_COUNT = 10_000;

/**
 * One BullMQ queue per worker pool (`default`, `training`, ...), the step name as job name — so a
 * worker fetches its next job in the same round trip that finishes the last one.
 */
export class StepQueues implements QueueStats {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly keys: KeySpace,
  ) {}

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.keys.bullPrefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds the jobs, one addBulk round trip per queue involved. */
  async add(jobs: readonly StepJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const byQueue = new Map<string, StepJob[]>();
    for (const job of jobs) {
      const list = byQueue.get(job.queue) ?? [];
      list.push(job);
      byQueue.set(job.queue, list);
    }
    // Large fan-outs go in chunks so no single Redis round trip blocks others (lock renewals) for long.
    const chunks: Array<[string, StepJob[]]> = [];
    for (const [queueName, list] of byQueue) {
      for (let i = 0; i < list.length; i += ADD_CHUNK) chunks.push([queueName, list.slice(i, i + ADD_CHUNK)]);
    }
    await Promise.all(
      chunks.map(([queueName, list]) => {
        const queue = this.queue(queueName);
        // One job (a chain hop): a plain add, without addBulk's MULTI/EXEC wrapping.
        if (list.length === 1) return queue.add(list[0].step, list[0].data, jobOptions(list[0]));
        return queue.addBulk(list.map((job) => ({ name: job.step, data: job.data, opts: jobOptions(job) })));
      }),
    );
  }

  /**
   * What the reconciler needs of many jobs of one queue, in one pipelined round trip per 1,000:
   * `missing` (never added, or removed when done), `failed` (the queue gave up on it) or `present`.
   * All keys of a queue share its hash tag, so the pipeline is Cluster-safe.
   */
  async jobPresence(queueName: string, jobIds: readonly string[]): Promise<Map<string, 'missing' | 'failed' | 'present'>> {
    const queue = this.queue(queueName);
    const client = this.connection;
    const out = new Map<string, 'missing' | 'failed' | 'present'>();
    for (let i = 0; i < jobIds.length; i += ADD_CHUNK) {
      const ids = jobIds.slice(i, i + ADD_CHUNK);
      const pipe = client.pipeline();
      for (const id of ids) pipe.exists(queue.toKey(id)).zscore(queue.keys.failed, id);
      const replies = (await pipe.exec()) ?? [];
      ids.forEach((id, j) => {
        const [existsError, exists] = replies[2 * j];
        const [failedError, failedScore] = replies[2 * j + 1];
        if (existsError || failedError) throw existsError ?? failedError;
        out.set(id, exists === 0 ? 'missing' : failedScore !== null ? 'failed' : 'present');
      });
    }
    return out;
  }

  /** Run ids of the first `limit` jobs waiting in a queue (for `conveyor pipelines`: who waits where). */
  async waitingRunIds(queueName: string, limit: number): Promise<string[]> {
    const jobs = await this.queue(queueName).getJobs(['wait', 'prioritized'], 0, limit - 1, true);
    return [...new Set(jobs.filter(Boolean).map((job) => (job.data as StepJobData).r))];
  }

  async removeJob(queueName: string, jobId: string): Promise<void> {
    try {
      await this.queue(queueName).remove(jobId);
    } catch {
      // A job that is active (locked) cannot be removed; the worker drops it when it sees the run cancelled.
    }
  }

  async counts(queueName: string): Promise<Record<string, number>> {
    return this.queue(queueName).getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized');
  }

  /** Age in ms of the oldest waiting job, 0 when none waits. */
  async oldestWaitingAgeMs(queueName: string, now: number): Promise<number> {
    const [job] = await this.queue(queueName).getJobs(['wait'], -1, -1, true);
    return job ? Math.max(0, now - job.timestamp) : 0;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
