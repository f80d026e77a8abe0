import { setTimeout as delay } from 'node:timers/promises';
import type { RunView } from '../app/index.ts';
import { dim } from './output.ts';
import { stepSelected } from '../core/ids.ts';

/** A step log line as the run store keeps it (see RunStore.readLogs). */
export interface LogLine {
  t: number;
  level: string;
  step: string;
  attempt: number;
  msg: string;
  fields?: unknown;
}

/** What reads a run's log list by offset: the engine of a runtime or of the light run reader. */
export interface LogSource {
  readLogs(runId: string, page: { offset: number; limit: number }): Promise<LogLine[]>;
}

const BATCH = 1000;

/** `2026-03-01T10:00:05.123Z info  train#2 epoch done {"loss":0.1}`, or the entry as one JSON line. */
export function formatLogLine(e: LogLine, json: boolean): string {
  if (json) return `${JSON.stringify(e)}\n`;
  return `${new Date(e.t).toISOString()} ${e.level.padEnd(5)} ${e.step}#${e.attempt} ${e.msg}${e.fields ? ` ${dim(JSON.stringify(e.fields))}` : ''}\n`;
}


/**
 * Reads a run's log list from where it last stopped: `drain` hands every line added since to
 * `emit`, in order. `logs` drains once; `run --wait --logs` drains while the run goes on.
 */
export class LogTail {
  private offset = 0;
  constructor(
    private readonly source: LogSource,
    private readonly runId: string,
    private readonly step?: string,
  ) {}

  async drain(emit: (line: LogLine) => void): Promise<void> {
    for (;;) {
      const entries = await this.source.readLogs(this.runId, { offset: this.offset, limit: BATCH });
      this.offset += entries.length;
      for (const e of entries) if (stepSelected(e.step, this.step)) emit(e);
      if (entries.length < BATCH) return;
    }
  }
}

/**
 * Which attempt a step's `error` belongs to. The state keeps the newest failure for display: while
 * the step is failed, or queued/pending for a retry, it is the latest attempt's; once a later attempt
 * has started (running, succeeded, skipped, cancelled) it is the one before.
 */
function failedAttempt(status: string, attempts: number): number {
  return status === 'failed' || status === 'queued' || status === 'pending' ? attempts : attempts - 1;
}

/** One failed attempt of a step, from its history or its current error. */
interface FailedAttempt {
  attempt: number;
  generation: number;
  error: { message: string; name?: string };
  /** The step's final failure (not retried). */
  last: boolean;
  t: number;
}

/**
 * The failed attempts of a step: each one in its history (retried or failed, with the error that
 * ended it: the view keeps it there after the step recovered), and the step's current error, which
 * the history may not list (a step with one attempt has none).
 */
function failedAttempts(state: RunView['steps'][string], createdAt: string): FailedAttempt[] {
  const failures: FailedAttempt[] = [];
  for (const a of state.history ?? []) {
    if (!a.error || (a.outcome !== 'retried' && a.outcome !== 'failed')) continue;
    failures.push({ attempt: a.attempt, generation: a.generation, error: a.error, last: a.outcome === 'failed', t: Date.parse(a.finishedAt ?? a.startedAt) });
  }
  if (state.error) {
    const attempt = failedAttempt(state.status, state.attempts);
    const generation = [...(state.history ?? [])].reverse().find((a) => a.attempt === attempt)?.generation ?? 0;
    const listed = failures.some((f) => f.attempt === attempt && f.generation === generation);
    if (attempt >= 1 && !listed) {
      const last = state.status === 'failed';
      const t = last ? Date.parse(state.finishedAt ?? createdAt) : Date.parse(state.startedAt ?? createdAt);
      failures.push({ attempt, generation, error: state.error, last, t });
    }
  }
  return failures.sort((a, b) => a.generation - b.generation || a.attempt - b.attempt);
}

/**
 * The errors that ended steps' attempts, as log lines (they are not lines the step wrote): every
 * failed attempt, retried or final, also of a step that later succeeded. `seen` (keys of attempts
 * already reported) lets a follower report each failure once.
 */
export function attemptErrorLines(view: RunView, step?: string, seen?: Set<string>): LogLine[] {
  const lines: LogLine[] = [];
  for (const [name, state] of Object.entries(view.steps)) {
    if (!stepSelected(name, step)) continue;
    for (const f of failedAttempts(state, view.createdAt)) {
      const key = `${name}|${f.generation}|${f.attempt}`;
      if (seen?.has(key)) continue;
      seen?.add(key);
      lines.push({
        t: f.t, level: 'error', step: name, attempt: f.attempt,
        msg: `attempt ${f.attempt} failed${f.last ? '' : ' (retried)'}: ${f.error.message}`, fields: f.error.name ? { name: f.error.name } : undefined,
      });
    }
  }
  return lines;
}

/** How often a follower looks for new log lines (a read of the run's log list from its last offset). */
const LOG_POLL_MS = 250;

export interface LogStream {
  /** Lines to print after the log lines read so far (failed attempts seen by the follower). */
  add(lines: LogLine[]): void;
  /** Stops polling, prints what is left, and rethrows a read error if one stopped the stream. */
  stop(): Promise<void>;
}

/** Prints a run's log lines as they are written, until `stop` (when the run has ended). */
export function streamLogs(source: LogSource, runId: string, write: (line: LogLine) => void): LogStream {
  const tail = new LogTail(source, runId);
  const queued: LogLine[] = [];
  let stopped = false;
  let failure: unknown;
  const flush = async () => {
    await tail.drain(write);
    queued.splice(0).forEach(write);
  };
  const loop = (async () => {
    while (!stopped) {
      await flush();
      if (!stopped) await delay(LOG_POLL_MS);
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  return {
    add: (lines) => void queued.push(...lines),
    stop: async () => {
      stopped = true;
      await loop;
      if (failure) throw failure;
      await flush();
    },
  };
}
