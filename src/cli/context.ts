import type { Command } from 'commander';
import { hasRedisUrlInEnvironment, loadConfig, type Config } from '../config/index.ts';
// Direct module imports, not app/index.ts: that barrel loads BullMQ, fastify and the rest, which
// read-only one-shot commands never use (start-up time is most of their wall time).
import { createLogger } from '../app/logger.ts';
import { devStatePath, inspectDevState } from '../app/dev-discovery.ts';
import type { Runtime } from '../app/runtime.ts';
import { openRunReader, type RunReader } from '../app/run-reader.ts';
import { dim } from './output.ts';

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
  if (globals.redisUrl || hasRedisUrlInEnvironment()) return base;
  // No URL from flag or environment: use the Redis of a `conveyor dev` running in this project, if
  // any; either way remember where the URL came from, for the line one-shot commands print.
  const dev = inspectDevState(base.dataDir);
  if (dev.status === 'running' && dev.state.redisUrl) {
    const config = loadConfig({ ...overrides, REDIS_URL: dev.state.redisUrl });
    implicitRedis.set(config, `the conveyor dev running here (pid ${dev.state.pid})`);
    return config;
  }
  implicitRedis.set(
    base,
    dev.status === 'stale'
      ? `the default: the conveyor dev that wrote ${devStatePath(base.dataDir)} (pid ${dev.pid}) no longer runs, its file was removed`
      : dev.status === 'running'
        ? `the default: the conveyor dev here (pid ${dev.state.pid}) is still starting`
        : 'the default: no --redis-url, no REDIS_URL and no conveyor dev running here',
  );
  return base;
}

/** Configs whose Redis URL came from neither a flag nor the environment → where it came from. */
const implicitRedis = new WeakMap<Config, string>();

/** Where a config's Redis URL came from when no flag or environment variable gave it. */
export const implicitRedisOrigin = (config: Config): string | undefined => implicitRedis.get(config);

/** Connection options of a one-shot command: logs only warnings unless asked, fails fast. */
function oneShot(command: Command, config: Config) {
  const origin = implicitRedisOrigin(config);
  if (origin) process.stderr.write(dim(`using Redis ${config.redisUrl} (${origin})\n`));
  const level = (command.optsWithGlobals() as GlobalOptions).logLevel ? config.logLevel : 'warn';
  return { logger: createLogger(level as Config['logLevel']), connectTimeoutMs: 3_000, failFast: true };
}

/** Opens the runtime for a one-shot command. */
export async function openRuntime(command: Command): Promise<Runtime> {
  const config = configFrom(command);
  const { createRuntime } = await import('../app/runtime.ts');
  return createRuntime(config, oneShot(command, config));
}

/** Runs `fn` with a runtime and always closes it. */
export async function withRuntime<T>(command: Command, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  return using(await openRuntime(command), fn);
}

/** Runs `fn` with the read side only (runs, steps, logs: no BullMQ) and always closes it. */
export async function withRunReader<T>(command: Command, fn: (reader: RunReader) => Promise<T>): Promise<T> {
  const config = configFrom(command);
  return using(await openRunReader(config, oneShot(command, config)), fn);
}

async function using<R extends { close(): Promise<void> }, T>(resource: R, fn: (resource: R) => Promise<T>): Promise<T> {
  try {
    return await fn(resource);
  } finally {
    await resource.close();
  }
}
