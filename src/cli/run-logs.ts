import { setTimeout as delay } from 'node:timers/promises';
import type { RunView } from '../app/index.ts';
import { dim } from './output.ts';

/** A step log line as the run store keeps it (see RunStore.readLogs). */
export interface LogLine {
  t: number;
  level: string;
  step: string;
  attempt: number;
  msg: string;
  fields?: unknown;
}

/** What reads a run's log list by offset: the run store of a runtime or of the light run reader. */
export interface LogSource {
  readLogs(runId: string, offset: number, limit: number): Promise<LogLine[]>;
}

const BATCH = 1000;
const ACTIVE = new Set(['pending', 'queued', 'running']);

/** `2026-03-01T10:00:05.123Z info  train#2 epoch done {"loss":0.1}`, or the entry as one JSON line. */
export function formatLogLine(e: LogLine, json: boolean): string {
  if (json) return `${JSON.stringify(e)}\n`;
  return `${new Date(e.t).toISOString()} ${e.level.padEnd(5)} ${e.step}#${e.attempt} ${e.msg}${e.fields ? ` ${dim(JSON.stringify(e.fields))}` : ''}\n`;
}

/** Does `name` belong to step `wanted`? A map step's name selects all its items (`score` → `score[0]`…). */
export const stepSelected = (name: string, wanted: string | undefined) => !wanted || name === wanted || name.startsWith(`${wanted}[`);

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
      const entries = await this.source.readLogs(this.runId, this.offset, BATCH);
      this.offset += entries.length;
      for (const e of entries) if (stepSelected(e.step, this.step)) emit(e);
      if (entries.length < BATCH) return;
    }
  }
}

/**
 * The error that ended a failed step's last attempt, as a log line (it is not a line the step wrote).
 * `seen` (step → attempt already reported) lets a follower report each failure once.
 */
export function attemptErrorLines(view: RunView, step?: string, seen?: Map<string, number>): LogLine[] {
  const lines: LogLine[] = [];
  for (const [name, state] of Object.entries(view.steps)) {
    // A step queued or running again still carries the previous attempt's error: not its own.
    if (!state.error || ACTIVE.has(state.status) || !stepSelected(name, step) || seen?.get(name) === state.attempts) continue;
    seen?.set(name, state.attempts);
    const t = Date.parse(state.finishedAt ?? view.createdAt);
    lines.push({ t, level: 'error', step: name, attempt: state.attempts, msg: `attempt ${state.attempts} failed: ${state.error.message}`, fields: state.error.name ? { name: state.error.name } : undefined });
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
