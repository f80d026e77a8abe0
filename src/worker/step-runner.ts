import { coerceError } from '../core/coerce-error.ts';
import { CancelledError, NonRetriableError, TimeoutError, ValidationError, isConveyorError } from '../errors/conveyor-error.ts';
import { serialiseJson, serialiseOutput } from './output-check.ts';
import { ParkSignal } from './park-signal.ts';
import { runIsolated, type IsolatedInvocation } from './isolated-step.ts';
import { AttemptAbort } from './attempt-abort.ts';

export type StepRunResult =
  | { ok: true; outputJson: string }
  | { ok: false; error: Error; retryable: boolean; park?: undefined }
  /** The handler called ctx.park(): resume later with this state. */
  | { ok: false; error: Error; retryable: false; park: { stateJson: string; afterMs: number } };

export interface StepRunInput {
  step: string;
  timeoutMs: number;
  /**
   * The attempt's own abort, when the caller has one (the worker's, which cancel and shutdown abort):
   * the runner aborts it at the timeout too. Without it the runner makes one that follows `cancel`.
   */
  abort?: AttemptAbort;
  /** Aborted from outside on cancel (for a caller without an AttemptAbort: the test kit). */
  cancel?: AbortSignal;
  /** Runs the user's code; `abort.signal` is the signal it must honour (made when first read). */
  invoke(abort: AttemptAbort): unknown;
  /** Set for a step with isolation: 'process': the attempt runs in a child process instead of `invoke`. */
  isolated?: IsolatedInvocation;
}

/**
 * Runs one attempt of a step: enforces the timeout (aborting `ctx.signal`), reacts to cancellation,
 * and turns the result into JSON or a classified error. A handler that ignores its signal is not
 * waited for: the attempt ends at the deadline either way.
 */
export async function runStep(input: StepRunInput): Promise<StepRunResult> {
  const abort = input.abort ?? new AttemptAbort();
  const { cancel } = input;
  const forward = () => abort.abort(coerceError(cancel?.reason ?? new CancelledError(`step "${input.step}"`)));
  if (cancel) {
    if (cancel.aborted) forward();
    else cancel.addEventListener('abort', forward, { once: true });
  }
  const timer = setTimeout(() => abort.abort(new TimeoutError(`step "${input.step}"`, input.timeoutMs)), input.timeoutMs);
  try {
    // An isolated attempt settles itself on abort, once its process is gone; an in-process handler
    // that ignores its signal is not waited for.
    const output = input.isolated
      ? await runIsolated(input.isolated, abort.signal)
      : await raceAbort(input, abort);
    return { ok: true, outputJson: serialiseOutput(input.step, output) };
  } catch (thrown) {
    if (thrown instanceof ParkSignal) {
      try {
        return { ok: false, error: thrown, retryable: false, park: { stateJson: serialiseJson(input.step, thrown.state), afterMs: thrown.afterMs } };
      } catch (bad) {
        return { ok: false, error: coerceError(bad), retryable: false };
      }
    }
    const error = abort.aborted && !(thrown instanceof NonRetriableError) ? abort.reason! : coerceError(thrown);
    return { ok: false, error, retryable: isRetryable(error) };
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', forward);
  }
}

/**
 * The handler's result, or the abort's reason if the attempt is aborted first. One promise per
 * attempt: racing the handler's promise against an abort promise with Promise.race cost three more
 * (and their reactions) on every step. A handler that throws synchronously rejects it.
 */
function raceAbort(input: StepRunInput, abort: AttemptAbort): Promise<unknown> {
  return new Promise((resolve, reject) => {
    abort.onAbort(reject);
    let result: unknown;
    try {
      result = input.invoke(abort);
    } catch (thrown) {
      reject(thrown);
      return;
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(resolve, reject);
    } else {
      resolve(result);
    }
  });
}

function isRetryable(error: Error): boolean {
  if (error instanceof NonRetriableError || error instanceof CancelledError) return false;
  // A bad output will be just as bad next time.
  if (error instanceof ValidationError || (isConveyorError(error) && error.code === 'OUTPUT_TOO_LARGE')) return false;
  return true;
}

export function errorJson(error: Error): string {
  return JSON.stringify({
    message: error.message,
    name: error.name,
    ...(isConveyorError(error) ? { code: error.code } : {}),
    stack: error.stack?.split('\n').slice(0, 12).join('\n'),
  });
}
