import type { LogFields } from '../core/logger.ts';
import type { UpstreamStatus } from './trigger-rules.ts';

/** Per upstream step: succeeded, failed, skipped, skipped-by-failure, or pending (early-firing rules only). */
export type UpstreamStatusOf<U> = { readonly [K in keyof U]: UpstreamStatus };

export type TriggerInfo =
  | { type: 'manual'; by?: string; via?: string }
  | { type: 'schedule'; schedule: string; tickTime: string }
  | { type: 'event'; event: string; upstreamRunId?: string; data?: unknown }
  | { type: 'retry'; of: string };

/** What a step sees of the run it belongs to. */
export interface RunInfo {
  id: string;
  pipelineId: string;
  trigger: TriggerInfo;
  /** Status of the run so far: 'running' while steps run; 'failed' once any step failed. */
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** The time the run is "for" (a schedule's tick), ISO-8601; trigger time for manual runs. */
  logicalTime: string;
  dagHash: string;
}

/** Structured step logger: entries are stored with the run and shown by `conveyor logs`. */
export interface StepLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * The registry client a step sees as `ctx.registry`. Empty here so dsl/ imports nothing from
 * registry/; registry/step-client.ts fills it in by declaration merging (module augmentation).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StepRegistryApi {}

/** The monitoring client a step sees as `ctx.monitor`; filled in by monitoring/ the same way. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StepMonitorApi {}

/** Lets a step signal an event, as `conveyor trigger-event` does (e.g. "model-degraded" → retraining). */
export interface StepEvents {
  /**
   * Starts every pipeline with `triggers: [{ event: name }]`, with `data` on its trigger. Idempotent per
   * run, step and event name: a retried step does not start the pipelines twice.
   */
  emit(name: string, data?: unknown): Promise<Array<{ pipeline: string; runId: string; created: boolean }>>;
}

/** Files a step keeps with its run (reports, small plots), listed, viewed and downloaded from the run page. */
export interface StepArtifacts {
  /**
   * Stores `content` under `name` (a file name: letters, digits, ".", "_", "-"; no "/") for this run;
   * the same name again replaces it. At most 1 MiB each and 50 per run; they expire with the run.
   * The content type follows the extension (.md, .txt, .csv, .json, …) unless given. Text content is
   * masked like logs: secret values never reach Redis.
   */
  put(name: string, content: string | Uint8Array, options?: { contentType?: string }): Promise<{ name: string; bytes: number; sha256: string }>;
}

/** Services a step may use beyond its inputs; `app/` wires the implementations. */
export interface StepServices {
  events: StepEvents;
  /** Secret values by name (from env / secrets file); masked wherever logs and outputs are shown. */
  secrets: Readonly<Record<string, string>>;
  registry: StepRegistryApi;
  monitor: StepMonitorApi;
  artifacts: StepArtifacts;
}

export interface StepContext<P, U> extends StepServices {
  params: P;
  /** Outputs of the upstream steps that succeeded (undefined for the others: see upstreamStatus). */
  upstream: U;
  upstreamStatus: UpstreamStatusOf<U>;
  run: RunInfo;
  /** Name of this step (for map items: `name[index]`). */
  step: string;
  /** 1-based attempt number. */
  attempt: number;
  /** Aborted on timeout or cancel: pass it to fetch, child processes, loops. */
  signal: AbortSignal;
  log: StepLogger;
  /**
   * Ends this attempt without holding a worker slot: the step is re-run after `afterMs` with
   * `ctx.parked.state` set to `state` (JSON). For waiting on remote work (training services, approvals).
   * Parking does not count as an attempt; the step's timeout still bounds the whole wait.
   */
  park(state: unknown, afterMs: number): never;
  /** Set when this attempt resumes a parked step. */
  parked: ParkedState | undefined;
}

export interface ParkedState {
  state: unknown;
  /** How many times the step has parked so far. */
  count: number;
  /** When the step first parked (ms epoch): the timeout of a parked step counts from here. */
  since: number;
}

export interface ConditionContext<P, U> {
  params: P;
  upstream: U;
  upstreamStatus: UpstreamStatusOf<U>;
  run: RunInfo;
}
