import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';

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

const port = z.coerce.number().int().min(0).max(65535);

/**
 * Every environment variable Conveyor reads, with its default. This object is the single source of
 * truth: the README table, docker-compose and the k8s manifests are checked against it by tests.
 */
export const ENV_SCHEMA = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  CONVEYOR_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" or "-"').default('conveyor'),
  CONVEYOR_PIPELINES: z.string().default('./pipelines'),
  CONVEYOR_DATA_DIR: z.string().default('.conveyor'),
  CONVEYOR_RETENTION: duration('14d'),
  CONVEYOR_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  CONVEYOR_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
  CONVEYOR_QUEUES: z.string().optional(),
  CONVEYOR_LOCK_DURATION: duration('30s'),
  CONVEYOR_STALLED_INTERVAL: duration('30s'),
  CONVEYOR_DRAIN_TIMEOUT: duration('30s'),
  CONVEYOR_API_PORT: port.default(8080),
  CONVEYOR_API_HOST: z.string().default('0.0.0.0'),
  CONVEYOR_API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  CONVEYOR_API_READ_TOKENS: z.string().optional(),
  CONVEYOR_METRICS_PORT: port.default(9464),
  CONVEYOR_SECRETS_FILE: z.string().optional(),
});

export type EnvInput = z.input<typeof ENV_SCHEMA>;
export type Config = Readonly<{
  redisUrl: string;
  prefix: string;
  pipelinesDir: string;
  dataDir: string;
  retentionMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  workerConcurrency: number;
  queues: string[] | undefined;
  lockDurationMs: number;
  stalledIntervalMs: number;
  drainTimeoutMs: number;
  apiPort: number;
  apiHost: string;
  apiAdminTokens: string[];
  apiReadTokens: string[];
  metricsPort: number;
  secretsFile: string | undefined;
}>;

/** The names of all environment variables the config reads (used by deployment-file tests). */
export const ENV_NAMES: readonly string[] = Object.keys(ENV_SCHEMA.shape);
