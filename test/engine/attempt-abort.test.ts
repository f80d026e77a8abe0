import test from 'ava';
import { AttemptAbort } from '../../src/worker/attempt-abort.ts';
import { runStep } from '../../src/worker/step-runner.ts';
import { CancelledError, TimeoutError } from '../../src/errors/conveyor-error.ts';

/**
 * An attempt's AbortSignal is made only when its handler reads `ctx.signal` (worker/attempt-abort.ts).
 * Whenever it is read, before or after the abort, the handler must see what an eager signal showed.
 */

test('a handler that never reads its signal still ends at its timeout, with the TimeoutError', async (t) => {
  const abort = new AttemptAbort();
  const result = await runStep({ step: 'slow', timeoutMs: 20, abort, invoke: () => new Promise(() => {}) });
  t.false(result.ok);
  t.true(!result.ok && result.error instanceof TimeoutError);
  t.true(abort.reason instanceof TimeoutError);
});

test('a signal first read after the abort is born aborted, with the same reason', async (t) => {
  const abort = new AttemptAbort();
  const reason = new CancelledError('step "s"');
  abort.abort(reason);
  t.true(abort.signal.aborted);
  t.is(abort.signal.reason, reason);
});

test('a signal read before the abort fires its listeners with the reason; the first reason wins', async (t) => {
  const abort = new AttemptAbort();
  const seen: unknown[] = [];
  abort.signal.addEventListener('abort', () => seen.push(abort.signal.reason));
  const first = new CancelledError('step "s"');
  abort.abort(first);
  abort.abort(new TimeoutError('step "s"', 5));
  t.deepEqual(seen, [first]);
  t.is(abort.reason, first);
  t.is(abort.signal.reason, first);
});

test('a cancel signal given to the runner aborts the handler\'s signal (the test kit\'s way)', async (t) => {
  const cancel = new AbortController();
  let signal: AbortSignal | undefined;
  const running = runStep({
    step: 'honours',
    timeoutMs: 10_000,
    cancel: cancel.signal,
    invoke: (abort) =>
      new Promise((_, reject) => {
        signal = abort.signal;
        signal.addEventListener('abort', () => reject(signal!.reason));
        cancel.abort(new CancelledError('step "honours"'));
      }),
  });
  const result = await running;
  t.true(signal?.aborted);
  t.true(!result.ok && result.error instanceof CancelledError);
  t.true(!result.ok && !result.retryable);
});
