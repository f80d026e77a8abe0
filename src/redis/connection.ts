import { Redis, type RedisOptions } from 'ioredis';
import { RedisUnavailableError } from '../errors/conveyor-error.ts';
import type { Logger } from '../core/logger.ts';

export type RedisClient = Redis;

export interface ConnectOptions {
  /** BullMQ workers need `null` (block forever); command clients fail fast so CLIs do not hang. */
  blocking?: boolean;
  /** How long to keep retrying the first connection before giving up. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Opens an ioredis client for a `redis://` or `rediss://` (TLS) URL with ACL user/password.
 * Reconnects forever with capped backoff: workers must survive Redis restarts on their own.
 */
export function createRedis(url: string, options: ConnectOptions = {}): RedisClient {
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    lazyConnect: false,
  };
  const client = new Redis(url, redisOptions);
  let lastError = '';
  client.on('error', (error: Error) => {
    // ioredis emits the same error on each reconnect attempt: log changes only.
    if (error.message !== lastError) options.logger?.warn('redis connection error', { url: redactUrl(url), error: error.message });
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) options.logger?.info('redis connection restored', { url: redactUrl(url) });
    lastError = '';
  });
  return client;
}

/** Waits until the client is ready or fails with a one-line RedisUnavailableError naming the URL. */
export async function waitForRedis(client: RedisClient, url: string, timeoutMs = 5_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown) => {
      lastError = error;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new RedisUnavailableError(redactUrl(url), lastError));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/** Hides the password of a Redis URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * BullMQ and Conveyor's run state are only safe when Redis never evicts keys. Returns a warning to show
 * loudly, or undefined when the policy is `noeviction` (or cannot be read, e.g. CONFIG is not allowed).
 */
export async function checkEvictionPolicy(client: RedisClient): Promise<string | undefined> {
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply?.[1];
    if (policy && policy !== 'noeviction') {
      return `Redis maxmemory-policy is "${policy}"; Conveyor needs "noeviction" or run state and queued jobs can be silently evicted`;
    }
  } catch {
    // Managed Redis often forbids CONFIG; nothing to check then.
  }
  return undefined;
}
