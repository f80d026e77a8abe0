import type { CatchupPolicy } from '../dsl/types.ts';

/** Why a due tick did not launch a run. */
export type TickSkipReason =
  /** Dropped by the catch-up policy (too old, or not the latest) after the scheduler was down. */
  | 'missed'
  /** Overlap `skip`: the schedule's previous run was still queued or running. */
  | 'overlap'
  /** The pipeline was paused when the tick came due; paused ticks are not replayed on resume. */
  | 'paused'
  /** Overlap `queue`: more ticks waited than the scheduler keeps; the oldest was dropped. */
  | 'queue-full';

interface TickBase {
  pipeline: string;
  schedule: string;
  /** ISO-8601 UTC. */
  tickTime: string;
}

/** Typed events for monitoring (Prometheus counters/histograms are fed from these by `app/`). */
export type SchedulerEvent =
  | (TickBase & {
      type: 'tick-fired';
      runId: string;
      /** False when the run already existed (a repeat after recovery, or a backfill got there first). */
      created: boolean;
      /** now − tick when the launch was made. */
      latenessMs: number;
      /** Fired as part of catching up after downtime rather than on time. */
      catchup: boolean;
      /** Fired by an instance that recovered a tick another instance claimed but never launched. */
      recovered: boolean;
    })
  | (TickBase & { type: 'tick-skipped'; reason: TickSkipReason; activeRunId?: string })
  | (TickBase & { type: 'tick-queued'; waitingFor: string })
  | (TickBase & { type: 'tick-failed'; error: string })
  | {
      type: 'tick-caught-up';
      pipeline: string;
      schedule: string;
      policy: CatchupPolicy;
      /** Ticks fired by this catch-up, and ticks the policy dropped (`moreSkipped`: more than listed). */
      fired: number;
      skipped: number;
      moreSkipped: boolean;
      /** Oldest and newest tick the catch-up looked at, ISO-8601 UTC. */
      fromTime: string;
      toTime: string;
    }
  | { type: 'scheduler-error'; pipeline?: string; schedule?: string; error: string };
