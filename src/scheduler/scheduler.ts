import type { Clock } from '../core/clock.ts';
import { coerceError } from '../core/coerce-error.ts';
import type { Logger } from '../core/logger.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import { NotFoundError, ValidationError } from '../errors/conveyor-error.ts';
import type { ScheduleStore } from '../redis/schedule-store.ts';
import { DEFAULT_NONE_GRACE_MS, describeSchedule, nextTicks, planTicks, validateSchedules, type ResolvedSchedule } from './cron.ts';
import type { SchedulerEvent } from './events.ts';
import { isRunActive, launchRequest, scheduledRunId, type RunLauncher } from './launcher.ts';

export interface SchedulerOptions {
  /** Where ticks are claimed and recorded (shared by every scheduler instance on this Redis). */
  store: ScheduleStore;
  pipelines: Pipeline<any, any>[];
  launcher: RunLauncher;
  clock: Clock;
  logger: Logger;
  /** Pause between passes of `start()` (real time). Default 1000. */
  intervalMs?: number;
  onEvent?: (event: SchedulerEvent) => void;
  /** A claimed tick not recorded as launched after this long is taken over by any instance. Default 30 s. */
  leaseMs?: number;
  /** See planTicks: how late a tick may be noticed under `catchup: 'none'`. Default 5 min. */
  noneGraceMs?: number;
  /** Most ticks one pass fires per schedule (`catchup: 'all'` continues in later passes). Default 100. */
  maxTicksPerPass?: number;
  /** Overlap `queue`: most ticks kept waiting per schedule; older ones are dropped. Default 100. */
  maxQueued?: number;
}

export interface ScheduleStatus {
  pipeline: string;
  schedule: string;
  cron: string;
  timezone: string;
  description: string;
  catchup: ResolvedSchedule['catchup'];
  overlap: ResolvedSchedule['overlap'];
  paused: boolean;
  /** ISO-8601 UTC. */
  nextTicks: string[];
  lastTickTime: string | undefined;
  lastRunId: string | undefined;
  pending: number;
  queued: number;
}

interface Entry {
  pipeline: Pipeline<any, any>;
  schedules: ResolvedSchedule[];
}

/**
 * Fires the cron schedules of pipelines. Any number of instances may run against one Redis: each tick
 * is claimed atomically (exactly one instance launches it), the claim records the intent to launch,
 * and run ids are deterministic, so a tick claimed by an instance that died before launching is
 * launched by another once its lease runs out, and a repeat launch is a no-op in the engine.
 *
 * Overlap policies (the "previous run" is the run of the newest tick this schedule launched):
 * - `skip` (default): a tick that comes due while the previous run is queued/running is dropped.
 * - `allow`: every tick launches.
 * - `queue`: such a tick waits (at most `maxQueued`, oldest dropped first); each pass launches the
 *   oldest waiting tick once the previous run has finished, so queued ticks run one after the other.
 * Pause is per pipeline; ticks that come due while paused are dropped (`tick-skipped`, reason
 * `paused`) and not replayed on resume.
 */
export class Scheduler {
  private readonly store: ScheduleStore;
  private readonly entries: Entry[];
  private readonly launcher: RunLauncher;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly onEvent: (event: SchedulerEvent) => void;
  private readonly leaseMs: number;
  private readonly noneGraceMs: number;
  private readonly maxTicksPerPass: number;
  private readonly maxQueued: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;

  constructor(options: SchedulerOptions) {
    const issues: string[] = [];
    const seen = new Set<string>();
    this.entries = [];
    for (const pipeline of options.pipelines) {
      if (seen.has(pipeline.id)) issues.push(`pipeline "${pipeline.id}": given to the scheduler twice`);
      seen.add(pipeline.id);
      try {
        this.entries.push({ pipeline, schedules: validateSchedules(pipeline.spec) });
      } catch (error) {
        if (error instanceof ValidationError) issues.push(...error.issues);
        else throw error;
      }
    }
    if (issues.length) throw new ValidationError(`invalid schedules: ${issues.join('; ')}`, issues);
    this.store = options.store;
    this.launcher = options.launcher;
    this.clock = options.clock;
    this.logger = options.logger;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.onEvent = options.onEvent ?? (() => {});
    this.leaseMs = options.leaseMs ?? 30_000;
    this.noneGraceMs = options.noneGraceMs ?? DEFAULT_NONE_GRACE_MS;
    this.maxTicksPerPass = options.maxTicksPerPass ?? 100;
    this.maxQueued = options.maxQueued ?? 100;
  }

  /** Runs a pass now and then every `intervalMs` until `stop()`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const loop = async () => {
      await this.runPass();
      if (this.started) this.timer = setTimeout(loop, this.intervalMs);
    };
    this.logger.info('scheduler started', { schedules: this.entries.reduce((n, e) => n + e.schedules.length, 0), intervalMs: this.intervalMs });
    void loop();
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over every schedule (joins a pass in progress; a "tick" is one cron occurrence). Errors of one schedule are reported and do not stop the others. */
  runPass(): Promise<void> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  async pause(pipelineId: string): Promise<void> {
    this.entry(pipelineId);
    await this.store.pause(pipelineId, this.clock.now());
    this.logger.info('pipeline schedules paused', { pipeline: pipelineId });
  }

  async resume(pipelineId: string): Promise<void> {
    this.entry(pipelineId);
    await this.store.resume(pipelineId);
    this.logger.info('pipeline schedules resumed', { pipeline: pipelineId });
  }

  async isPaused(pipelineId: string): Promise<boolean> {
    this.entry(pipelineId);
    return this.store.isPaused(pipelineId);
  }

  /** Every schedule with its next ticks and last launch, for `conveyor schedules`. */
  async status(nextCount = 3): Promise<ScheduleStatus[]> {
    const now = this.clock.now();
    const paused = await this.store.pausedPipelines();
    const out: ScheduleStatus[] = [];
    for (const { pipeline, schedules } of this.entries) {
      for (const s of schedules) {
        const state = await this.store.getState(pipeline.id, s.name);
        out.push({
          pipeline: pipeline.id,
          schedule: s.name,
          cron: s.cron,
          timezone: s.timezone,
          description: describeSchedule(s),
          catchup: s.catchup,
          overlap: s.overlap,
          paused: paused.has(pipeline.id),
          nextTicks: nextTicks(s, now, nextCount).map((t) => new Date(t).toISOString()),
          lastTickTime: state.lastTickMs === undefined ? undefined : new Date(state.lastTickMs).toISOString(),
          lastRunId: state.lastRunId,
          pending: state.pending.length,
          queued: state.queued.length,
        });
      }
    }
    return out;
  }

  private entry(pipelineId: string): Entry {
    const found = this.entries.find((e) => e.pipeline.id === pipelineId);
    if (!found) throw new NotFoundError('pipeline', pipelineId, this.entries.map((e) => e.pipeline.id));
    return found;
  }

  private async pass(): Promise<void> {
    let paused: Map<string, number>;
    try {
      paused = await this.store.pausedPipelines();
    } catch (error) {
      this.report(error);
      return;
    }
    for (const { pipeline, schedules } of this.entries) {
      for (const schedule of schedules) {
        try {
          await this.processSchedule(pipeline, schedule, paused.has(pipeline.id));
        } catch (error) {
          this.report(error, pipeline.id, schedule.name);
        }
      }
    }
  }

  private report(thrown: unknown, pipeline?: string, schedule?: string): void {
    const error = coerceError(thrown).message;
    this.logger.error('scheduler pass failed', { pipeline, schedule, error });
    this.emit({ type: 'scheduler-error', pipeline, schedule, error });
  }

  private emit(event: SchedulerEvent): void {
    try {
      this.onEvent(event);
    } catch (error) {
      this.logger.warn('scheduler event listener threw', { error: coerceError(error).message });
    }
  }

  private async processSchedule(pipeline: Pipeline<any, any>, s: ResolvedSchedule, paused: boolean): Promise<void> {
    const now = this.clock.now();
    // Ticks claimed by an instance that died (or whose launch failed) before recording the launch.
    for (const tick of await this.store.leaseStalePending(pipeline.id, s.name, now, this.leaseMs)) {
      await this.launch(pipeline, s, tick, now, { catchup: now - tick > this.noneGraceMs, recovered: true, checkOverlap: true });
    }
    if (s.overlap === 'queue' && !paused) await this.drainQueue(pipeline, s, now);

    const cursor = await this.store.getCursor(pipeline.id, s.name);
    const plan = planTicks({ schedule: s, lastTickMs: cursor, nowMs: now, limit: this.maxTicksPerPass, noneGraceMs: this.noneGraceMs });
    if (plan.initial) {
      if (await this.store.advanceCursor(pipeline.id, s.name, undefined, now)) {
        this.logger.info('schedule starts now; earlier ticks are not replayed', { pipeline: pipeline.id, schedule: s.name, at: new Date(now).toISOString() });
      }
      return;
    }
    if (plan.cursorMs === undefined || plan.cursorMs === cursor) return;

    const base = { pipeline: pipeline.id, schedule: s.name };
    if (paused) {
      if (await this.store.advanceCursor(pipeline.id, s.name, cursor, plan.cursorMs)) {
        for (const tick of [...plan.skipped, ...plan.fire].sort((a, b) => a - b)) {
          this.emit({ type: 'tick-skipped', ...base, tickTime: iso(tick), reason: 'paused' });
        }
      }
      return;
    }

    const catchup = plan.fire.length > 1 || plan.skipped.length > 0 || (plan.fire.length === 1 && now - plan.fire[0] > this.noneGraceMs);
    for (const tick of plan.fire) {
      if (await this.store.claimTick(pipeline.id, s.name, tick, now)) {
        await this.launch(pipeline, s, tick, now, { catchup, recovered: false, checkOverlap: true });
      }
    }
    // Only the instance that moves the cursor reports what the policy dropped: one report per tick.
    if (await this.store.advanceCursor(pipeline.id, s.name, cursor, plan.cursorMs)) {
      for (const tick of plan.skipped) this.emit({ type: 'tick-skipped', ...base, tickTime: iso(tick), reason: 'missed' });
      if (catchup) {
        const looked = [...plan.skipped, ...plan.fire];
        this.emit({
          type: 'tick-caught-up',
          ...base,
          policy: s.catchup,
          fired: plan.fire.length,
          skipped: plan.skipped.length,
          moreSkipped: plan.moreSkipped,
          fromTime: iso(Math.min(...looked)),
          toTime: iso(Math.max(...looked)),
        });
      }
    }
  }

  /** Overlap `queue`: launches the oldest waiting tick once the previous run has finished. */
  private async drainQueue(pipeline: Pipeline<any, any>, s: ResolvedSchedule, now: number): Promise<void> {
    if ((await this.store.queuedCount(pipeline.id, s.name)) === 0) return;
    const previous = await this.store.lastRunId(pipeline.id, s.name);
    if (previous && isRunActive(await this.launcher.runStatus(previous))) return;
    const tick = await this.store.dequeue(pipeline.id, s.name, now);
    if (tick !== undefined) await this.launch(pipeline, s, tick, now, { catchup: false, recovered: false, checkOverlap: false });
  }

  /**
   * Launches a tick this instance holds in `pending` (won by claim, recovered, or dequeued), after the
   * overlap check. A launcher failure leaves the tick pending: it is retried once the lease runs out.
   */
  private async launch(
    pipeline: Pipeline<any, any>,
    s: ResolvedSchedule,
    tick: number,
    now: number,
    flags: { catchup: boolean; recovered: boolean; checkOverlap: boolean },
  ): Promise<void> {
    const base = { pipeline: pipeline.id, schedule: s.name, tickTime: iso(tick) };
    const runId = scheduledRunId(pipeline.id, s.name, tick);
    if (flags.checkOverlap && s.overlap !== 'allow') {
      const previous = await this.store.lastRunId(pipeline.id, s.name);
      if (previous && previous !== runId && isRunActive(await this.launcher.runStatus(previous))) {
        if (s.overlap === 'skip') {
          await this.store.releasePending(pipeline.id, s.name, tick);
          this.emit({ type: 'tick-skipped', ...base, reason: 'overlap', activeRunId: previous });
        } else {
          const dropped = await this.store.defer(pipeline.id, s.name, tick, this.maxQueued);
          this.emit({ type: 'tick-queued', ...base, waitingFor: previous });
          for (const d of dropped) this.emit({ type: 'tick-skipped', pipeline: pipeline.id, schedule: s.name, tickTime: iso(d), reason: 'queue-full' });
        }
        return;
      }
    }
    let result;
    try {
      result = await this.launcher.trigger(pipeline, launchRequest(s, pipeline.id, tick));
    } catch (error) {
      const message = coerceError(error).message;
      this.logger.error('scheduled run could not be triggered; retried after the lease', { ...base, runId, error: message });
      this.emit({ type: 'tick-failed', ...base, error: message });
      return;
    }
    await this.store.recordFired(pipeline.id, s.name, tick, result.runId, now);
    this.logger.info('schedule tick fired', { ...base, runId: result.runId, created: result.created });
    this.emit({ type: 'tick-fired', ...base, runId: result.runId, created: result.created, latenessMs: now - tick, catchup: flags.catchup, recovered: flags.recovered });
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
