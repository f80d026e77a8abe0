import type { RunInfo, StepContext, StepMonitorApi, StepRegistryApi, TriggerInfo } from '../dsl/context.ts';
import type { SkipKind } from '../dsl/trigger-rules.ts';
import type { LogEntry } from '../domain/run-state.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';

/** What `testPipeline` takes and returns (the kit's public types; the runner is test-pipeline.ts). */

type Outputs = Record<string, unknown>;

/** A stub replaces a step's handler: a fixed output, or a function called like the handler. */
export type StepStub<P, T> = T | ((ctx: StepContext<P, any>) => T | Promise<T>);

export interface TestPipelineOptions<P, O extends Outputs> {
  /** Run params; validated (and defaulted) by the pipeline's schema exactly as `engine.trigger` does. */
  params?: Partial<P>;
  /** Per step: the output to use instead of running its handler (its `if` condition still applies). */
  stub?: { [K in keyof O]?: StepStub<P, O[K]> };
  /**
   * 'zero' (default): retries and resumptions of parked steps follow at once. 'real': wait the step's
   * backoff (and the `afterMs` of `ctx.park`) as the queue would.
   */
  retryDelay?: 'zero' | 'real';
  /** A step that parks more often than this fails (guards tests against a step that parks forever). Default 1000. */
  maxParks?: number;
  /** Multiplies every step's `timeoutMs` (e.g. 0.001 to exercise a 60 s timeout in 60 ms). */
  timeoutScale?: number;
  /** `ctx.secrets`; their values are masked in logs and errors, as workers do. */
  secrets?: Record<string, string>;
  /**
   * `ctx.registry`. A ModelRegistry (e.g. `createModelRegistry` on a test Redis) is wrapped per step
   * with the run's lineage, exactly as workers do; a function gets the run and step name.
   */
  registry?: ModelRegistry | StepRegistryApi | ((run: RunInfo, step: string) => StepRegistryApi);
  /** `ctx.monitor` (default: an empty object). */
  monitor?: StepMonitorApi;
  trigger?: TriggerInfo;
  runId?: string;
  logicalTime?: string;
}

export interface TestStepError {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
}

export interface TestStepResult {
  status: 'succeeded' | 'failed' | 'skipped';
  /** Attempts made (0 for a step skipped without starting, 1 for a step skipped by its own condition). */
  attempts: number;
  error?: TestStepError;
  /** Why the step was skipped. */
  reason?: string;
  /** True when skipped because an upstream step failed (counts against the run). */
  skippedByFailure?: boolean;
  /** Which kind of skip happened (as `status --json` says). */
  skip?: SkipKind;
}

export interface TestRunResult<O extends Outputs> {
  runId: string;
  dagHash: string;
  status: 'succeeded' | 'failed';
  /** Outputs of the steps that succeeded, as handlers receive them (through the same hand-off encoding as workers); others are absent. */
  outputs: O;
  /** Every step, and every map item as `name[i]`. */
  steps: { [K in keyof O]: TestStepResult } & Record<string, TestStepResult>;
  /** Step log entries in the order they were written. */
  logs: LogEntry[];
  /** Events steps emitted with `ctx.events.emit` (recorded, not fired: no other pipeline starts). */
  events: Array<{ step: string; name: string; data: unknown }>;
  /** Artifacts steps kept with `ctx.artifacts.put`, by name (same name rules as a real run). */
  artifacts: Record<string, { step: string; content: string | Uint8Array; contentType?: string }>;
  /**
   * Retries a failed run as `conveyor retry` does: failed and failure-skipped steps run again (map
   * steps keep their items that succeeded), succeeded steps keep their outputs. Options default to
   * this run's (pass e.g. `stub` to let a failing step succeed this time).
   */
  retry(options?: TestPipelineOptions<any, O>): Promise<TestRunResult<O>>;
}
