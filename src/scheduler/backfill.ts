import type { Pipeline } from '../dsl/pipeline.ts';
import { NotFoundError, ValidationError } from '../errors/conveyor-error.ts';
import { ticksBetween, validateSchedules } from './cron.ts';
import { isRunActive, launchRequest, type RunLauncher } from './launcher.ts';
import { sleep } from '../core/sleep.ts';

export interface BackfillOptions {
  pipeline: Pipeline<any, any>;
  /** Name of one of the pipeline's schedules (`'0'` for an unnamed single schedule). */
  schedule: string;
  /** Interval of tick times, both ends included. */
  fromMs: number;
  toMs: number;
  /** Most backfill runs queued or running at once. Default 1. */
  maxParallel?: number;
  launcher: RunLauncher;
  onProgress?: (progress: BackfillProgress) => void;
  /** How often unfinished runs are polled while all slots are taken. Default 1000 ms. */
  pollMs?: number;
  /** Refuse intervals holding more ticks than this. Default 10 000. */
  maxTicks?: number;
  /** Wait for the runs it created to finish before resolving. Default true. */
  wait?: boolean;
  signal?: AbortSignal;
}

export interface BackfillProgress {
  total: number;
  /** Ticks handled so far: created + existing. */
  done: number;
  created: number;
  /** Ticks that already had a run (an earlier backfill or the live scheduler): left alone. */
  existing: number;
  /** Runs of this backfill still queued or running. */
  running: number;
  tickTime: string;
  runId: string;
  wasCreated: boolean;
}

export interface BackfillResult {
  total: number;
  created: number;
  existing: number;
  /** Run id of every tick, in tick order. */
  runIds: string[];
  /** True when `signal` aborted before every tick was handled. */
  aborted: boolean;
}

/**
 * Creates the runs of one schedule for every tick in [fromMs, toMs], each with its tick as logical
 * time. Run ids are the ones the live scheduler uses, so a tick that already has a run (from the
 * scheduler or an earlier backfill) is skipped and a repeated backfill creates nothing. At most
 * `maxParallel` runs it created are unfinished at once (polled through `launcher.runStatus`).
 */
export async function backfill(options: BackfillOptions): Promise<BackfillResult> {
  const { pipeline, launcher } = options;
  const maxParallel = options.maxParallel ?? 1;
  const maxTicks = options.maxTicks ?? 10_000;
  const pollMs = options.pollMs ?? 1_000;
  const where = `backfill of pipeline "${pipeline.id}"`;
  if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new ValidationError(`${where}: maxParallel must be an integer ≥ 1, found ${maxParallel}`);
  if (!Number.isFinite(options.fromMs) || !Number.isFinite(options.toMs) || options.fromMs > options.toMs) {
    throw new ValidationError(`${where}: expected from ≤ to, found from ${fmt(options.fromMs)} and to ${fmt(options.toMs)}`);
  }
  const schedules = validateSchedules(pipeline.spec);
  const schedule = schedules.find((s) => s.name === options.schedule);
  if (!schedule) throw new NotFoundError(`schedule of pipeline "${pipeline.id}"`, options.schedule, schedules.map((s) => s.name));
  const ticks = ticksBetween(schedule, options.fromMs - 1, options.toMs, maxTicks + 1);
  if (ticks.length > maxTicks) {
    throw new ValidationError(`${where}: ${fmt(options.fromMs)} – ${fmt(options.toMs)} holds more than ${maxTicks} ticks of "${schedule.cron}"; narrow the interval`);
  }

  const inFlight = new Set<string>();
  const result: BackfillResult = { total: ticks.length, created: 0, existing: 0, runIds: [], aborted: false };
  const sweep = async () => {
    for (const runId of [...inFlight]) if (!isRunActive(await launcher.runStatus(runId))) inFlight.delete(runId);
  };

  for (const tick of ticks) {
    if (options.signal?.aborted) {
      result.aborted = true;
      break;
    }
    while (inFlight.size >= maxParallel) {
      await sweep();
      if (inFlight.size >= maxParallel) await sleep(pollMs, options.signal);
      if (options.signal?.aborted) break;
    }
    if (options.signal?.aborted) {
      result.aborted = true;
      break;
    }
    const request = launchRequest(schedule, pipeline.id, tick, true);
    // A run that exists is left alone; the launcher's idempotence covers a race with the scheduler.
    const exists = (await launcher.runStatus(request.runId)) !== undefined;
    const wasCreated = exists ? false : (await launcher.trigger(pipeline, request)).created;
    if (wasCreated) {
      result.created++;
      inFlight.add(request.runId);
    } else result.existing++;
    result.runIds.push(request.runId);
    options.onProgress?.({
      total: result.total,
      done: result.created + result.existing,
      created: result.created,
      existing: result.existing,
      running: inFlight.size,
      tickTime: request.logicalTime,
      runId: request.runId,
      wasCreated,
    });
  }

  if (options.wait ?? true) {
    while (inFlight.size > 0 && !options.signal?.aborted) {
      await sweep();
      if (inFlight.size > 0) await sleep(pollMs, options.signal);
    }
  }
  return result;
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
