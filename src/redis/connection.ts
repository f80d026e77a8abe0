import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { RedisUnavailableError } from '../errors/conveyor-error.ts';
import type { Logger } from '../core/logger.ts';

/**
 * A single-node client or a Cluster client. ioredis' Cluster speaks the same command API (including
 * defineCommand and duplicate, which BullMQ uses), so callers keep one type; code that must know
 * checks `isCluster`.
 */
export type RedisClient = Redis;

export interface ConnectOptions {
  /** BullMQ workers need `null` (block forever); command clients fail fast so CLIs do not hang. */
  blocking?: boolean;
  /** How long to keep retrying the first connection before giving up. */
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Treat the URL as a Redis Cluster seed (implied by a `redis+cluster://h1:p1,h2:p2` URL). */
  cluster?: boolean;
  /** PEM CA for TLS (`rediss://`) when the server's certificate is signed by a private CA. */
  tlsCa?: string | Buffer;
}

/**
 * Where to connect, parsed from `redis://`, `rediss://`, `redis+cluster://h1:p1,h2:p2` or
 * `redis+sentinel://h1:p1,h2:p2/<master name>[/<db>]` (the hosts are the sentinels).
 */
export interface RedisTarget {
  cluster: boolean;
  /** Set for a Sentinel URL: the monitored master's name. */
  sentinelMaster?: string;
  nodes: ClusterNode[];
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

export function parseRedisTarget(url: string, cluster = false): RedisTarget {
  const sentinel = /^(rediss?)\+sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]+)(?:\/(\d+))?/i.exec(url);
  if (sentinel) {
    const [, scheme, userinfo, hosts, master, db] = sentinel;
    const [user, pass] = userinfo ? splitUserinfo(userinfo) : [undefined, undefined];
    return {
      cluster: false,
      sentinelMaster: decodeURIComponent(master),
      nodes: parseHostList(hosts, 26379),
      tls: scheme.toLowerCase() === 'rediss',
      username: user,
      password: pass,
      db: db ? Number(db) : undefined,
    };
  }
  const multi = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)/i.exec(url);
  if (multi) {
    const [, scheme, userinfo, hosts] = multi;
    const [user, pass] = userinfo ? splitUserinfo(userinfo) : [undefined, undefined];
    const nodes = hosts.split(',').map((node) => {
      const at = node.trim().lastIndexOf(':');
      return { host: node.trim().slice(0, at), port: Number(node.trim().slice(at + 1)) };
    });
    return { cluster: true, nodes, tls: scheme.toLowerCase() === 'rediss', username: user, password: pass };
  }
  const parsed = new URL(url);
  return {
    cluster,
    nodes: [{ host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) }],
    tls: parsed.protocol === 'rediss:',
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined,
  };
}

function parseHostList(hosts: string, defaultPort: number): ClusterNode[] {
  return hosts.split(',').map((node) => {
    const trimmed = node.trim();
    const at = trimmed.lastIndexOf(':');
    return at > 0 ? { host: trimmed.slice(0, at), port: Number(trimmed.slice(at + 1)) } : { host: trimmed, port: defaultPort };
  });
}

function splitUserinfo(userinfo: string): [string | undefined, string | undefined] {
  const colon = userinfo.indexOf(':');
  if (colon < 0) return [undefined, decodeURIComponent(userinfo)];
  return [decodeURIComponent(userinfo.slice(0, colon)) || undefined, decodeURIComponent(userinfo.slice(colon + 1))];
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
  const target = parseRedisTarget(url, options.cluster);
  const tls = target.tls ? (options.tlsCa ? { ca: options.tlsCa } : {}) : undefined;
  let client: Redis;
  if (target.cluster) {
    if (target.db) throw new RedisUnavailableError(redactUrl(url), new Error('Redis Cluster has only database 0'));
    // No keyPrefix: BullMQ and our Lua scripts build full key names (with hash tags) themselves.
    const cluster = new Cluster(target.nodes, {
      redisOptions: { ...redisOptions, username: target.username, password: target.password, ...(tls ? { tls } : {}) },
      clusterRetryStrategy: redisOptions.retryStrategy,
      enableReadyCheck: true,
      // Scripts and BullMQ commands are routed by key slot; refresh the map when the cluster reshards.
      slotsRefreshTimeout: 2_000,
    });
    client = cluster as unknown as Redis;
  } else if (target.sentinelMaster) {
    // Sentinel: ioredis asks the sentinels for the current master and follows failovers by itself.
    // The password is the data nodes'; sentinels are expected to run without auth or with the same one.
    client = new Redis({
      ...redisOptions,
      sentinels: target.nodes as Array<{ host: string; port: number }>,
      name: target.sentinelMaster,
      username: target.username,
      password: target.password,
      sentinelPassword: target.password,
      db: target.db,
      // After a failover the demoted master answers writes with READONLY: reconnect, which asks the
      // sentinels for the new master. (ioredis' failoverDetector is not used: its sentinel
      // subscriptions outlive quit() on duplicated connections and keep the process alive.)
      reconnectOnError: (error) => (/READONLY/.test(error.message) ? 2 : false),
      ...(tls ? { tls, enableTLSForSentinelMode: true } : {}),
    });
  } else {
    client = new Redis(url, { ...redisOptions, ...(tls ? { tls } : {}) });
  }
  let lastError = '';
  let everReady = false;
  client.on('error', (error: Error) => {
    // ioredis emits the same error on each reconnect attempt: log changes only. Before the first
    // connection, waitForRedis reports the failure as one line naming the URL: log at debug only.
    if (error.message !== lastError) options.logger?.[everReady ? 'warn' : 'debug']('redis connection error', { url: redactUrl(url), error: error.message });
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) options.logger?.info('redis connection restored', { url: redactUrl(url) });
    lastError = '';
    everReady = true;
  });
  return client;
}

/** Waits until the client is ready or fails with a one-line RedisUnavailableError naming the URL. */
export async function waitForRedis(client: RedisClient, url: string, timeoutMs = 5_000, options: { failFast?: boolean } = {}): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    let refusals = 0;
    const onError = (error: unknown) => {
      lastError = error;
      // A one-shot command gains nothing from waiting out the timeout on a server that refuses or
      // does not resolve: report it after a second try. Long-running processes keep waiting.
      const code = (error as NodeJS.ErrnoException)?.code;
      if (options.failFast && (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') && ++refusals >= 2) {
        cleanup();
        reject(new RedisUnavailableError(redactUrl(url), lastError));
      }
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
  if (/^rediss?\+(cluster|sentinel):/i.test(url)) return url.replace(/(\/\/[^:@/]*:)[^@/]*@/, '$1***@');
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

/**
 * Closes a client. One still connecting is first let reach `ready` (or give up): ioredis fails the
 * ready check of a connection quit mid-handshake and then arms a 2 s "stream still open" timer on a
 * socket that has already closed, which kept every one-shot CLI command alive 2 s after its work.
 */
export async function closeRedis(client: RedisClient, settleMs = 1_000): Promise<void> {
  if (client.status === 'connecting' || client.status === 'connect' || client.status === 'reconnecting') {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('end', done);
        resolve();
      };
      const timer = setTimeout(done, settleMs);
      client.once('ready', done);
      client.once('end', done);
    });
  }
  await client.quit().catch(() => client.disconnect());
}
