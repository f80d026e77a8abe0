import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import { ConflictError } from '../errors/conveyor-error.ts';
import type { Engine } from '../engine/engine.ts';
import type { KeySpace } from '../redis/keys.ts';
import { ScheduleStore } from '../redis/schedule-store.ts';
import { validateSchedules } from '../scheduler/cron.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { Redis } from 'ioredis';
import type { ScheduleService } from '../api/context.ts';

/**
 * Composition for the API process: the scheduler's view of schedules (status, pause, resume) without running its loop: the API only
 * reads and toggles the state in Redis that the scheduler processes act on. Pipelines whose schedules
 * are invalid are left out (the scheduler refuses them too) and reported through `problems`.
 */
export function scheduleService(options: {
  redis: Redis;
  keys: KeySpace;
  engine: Engine;
  pipelines: readonly Pipeline<any, any>[];
  clock: Clock;
  logger: Logger;
}): ScheduleService & { problems: string[] } {
  const problems: string[] = [];
  const valid = options.pipelines.filter((p) => {
    try {
      validateSchedules(p.spec);
      return true;
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return false;
    }
  });
  const scheduler = new Scheduler({
    store: new ScheduleStore(options.redis, options.keys),
    pipelines: valid,
    clock: options.clock,
    logger: options.logger,
    launcher: {
      // Never called: this instance is not started; launching belongs to `conveyor scheduler`.
      trigger: () => Promise.reject(new ConflictError('the API does not launch scheduled runs')),
      runStatus: async (runId) => (await options.engine.store.getRun(runId))?.status,
    },
  });
  return {
    problems,
    status: () => scheduler.status(),
    pause: (id) => scheduler.pause(id),
    resume: (id) => scheduler.resume(id),
  };
}

/** The schedule store of a runtime's Redis and key space (for commands that build a Scheduler). */
export const scheduleStoreOf = (runtime: { redis: Redis; keys: KeySpace }): ScheduleStore => new ScheduleStore(runtime.redis, runtime.keys);
