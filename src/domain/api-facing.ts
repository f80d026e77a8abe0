/**
 * What the HTTP API and the CLI read besides runs, as plain types: the records the Redis layer
 * stores for workers and artifacts, and the live feed of run events. The API depends on these
 * shapes, never on the clients that produce them (redis/ implements them; app/ wires them).
 */
import type { LogEntry } from './run-state.ts';

/** A worker's heartbeat record: what it serves and how busy it is. */
export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  /** Each pipeline loaded: DAG hash and code version ('' when not loaded from a file). */
  pipelines: Array<{ id: string; hash: string; code?: string }>;
  /** Version queues consumed besides `queues` (absent from workers older than routing). */
  versionQueues?: string[];
  running: number;
  startedAt: number;
  lastSeen: number;
}

/** A file a run's step kept with `ctx.artifacts.put`. */
export interface ArtifactMeta {
  name: string;
  step: string;
  contentType: string;
  bytes: number;
  sha256: string;
  /** ms epoch */
  createdAt: number;
}

/** Reads a run's artifacts (names are keys of the run, never paths). */
export interface RunArtifactReader {
  list(runId: string): Promise<ArtifactMeta[]>;
  get(runId: string, name: string): Promise<{ meta: ArtifactMeta; content: Buffer }>;
}

/** Reads a run's structured log lines by position (the API pages with offset/limit). */
export interface RunLogReader {
  read(runId: string, page: { offset: number; limit: number }): Promise<LogEntry[]>;
}

/** Sizes of one BullMQ queue as dashboards show them. */
export interface QueueStats {
  counts(queueName: string): Promise<Record<string, number>>;
  /** Age in ms of the oldest waiting job, 0 when none waits. */
  oldestWaitingAgeMs(queueName: string, now: number): Promise<number>;
}

/** One change of a run or of one of its steps, as the run scripts announce it. */
export interface RunEvent {
  runId: string;
  /** Empty for run-level events. */
  step: string;
  status: string;
}

/** Live run events for the API's streams: one subscription per process, fanned out per run. */
export interface RunEventFeed {
  /** Calls `listener` for every event of `runId` until the returned function is called. */
  subscribe(runId: string, listener: (event: RunEvent) => void): Promise<() => void>;
  /** Listeners currently attached (open SSE streams). */
  readonly openStreams: number;
}
