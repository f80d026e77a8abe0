import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeySpace } from './keys.ts';
import type { StepJobData } from '../domain/step-job.ts';

/** A job as the worker module sees it: no BullMQ types leak out of redis/. */
export interface ConsumedJob {
  id: string;
  queue: string;
  data: StepJobData;
  /** 1-based attempt under the queue's retry policy (stalled redeliveries do not count). */
  attempt: number;
  maxAttempts: number;
  /** When the queue will retry after this attempt fails (ms from now). */
  nextBackoffMs: number;
  /** When the job became ready to run (added, or its delay ended): the start of its hand-off. */
  readyAt: number;
}

/**
 * What processing a job came to: nothing to say (BullMQ marks the job completed), 'hand-back' (back to
 * waiting, no attempt), `{ handBackAfterMs }` (the same, delivered again after that long), `{ retry }` (the attempt failed and is recorded so; the queue runs the next one
 * after its backoff), or a step that finally failed and is recorded so: its job goes to BullMQ's
 * failed set (kept as `removeOnFail` says), so queue dashboards and exporters see the failure.
 */
export type ProcessOutcome = void | 'hand-back' | { handBackAfterMs: number } | { retry: Error } | { failed: string };

/**
 * Moves a finally-failed step's job to the failed set without another attempt. Recognised in the
 * `failed` listener: the failure is already recorded, it is not an abandoned job.
 */
class StepFailedError extends UnrecoverableError {}

export interface ConsumerOptions {
  connection: Redis;
  keys: KeySpace;
  queue: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  workerName: string;
  /**
   * Runs one job. `{ retry }` asks the queue to retry it with its backoff; returning 'hand-back' puts
   * the job back in the queue's waiting list as it was, not counted as an attempt (worker shutdown,
   * infrastructure fault); `{ failed }` moves it to the failed set for good (the step's failure is
   * already recorded). Throwing is a bug: the queue counts an attempt, so it surfaces.
   */
  process(job: ConsumedJob): Promise<ProcessOutcome>;
  /** A job the queue gave up on without our processor finishing it (stall limit exceeded). */
  onAbandoned(job: ConsumedJob, reason: string): void;
  /** Lock renewal found these jobs' locks gone: the queue may hand them to another worker. */
  onLockLost(jobIds: string[]): void;
  onError(error: Error): void;
}

export interface JobConsumer {
  /** Stops taking jobs and waits for running ones (up to the caller's own deadline). */
  close(force?: boolean): Promise<void>;
}

function toConsumed(job: Job, queue: string): ConsumedJob {
  const attempts = job.opts.attempts ?? 1;
  const backoff = job.opts.backoff;
  const delay = typeof backoff === 'object' ? (backoff.delay ?? 0) : (backoff ?? 0);
  const exponential = typeof backoff === 'object' && backoff.type === 'exponential';
  const data = job.data as StepJobData;
  // Attempts made before the job existed (an eagerly run step that went back to its queue).
  const before = data.n ?? 0;
  return {
    id: job.id!,
    queue,
    data,
    attempt: before + job.attemptsMade + 1,
    maxAttempts: before + attempts,
    nextBackoffMs: exponential ? delay * 2 ** (before + job.attemptsMade) : delay,
    readyAt: job.timestamp + (job.delay ?? 0),
  };
}

/**
 * How many times a job may lose its worker (crash, kill, lock lost) and be handed to another before the
 * queue gives up on it. 1 failed healthy steps that were unlucky twice (two workers lost in a row, as in
 * a rolling restart: the load test saw it); 3 still ends a step that kills its worker every time after
 * 4 deliveries.
 */
export const MAX_STALLED_COUNT = 3;

/** Starts a BullMQ worker on one queue. */
export function startConsumer(options: ConsumerOptions): JobConsumer {
  const worker = new Worker(
    options.queue,
    async (job, token) => {
      const outcome = await options.process(toConsumed(job, options.queue));
      if (outcome === 'hand-back') {
        await job.moveToWait(token);
        // Tells BullMQ the job already left `active` by our hand (no completion, no attempt counted).
        throw new WaitingError();
      }
      if (outcome && 'handBackAfterMs' in outcome) {
        // Job.moveToDelayed skips the attempt count, like moveToWait.
        await job.moveToDelayed(Date.now() + outcome.handBackAfterMs, token);
        throw new DelayedError();
      }
      if (outcome && 'retry' in outcome) throw outcome.retry;
      if (outcome) throw new StepFailedError(outcome.failed);
    },
    {
      connection: options.connection,
      prefix: options.keys.bullPrefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
      name: options.workerName,
      autorun: true,
    },
  );
  worker.on('failed', (job, error) => {
    if (error instanceof StepFailedError) return;
    // Our processor only throws for retryable attempts; a job failing for any other reason (the stall
    // limit, a lock lost for good) never reached our completion path and must be recorded by us.
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1) || (job && /stalled/i.test(error?.message ?? ''))) {
      options.onAbandoned(toConsumed(job, options.queue), error?.message ?? 'job failed');
    }
  });
  worker.on('lockRenewalFailed', (jobIds) => options.onLockLost(jobIds));
  worker.on('error', (error) => options.onError(error));
  return {
    close: (force = false) => worker.close(force),
  };
}
