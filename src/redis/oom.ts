/**
 * Redis refusing writes for memory (`maxmemory` reached under `noeviction`): a state of the server,
 * not a failure of the step or run that tried to write. Recognised here and nowhere else.
 */

/** The `OOM command not allowed …` error behind `error`, also inside a discarded MULTI (EXECABORT). */
export function oomRefusal(error: unknown): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  if (/^OOM\b|OOM command not allowed/.test(error.message)) return error;
  // ioredis reports a MULTI whose queued commands Redis refused as EXECABORT, the real errors beside it.
  const previous = (error as Error & { previousErrors?: unknown[] }).previousErrors;
  if (/EXECABORT/.test(error.message) && Array.isArray(previous)) {
    for (const inner of previous) {
      const found = oomRefusal(inner);
      if (found) return found;
    }
  }
  return undefined;
}

/** The message users see for a refusal: the true cause, Redis's own words. */
export function refusalMessage(oom: Error): string {
  return `Redis refused writes: ${oom.message}`;
}

/** `error` itself, or, when Redis refused it for memory, an error that says so (the original as cause). */
export function explainRedisError(error: unknown): unknown {
  const oom = oomRefusal(error);
  return oom ? new Error(refusalMessage(oom), { cause: error }) : error;
}

export interface OomRetryOptions {
  /** How long to keep retrying a refused write before giving up with the refusal. */
  windowMs: number;
  /** Told of each refusal (log, metrics); `first` is true for the first refusal of this write. */
  onRefused?: (oom: Error, first: boolean) => void;
}

/** First wait after a refusal; doubles up to MAX_BACKOFF_MS (freed memory is used within a second). */
const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/**
 * Runs `write`, and while Redis refuses it for memory, runs it again with backoff for up to the
 * window. Only safe for writes that Redis refuses as a whole (a script or MULTI refused for OOM ran
 * nothing). Any other error, and a refusal past the window, is thrown (the latter as "Redis refused writes").
 */
export function retryWhileOom<T>(write: () => Promise<T>, options: OomRetryOptions): Promise<T> {
  // Every step's writes pass here: the retry loop starts only after a refusal, so a write that
  // succeeds costs one promise reaction more than the write itself, not an async frame.
  let pending: Promise<T>;
  try {
    pending = write();
  } catch (thrown) {
    pending = Promise.reject(thrown);
  }
  return pending.catch((error: unknown) => retryAfterRefusal(error, write, options));
}

async function retryAfterRefusal<T>(firstError: unknown, write: () => Promise<T>, options: OomRetryOptions): Promise<T> {
  const deadline = Date.now() + options.windowMs;
  let backoff = FIRST_BACKOFF_MS;
  let error = firstError;
  for (let first = true; ; first = false) {
    const oom = oomRefusal(error);
    if (!oom) throw error;
    options.onRefused?.(oom, first);
    if (Date.now() + backoff > deadline) throw explainRedisError(error);
    await new Promise((resolve) => setTimeout(resolve, backoff));
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    try {
      return await write();
    } catch (again) {
      error = again;
    }
  }
}
