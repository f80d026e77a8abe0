import type { ParkedState, StepLogger } from '../../dsl/context.ts';
import { NonRetriableError, ValidationError } from '../../errors/index.ts';

/** What `httpJob` needs of a step context. */
export interface HttpJobContext {
  signal: AbortSignal;
  log: StepLogger;
  park(state: unknown, afterMs: number): never;
  parked: ParkedState | undefined;
}

export interface HttpRequestSpec {
  url: string;
  /** Default 'POST' for start, 'GET' for poll. */
  method?: string;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

export interface HttpJobOptions<S = any, B = any, R = B> {
  start: HttpRequestSpec;
  poll: {
    /** The status URL, or a function of the start response's body (parsed JSON, else text). */
    url: string | ((startResponse: S) => string);
    method?: string;
    headers?: Readonly<Record<string, string>>;
    intervalMs: number;
    /** The job finished successfully. */
    done: (body: B) => boolean;
    /** The job failed for good: `true`, or the reason. Checked before `done`. */
    failed?: (body: B) => boolean | string;
    /** The step's result from the final poll body. Default: the body itself. */
    result?: (body: B) => R;
  };
  /** Bounds the whole wait, counted from the start request. The step's own timeoutMs bounds it too. */
  timeoutMs?: number;
  /** Consecutive failed polls (network error, 5xx, 408, 429) tolerated before the attempt fails. Default 5. */
  maxPollErrors?: number;
  /** Per request. Default 30 s. */
  requestTimeoutMs?: number;
}

export interface HttpJobResult<R> {
  result: R;
  /** Status requests made. */
  polls: number;
  /** From the start request to the final poll. */
  waitedMs: number;
  pollUrl: string;
}

/** What the step carries between parks (JSON in Redis). */
interface JobState {
  pollUrl: string;
  startedAt: number;
  polls: number;
  errors: number;
}

/**
 * Starts a remote job over HTTP and waits for it WITHOUT holding a worker slot: after the start
 * request the step parks (`ctx.park`), and each resumption polls the status URL once, then returns
 * the result, fails, or parks again. The resumptions are delayed jobs in Redis, so restarting every
 * worker while the job runs loses nothing, and a worker with concurrency 1 keeps running other steps.
 *
 * Failures: a start request answered 4xx (other than 408/429) fails without retries; 5xx and network
 * errors fail the attempt (the step's retries apply, and the start request is repeated). A failed
 * remote job (`poll.failed`) fails the step without retries. Poll errors are tolerated up to
 * `maxPollErrors` in a row; a retry after that resumes polling the same job.
 */
export async function httpJob<S = any, B = any, R = B>(ctx: HttpJobContext, options: HttpJobOptions<S, B, R>): Promise<HttpJobResult<R>> {
  const { start, poll, maxPollErrors = 5, requestTimeoutMs = 30_000 } = options;
  if (!(poll.intervalMs >= 0)) throw new ValidationError(`httpJob: poll.intervalMs: expected a number ≥ 0, found ${poll.intervalMs}`);
  const parkFor = (state: JobState): never => {
    const remaining = options.timeoutMs === undefined ? Infinity : options.timeoutMs - (Date.now() - state.startedAt);
    return ctx.park(state, Math.max(0, Math.min(poll.intervalMs, remaining)));
  };

  if (!ctx.parked) {
    const method = start.method ?? 'POST';
    const answer = await request(ctx.signal, requestTimeoutMs, method, start);
    if (!answer.ok) {
      const what = `httpJob: start ${method} ${start.url}: expected a 2xx answer, found ${answer.describe}`;
      throw answer.permanent ? new NonRetriableError(what) : new Error(what);
    }
    let pollUrl: string;
    try {
      pollUrl = typeof poll.url === 'function' ? poll.url(answer.body as S) : poll.url;
      pollUrl = new URL(pollUrl, start.url).href; // a relative status URL is relative to the start URL
    } catch (error) {
      throw new NonRetriableError(`httpJob: poll.url from the start answer ${snippet(answer.body)}: ${(error as Error).message}`, { cause: error });
    }
    ctx.log.info('remote job started; parking until it finishes', { startUrl: start.url, pollUrl, status: answer.status });
    return parkFor({ pollUrl, startedAt: Date.now(), polls: 0, errors: 0 });
  }

  const state = readState(ctx.parked.state);
  const waited = Date.now() - state.startedAt;
  if (options.timeoutMs !== undefined && waited >= options.timeoutMs) {
    throw new NonRetriableError(`httpJob: remote job ${state.pollUrl} not finished after ${waited} ms (timeoutMs ${options.timeoutMs}, ${state.polls} polls)`);
  }
  const method = poll.method ?? 'GET';
  const answer = await request(ctx.signal, requestTimeoutMs, method, { url: state.pollUrl, headers: poll.headers });
  const polls = state.polls + 1;
  if (!answer.ok) {
    const what = `httpJob: poll ${method} ${state.pollUrl}: expected a 2xx answer, found ${answer.describe}`;
    if (answer.permanent) throw new NonRetriableError(what);
    if (state.errors + 1 >= maxPollErrors) throw new Error(`${what} (${state.errors + 1} failed polls in a row)`);
    ctx.log.warn('status request failed; will poll again', { error: answer.describe, failedInARow: state.errors + 1 });
    return parkFor({ ...state, polls, errors: state.errors + 1 });
  }
  const body = answer.body as B;
  const failed = poll.failed?.(body) ?? false;
  if (failed !== false) {
    const reason = typeof failed === 'string' && failed ? failed : `status ${snippet(body)}`;
    throw new NonRetriableError(`httpJob: remote job ${state.pollUrl} failed: ${reason}`);
  }
  if (poll.done(body)) {
    const waitedMs = Date.now() - state.startedAt;
    ctx.log.info('remote job finished', { pollUrl: state.pollUrl, polls, waitedMs });
    const result = poll.result ? poll.result(body) : (body as unknown as R);
    return { result, polls, waitedMs, pollUrl: state.pollUrl };
  }
  ctx.log.debug('remote job still running', { polls, waitedMs: waited });
  return parkFor({ ...state, polls, errors: 0 });
}

type Answer =
  | { ok: true; status: number; body: unknown }
  | { ok: false; permanent: boolean; describe: string };

/** One HTTP request; never throws for HTTP or network failures (only when the step's signal aborts). */
async function request(signal: AbortSignal, timeoutMs: number, method: string, spec: HttpRequestSpec): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
  let body: string | undefined;
  if (spec.body !== undefined) {
    body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
    if (typeof spec.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(spec.url, { method, headers, body, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    text = await response.text();
  } catch (error) {
    signal.throwIfAborted();
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, permanent: false, describe: `${(error as Error).message}${cause ? ` (${cause})` : ''}` };
  }
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: hand the text to the callbacks
  }
  if (response.ok) return { ok: true, status: response.status, body: parsed };
  const transient = response.status >= 500 || response.status === 408 || response.status === 429;
  return { ok: false, permanent: !transient, describe: `HTTP ${response.status}: ${snippet(parsed)}` };
}

function readState(raw: unknown): JobState {
  const s = raw as Partial<JobState> | null;
  if (!s || typeof s.pollUrl !== 'string' || typeof s.startedAt !== 'number') {
    throw new NonRetriableError(`httpJob: expected parked state { pollUrl, startedAt }, found ${snippet(raw)} (was the step parked by something else?)`);
  }
  return { pollUrl: s.pollUrl, startedAt: s.startedAt, polls: s.polls ?? 0, errors: s.errors ?? 0 };
}

function snippet(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
