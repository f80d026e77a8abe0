import { coerceError } from '../core/coerce-error.ts';
import { CancelledError, NonRetriableError, TimeoutError, ValidationError, isConveyorError } from '../errors/conveyor-error.ts';
import { serialiseJson, serialiseOutput } from './output-check.ts';
import { ParkSignal } from './park-signal.ts';
import { runIsolated, type IsolatedInvocation } from './isolated-step.ts';

export type StepRunResult =
  | { ok: true; outputJson: string }
  | { ok: false; error: Error; retryable: boolean; park?: undefined }
  /** The handler called ctx.park(): resume later with this state. */
  | { ok: false; error: Error; retryable: false; park: { stateJson: string; afterMs: number } };

export interface StepRunInput {
  step: string;
  timeoutMs: number;
  /** Aborted from outside on cancel or worker shutdown. */
  cancel: AbortSignal;
  /**
   * The attempt's own controller, when the caller has one that nothing else shares (the worker's,
   * whose signal is `cancel`): the runner aborts it at the timeout instead of making a second one
   * that follows `cancel` — an AbortController costs ~15 µs, a tenth of a no-op step.
   */
  controller?: AbortController;
  /** Runs the user's code with the signal it must honour. */
  invoke(signal: AbortSignal): unknown;
  /** Set for a step with isolation: 'process': the attempt runs in a child process instead of `invoke`. */
  isolated?: IsolatedInvocation;
}

/**
 * Runs one attempt of a step: enforces the timeout (aborting `ctx.signal`), reacts to cancellation,
 * and turns the result into JSON or a classified error. A handler that ignores its signal is not
 * waited for: the attempt ends at the deadline either way.
 */
export async function runStep(input: StepRunInput): Promise<StepRunResult> {
  const controller = input.controller ?? new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(controller.signal.reason);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const forward = () => controller.abort(input.cancel.reason ?? new CancelledError(`step "${input.step}"`));
  // With the caller's own controller, a cancel aborts it directly: nothing to forward.
  if (!input.controller) {
    if (input.cancel.aborted) forward();
    else input.cancel.addEventListener('abort', forward, { once: true });
  }
  timer = setTimeout(() => controller.abort(new TimeoutError(`step "${input.step}"`, input.timeoutMs)), input.timeoutMs);
  try {
    // An isolated attempt settles itself on abort, once its process is gone; an in-process handler
    // that ignores its signal is not waited for.
    const output = input.isolated
      ? await runIsolated(input.isolated, controller.signal)
      : await Promise.race([Promise.resolve().then(() => input.invoke(controller.signal)), aborted]);
    return { ok: true, outputJson: serialiseOutput(input.step, output) };
  } catch (thrown) {
    if (thrown instanceof ParkSignal) {
      try {
        return { ok: false, error: thrown, retryable: false, park: { stateJson: serialiseJson(input.step, thrown.state), afterMs: thrown.afterMs } };
      } catch (bad) {
        return { ok: false, error: coerceError(bad), retryable: false };
      }
    }
    const error = controller.signal.aborted && !(thrown instanceof NonRetriableError) ? coerceError(controller.signal.reason) : coerceError(thrown);
    return { ok: false, error, retryable: isRetryable(error) };
  } finally {
    clearTimeout(timer);
    if (!input.controller) input.cancel.removeEventListener('abort', forward);
  }
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
