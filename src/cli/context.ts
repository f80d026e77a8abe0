import type { Command } from 'commander';
import { hasRedisUrlInEnvironment, loadConfig, type Config } from '../config/index.ts';
import { createLogger, createRuntime, readDevState, type Runtime } from '../app/index.ts';

/** Global options every command accepts (see `conveyor --help`). */
export interface GlobalOptions {
  redisUrl?: string;
  prefix?: string;
  pipelines?: string;
  logLevel?: string;
}

/** Builds the config from global flags > environment > a running `conveyor dev` > defaults. */
export function configFrom(command: Command, options: { defaultLogLevel?: string } = {}): Config {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const overrides = {
    CONVEYOR_PREFIX: globals.prefix,
    CONVEYOR_PIPELINES: globals.pipelines,
    CONVEYOR_LOG_LEVEL: globals.logLevel ?? options.defaultLogLevel,
    REDIS_URL: globals.redisUrl,
  };
  const base = loadConfig(overrides);
  // No URL from flag or environment: use the Redis of a `conveyor dev` running in this project, if any.
  if (!globals.redisUrl && !hasRedisUrlInEnvironment()) {
    const dev = readDevState(base.dataDir);
    if (dev) return loadConfig({ ...overrides, REDIS_URL: dev.redisUrl });
  }
  return base;
}

/** Opens the runtime for a one-shot command (logs only warnings unless asked). */
export async function openRuntime(command: Command): Promise<Runtime> {
  const config = configFrom(command);
  const level = (command.optsWithGlobals() as GlobalOptions).logLevel ? config.logLevel : 'warn';
  return createRuntime(config, { logger: createLogger(level as Config['logLevel']), connectTimeoutMs: 3_000, failFast: true });
}

/** Runs `fn` with a runtime and always closes it. */
export async function withRuntime<T>(command: Command, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(command);
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
