import { join } from 'node:path';
import { ConfigError } from '../errors/conveyor-error.ts';
import { formatZodIssues } from '../errors/zod-issues.ts';
import { artifactLocation, loadS3Settings } from './object-store.ts';
import { ENV_SCHEMA, type Config } from './schema.ts';

const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Builds the frozen config: explicit overrides win over the environment, which wins over defaults.
 * This is the only place that reads `process.env`.
 */
export function loadConfig(overrides: Partial<Record<keyof typeof ENV_SCHEMA.shape, string | number | undefined>> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(ENV_SCHEMA.shape)) {
    const value = (overrides as Record<string, unknown>)[name] ?? env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = ENV_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error);
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`, issues);
  }
  const e = parsed.data;
  return Object.freeze({
    redisUrl: e.REDIS_URL,
    redisCluster: e.CONVEYOR_REDIS_CLUSTER === '1' || e.CONVEYOR_REDIS_CLUSTER === 'true' || /^rediss?\+cluster:/i.test(e.REDIS_URL),
    redisTlsCa: e.CONVEYOR_REDIS_TLS_CA,
    prefix: e.CONVEYOR_PREFIX,
    pipelinesDir: e.CONVEYOR_PIPELINES,
    pipelineImportTimeoutMs: e.CONVEYOR_PIPELINE_IMPORT_TIMEOUT,
    dataDir: e.CONVEYOR_DATA_DIR,
    deployRoot: e.CONVEYOR_DEPLOY_ROOT ?? join(e.CONVEYOR_DATA_DIR, 'serving'),
    retentionMs: e.CONVEYOR_RETENTION,
    logLevel: e.CONVEYOR_LOG_LEVEL,
    workerConcurrency: e.CONVEYOR_WORKER_CONCURRENCY,
    stepIsolation: e.CONVEYOR_STEP_ISOLATION,
    queues: e.CONVEYOR_QUEUES ? splitList(e.CONVEYOR_QUEUES) : undefined,
    lockDurationMs: e.CONVEYOR_LOCK_DURATION,
    stalledIntervalMs: e.CONVEYOR_STALLED_INTERVAL,
    drainTimeoutMs: e.CONVEYOR_DRAIN_TIMEOUT,
    eagerDispatch: e.CONVEYOR_EAGER_DISPATCH === '1' || e.CONVEYOR_EAGER_DISPATCH === 'true',
    fanOutPickups: e.CONVEYOR_FANOUT_PICKUPS,
    redisOomWindowMs: e.CONVEYOR_REDIS_OOM_WINDOW,
    apiPort: e.CONVEYOR_API_PORT,
    apiHost: e.CONVEYOR_API_HOST,
    apiAdminTokens: e.CONVEYOR_API_TOKEN ? [e.CONVEYOR_API_TOKEN] : [],
    apiReadTokens: splitList(e.CONVEYOR_API_READ_TOKENS),
    apiAllowedHosts: splitList(e.CONVEYOR_API_ALLOWED_HOSTS),
    metricsPort: e.CONVEYOR_METRICS_PORT,
    metricsHost: e.CONVEYOR_METRICS_HOST,
    failureWebhook: e.CONVEYOR_FAILURE_WEBHOOK,
    secretsFile: e.CONVEYOR_SECRETS_FILE,
    artifacts: artifactLocation(e.CONVEYOR_ARTIFACTS),
    s3: loadS3Settings(raw as NodeJS.ProcessEnv),
  });
}

/** Env vars that carry secrets: `CONVEYOR_SECRET_<NAME>` -> NAME. Kept out of Config so it never prints them. */
export const SECRET_ENV_PREFIX = 'CONVEYOR_SECRET_';

export function secretEnvVars(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(SECRET_ENV_PREFIX) && name.length > SECRET_ENV_PREFIX.length && value !== undefined) out[name.slice(SECRET_ENV_PREFIX.length)] = value;
  }
  return out;
}

/** Whether REDIS_URL is set in the environment (the CLI then never falls back to a `conveyor dev` Redis). */
export function hasRedisUrlInEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.REDIS_URL);
}
