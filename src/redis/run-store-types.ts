import type { NewRunFields } from './run-schema.ts';
import type { RunFixedFields, RunStatus, StepResources, UpstreamStatus } from '../domain/run-state.ts';

/** What the run store's step operations take and answer (see run-store.ts and the scripts it calls). */

export type StepOutcome = 's' | 'f' | 'k';

export interface NewRun {
  id: string;
  /** The run record's fields as stored (see run-schema.ts). */
  fields: NewRunFields;
  /** Stored once per pipeline version under `fields.dagHash` (see DagStore). */
  dagJson: string;
  /** [step, "<when>|<successors>|<upstream count>", upstream count] for every step. */
  steps: Array<[string, string, number]>;
  pipeline: string;
  createdAt: number;
}

export type StartResult =
  | {
      ok: true;
      runStatus: RunStatus;
      /** Present when asked for (`withFixed`). */
      fixed: RunFixedFields | undefined;
      failedSoFar: number;
      parked: { state: unknown; count: number; since: number } | undefined;
      /** For a map instance: its item. */
      item: unknown;
      upstream: Record<string, unknown>;
      /** How each upstream step stands (failed vs skipped, or still pending under an early-firing rule). */
      upstreamStatus: Record<string, UpstreamStatus>;
    }
  | { ok: false; reason: 'missing' | 'cancelled' | 'finished' | 'not-ready' | 'wrong-version' };

export type CompleteResult =
  | {
      ok: true; finalStatus: RunStatus | undefined; ready: string[]; claimed?: ClaimedStep;
      /** Steps put on the fan-out list of the completed step's pool: pickup jobs let other workers join. */
      listed: number;
    }
  | { ok: false; reason: 'missing' | 'stale' | 'cancelled' | 'duplicate' | 'not-running' };

/**
 * Eager dispatch: what a completing worker offers to run next (see lua/includes/eager-claim.lua).
 * `steps` are the successors it can run (same pool, its code); the one ready step is claimed only
 * when it is among them.
 */
export interface EagerClaimRequest {
  steps: readonly string[];
  token: string;
  worker: string;
  leaseDeadline: number;
  codeVersion: string;
  withFixed: boolean;
  /** The claimable step's needs, in declared order, to read their outputs. */
  needsOf(step: string): readonly string[];
}

/** A step the completion claimed for this worker: started (attempt 1) under the request's token. */
export interface ClaimedStep {
  step: string;
  token: string;
  /** The run's generation (part of the step's job id, should it need a job later). */
  generation: number;
  started: Extract<StartResult, { ok: true }>;
}

export interface CompleteOptions {
  /** Skip the token check (the reconciler failing a step whose job died for good). */
  force?: boolean;
  resources?: StepResources;
  claim?: EagerClaimRequest;
  /** The completed step's pool, whose fan-out list the completion feeds and takes from ('' = none). */
  pool?: string;
}

export interface StepJobLocation {
  /** An eagerly claimed step's lease deadline (ms): no job exists while it holds (see eager-claim.lua). */
  leaseDeadline?: number;
  /** Attempts already counted when the step's job is added anew (its recorded attempt, minus one unless retried). */
  attemptsMade?: number;
  jobId?: string;
  /** A version queue, when the step waits (or waited) for a worker with its code. */
  queue?: string;
  waitingFor?: string;
  /** When the wait ends by `noWorkerTimeout` (ms). */
  waitDeadline?: number;
}
