import type { ParkedState, RunInfo } from '../dsl/context.ts';
import type { UpstreamStatus } from '../dsl/trigger-rules.ts';

/** What the parent sends an isolated step's process: everything the handler's ctx needs, as data. */
export interface IsolatedRequest {
  file: string;
  pipelineId: string;
  /** The step's name in the pipeline (a map step's name for its items). */
  stepName: string;
  /** This attempt's name (`name[i]` for map items). */
  step: string;
  attempt: number;
  params: Record<string, unknown>;
  upstream: Record<string, unknown>;
  upstreamStatus: Record<string, UpstreamStatus>;
  run: RunInfo;
  parked: ParkedState | undefined;
  secrets: Record<string, string>;
  item?: { value: unknown; index: number };
}

/** Messages from the child: log entries while it runs, then one result. */
export type IsolatedMessage =
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  | { type: 'ok'; outputJson: string }
  | { type: 'park'; stateJson: string; afterMs: number }
  | { type: 'error'; name: string; message: string; stack?: string; nonRetriable: boolean };
