import { CancelledError, ValidationError } from '../errors/conveyor-error.ts';
import { WebhookDeliveryError } from './errors.ts';
import { sleep } from '../core/sleep.ts';

export interface WebhookOptions {
  headers?: Record<string, string>;
  /** Retries after the first attempt (default 3): network errors, timeouts, 429 and 5xx are retried. */
  retries?: number;
  /** First backoff delay, doubled each retry and capped at 30 s (default 200 ms). */
  backoffMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WebhookConfig extends WebhookOptions {
  url: string;
}

export interface WebhookResult {
  status: number;
  attempts: number;
}

/**
 * POSTs `body` as JSON to `url`, retrying with exponential backoff. A 4xx other than 408/429 means
 * the receiver rejected the payload: retrying would not help, so it fails at once.
 */
export async function postWebhook(url: string, body: unknown, options: WebhookOptions = {}): Promise<WebhookResult> {
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 200;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!/^https?:$/.test(URL.canParse(url) ? new URL(url).protocol : '')) {
    throw new ValidationError(`webhook: expected an http(s) URL, found "${safeTarget(url)}"`);
  }
  const shown = safeTarget(url);
  const payload = JSON.stringify(body);
  let last = '';
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (options.signal?.aborted) throw new CancelledError(`webhook ${shown}`);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: payload,
        signal,
      });
      // Drain the body so the connection can be reused.
      const text = await response.text().catch(() => '');
      if (response.ok) return { status: response.status, attempts: attempt };
      last = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      if (response.status < 500 && response.status !== 408 && response.status !== 429) {
        throw new WebhookDeliveryError(shown, attempt, last);
      }
    } catch (error) {
      if (error instanceof WebhookDeliveryError) throw error;
      if (options.signal?.aborted) throw new CancelledError(`webhook ${shown}`);
      last = timeout.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    }
    if (attempt <= retries) await sleep(Math.min(backoffMs * 2 ** (attempt - 1), 30_000), options.signal);
  }
  throw new WebhookDeliveryError(shown, retries + 1, last);
}

/** Origin and path only: query strings often carry tokens that must not reach logs or audit entries. */
function safeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
