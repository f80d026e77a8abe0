import { CancelledError, TimeoutError } from '../errors/conveyor-error.ts';
import { infrastructureFault } from '../redis/faults.ts';

/**
 * Why an attempt ended without an output, told apart in this module and nowhere else (the idea of
 * Temporal's activity cancellation reasons: a shutdown or a lost connection is not the handler's
 * failure, and the code that decides what happens next must know which it was). Only a handler
 * error or a timeout ever consumes one of the user's attempts.
 */
export type EndReason =
  /** The handler threw; `retryable` is the error's own verdict (NonRetriableError, a bad output, ...). */
  | { kind: 'handler-error'; error: Error; retryable: boolean }
  /** The step ran past its `timeout`: retried like a handler error while attempts are left. */
  | { kind: 'timeout'; error: Error }
  /** `conveyor cancel` (or the API): the run is already recorded cancelled; nothing to write. */
  | { kind: 'cancelled-by-user' }
  /** This worker is shutting down and the drain timeout ended: the step goes back to the queue. */
  | { kind: 'worker-shutdown' }
  /** Redis failed (connection, refused write, failover) or this worker lost the job's lock: back to the queue. */
  | { kind: 'infrastructure'; error: Error };

/** What the lifecycle does with an attempt that ended without an output. */
export type EndDecision = 'retry' | 'fail' | 'hand-back' | 'drop';

/** The one decision: what each reason does to the step and to the user's attempts. */
export function decideEnd(reason: EndReason, attempt: number, maxAttempts: number): EndDecision {
  switch (reason.kind) {
    case 'worker-shutdown':
    case 'infrastructure':
      return 'hand-back';
    case 'cancelled-by-user':
      return 'drop';
    case 'timeout':
      return attempt < maxAttempts ? 'retry' : 'fail';
    case 'handler-error':
      return reason.retryable && attempt < maxAttempts ? 'retry' : 'fail';
  }
}

/**
 * How long a handed-back step waits before its next delivery: none after a shutdown (another worker
 * takes it at once); a second after an infrastructure fault, so a fault that outlives the hand-back
 * (a node of the cluster down, a failover in progress) does not turn into a hot loop of deliveries.
 */
export function handBackDelayMs(reason: EndReason): number {
  return reason.kind === 'infrastructure' ? INFRASTRUCTURE_HAND_BACK_DELAY_MS : 0;
}

const INFRASTRUCTURE_HAND_BACK_DELAY_MS = 1_000;

/**
 * The abort reason a worker gives an attempt's signal, so the end is classified by what the worker
 * meant, not by what the handler threw on its way out. A CancelledError: handlers that test for
 * cancellation keep working.
 */
export class AttemptAborted extends CancelledError {
  constructor(
    readonly why: 'cancelled-by-user' | 'worker-shutdown' | 'lock-lost',
    what: string,
  ) {
    super(what);
  }
}

/** Why a handler's attempt ended without an output: the abort reason when there was one, else the error. */
export function endReasonOf(error: Error, retryable: boolean, abort: { readonly aborted: boolean; readonly reason?: unknown }): EndReason {
  if (abort.aborted && abort.reason instanceof AttemptAborted) {
    const { why } = abort.reason;
    return why === 'lock-lost' ? { kind: 'infrastructure', error: abort.reason } : { kind: why };
  }
  if (error instanceof TimeoutError) return { kind: 'timeout', error };
  return { kind: 'handler-error', error, retryable };
}

/**
 * A failure outside the handler (reading the run, recording the outcome, ...): an infrastructure
 * reason when Redis failed, undefined for anything else (a bug: the queue counts it as an attempt,
 * so it surfaces instead of looping).
 */
export function endReasonOfThrown(thrown: unknown): EndReason | undefined {
  const fault = infrastructureFault(thrown);
  return fault ? { kind: 'infrastructure', error: fault } : undefined;
}
