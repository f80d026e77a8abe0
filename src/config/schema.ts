import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import { OBJECT_STORE_ENV, type ArtifactLocation, type S3Settings } from './object-store.ts';

/**
 * Most pickup jobs one completion adds for the steps it put on a fan-out list: each pickup starts one
 * more chain of claims, on whichever worker of the pool takes it. A pickup that finds the list empty
 * costs a no-op job; too few pickups cap the fan-out's parallelism. The engine's default too (an
 * Engine built without config).
 */
export const DEFAULT_FANOUT_PICKUPS = 256;

const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", "15m" or "14d", found "${value}"` });
        return z.NEVER;
      }
      return ms;
    });

/** A single-node URL (redis://, rediss://) or a cluster seed list (redis+cluster://h1:p1,h2:p2). */
function isRedisUrl(value: string): boolean {
  const cluster = /^rediss?\+cluster:\/\/(?:[^@/]*@)?([^/?#]+)/i.exec(value);
  if (cluster) return cluster[1].split(',').every((node) => /^[^\s:,]+:\d{1,5}$/.test(node.trim()));
  const sentinel = /^rediss?\+sentinel:\/\/(?:[^@/]*@)?([^/?#]+)\/[^/?#]+(?:\/\d+)?$/i.exec(value);
  if (sentinel) return sentinel[1].split(',').every((node) => /^[^\s:,]+(:\d{1,5})?$/.test(node.trim()));
  try {
    return /^rediss?:$/i.test(new URL(value).protocol);
  } catch {
    return false;
  }
}

const port = z.coerce.number().int().min(0).max(65535);

/**
 * Every environment variable Conveyor reads, with its default. This object is the single source of
 * truth: the README table, docker-compose and the k8s manifests are checked against it by tests.
 */
export const ENV_SCHEMA = z.object({
  REDIS_URL: z
    .string()
    .refine(isRedisUrl, 'expected redis://[user:password@]host:port, rediss:// (TLS), redis+cluster://host:port,host:port or redis+sentinel://host:port,host:port/<master>')
    .default('redis://127.0.0.1:6379'),
  /** "1"/"true": REDIS_URL names a seed node of a Redis Cluster (same as a redis+cluster:// URL). */
  CONVEYOR_REDIS_CLUSTER: z.enum(['0', '1', 'true', 'false']).default('0'),
  /** PEM file of the CA that signed the Redis server's TLS certificate (for rediss:// with a private CA). */
  CONVEYOR_REDIS_TLS_CA: z.string().optional(),
  CONVEYOR_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" or "-"').default('conveyor'),
  CONVEYOR_PIPELINES: z.string().default('./pipelines'),
  /** Deadline for importing one pipeline file; a file past it is skipped with an error ("0" = none). */
  CONVEYOR_PIPELINE_IMPORT_TIMEOUT: duration('10s'),
  CONVEYOR_DATA_DIR: z.string().default('.conveyor'),
  /** The only folder directory deploys may write to; runs pick a target folder inside it (default <data dir>/serving). */
  CONVEYOR_DEPLOY_ROOT: z.string().optional(),
  CONVEYOR_RETENTION: duration('14d'),
  CONVEYOR_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  CONVEYOR_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
  CONVEYOR_STEP_ISOLATION: z.enum(['in-process', 'process']).default('in-process'),
  CONVEYOR_QUEUES: z.string().optional(),
  CONVEYOR_LOCK_DURATION: duration('30s'),
  CONVEYOR_STALLED_INTERVAL: duration('30s'),
  CONVEYOR_DRAIN_TIMEOUT: duration('30s'),
  /**
   * Eager dispatch: a completion that makes a step ready this worker can run claims it for this
   * worker (under a lease of CONVEYOR_LOCK_DURATION), skipping the queue round trips; the other
   * steps of a fan-out wait on the run's fan-out list for chains of claims.
   */
  CONVEYOR_EAGER_DISPATCH: z.enum(['0', '1', 'true', 'false']).default('1'),
  /**
   * Most pickup jobs one fan-out gets (each lets one more worker slot join it): a fan-out runs at
   * most this many ways (plus the completing worker) until more of the run completes. Set it to the
   * pool's total slots when those exceed it.
   */
  CONVEYOR_FANOUT_PICKUPS: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_FANOUT_PICKUPS),
  /** How long a worker retries writes Redis refuses for memory (OOM), keeping each step's result meanwhile. */
  CONVEYOR_REDIS_OOM_WINDOW: duration('5m'),
  CONVEYOR_API_PORT: port.default(8080),
  CONVEYOR_API_HOST: z.string().default('0.0.0.0'),
  CONVEYOR_API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  CONVEYOR_API_READ_TOKENS: z.string().optional(),
  /** Token-less local mode: extra comma-separated `host:port` values accepted in the Host header (a proxy in front). */
  CONVEYOR_API_ALLOWED_HOSTS: z.string().optional(),
  /** Port of the /metrics + /healthz server of each process; 0 turns the server off. */
  CONVEYOR_METRICS_PORT: port.default(9464),
  /**
   * Interface the /metrics server binds. Loopback by default: a process on a laptop or VM does not
   * publish its metrics. Containers must bind 0.0.0.0 (the image sets it) so Prometheus can reach them.
   */
  CONVEYOR_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** When set, each failed run is POSTed here ({ runId, pipeline, status, failedSteps }), with retries. */
  CONVEYOR_FAILURE_WEBHOOK: z.string().url().optional(),
  CONVEYOR_SECRETS_FILE: z.string().optional(),
  ...OBJECT_STORE_ENV,
});

export type EnvInput = z.input<typeof ENV_SCHEMA>;
export type Config = Readonly<{
  redisUrl: string;
  /** Connect with ioredis' Cluster client (CONVEYOR_REDIS_CLUSTER=1 or a redis+cluster:// URL). */
  redisCluster: boolean;
  /** Path of a PEM CA file for TLS connections (CONVEYOR_REDIS_TLS_CA). */
  redisTlsCa: string | undefined;
  prefix: string;
  pipelinesDir: string;
  pipelineImportTimeoutMs: number;
  dataDir: string;
  deployRoot: string;
  retentionMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  workerConcurrency: number;
  /** How a worker runs steps that choose no isolation: 'in-process' (fast) or 'process' (a child process per attempt). */
  stepIsolation: 'in-process' | 'process';
  queues: string[] | undefined;
  lockDurationMs: number;
  stalledIntervalMs: number;
  drainTimeoutMs: number;
  /** CONVEYOR_EAGER_DISPATCH: completions claim their one ready successor for their worker. */
  eagerDispatch: boolean;
  /** CONVEYOR_FANOUT_PICKUPS: most pickup jobs per fan-out. */
  fanOutPickups: number;
  redisOomWindowMs: number;
  apiPort: number;
  apiHost: string;
  apiAdminTokens: string[];
  apiReadTokens: string[];
  apiAllowedHosts: string[];
  metricsPort: number;
  metricsHost: string;
  failureWebhook: string | undefined;
  secretsFile: string | undefined;
  /** CONVEYOR_ARTIFACTS: a local directory (default) or an S3 bucket and prefix. */
  artifacts: ArtifactLocation;
  /** Where S3 clients connect (region, endpoint, path style); credentials are never in Config. */
  s3: S3Settings;
}>;

/** The names of all environment variables the config reads (used by deployment-file tests). */
export const ENV_NAMES: readonly string[] = Object.keys(ENV_SCHEMA.shape);
