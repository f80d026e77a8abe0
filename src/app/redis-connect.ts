import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';
import type { Config } from '../config/schema.ts';
import { checkEvictionPolicy, createRedis, waitForRedis, type ConnectOptions } from '../redis/connection.ts';
import { ConfigError } from '../errors/conveyor-error.ts';

export interface RedisConnectOptions {
  logger: Logger;
  connectTimeoutMs?: number;
  /** One-shot commands: report a refused connection at once instead of waiting out the timeout. */
  failFast?: boolean;
}

/**
 * The main client of a process: connected (one-line error if unreachable) and its eviction policy
 * checked. `connect` is what further clients of the same process are created with.
 */
export async function connectMainRedis(config: Config, options: RedisConnectOptions): Promise<{ redis: Redis; connect: ConnectOptions }> {
  const connect: ConnectOptions = { logger: options.logger, cluster: config.redisCluster, tlsCa: readTlsCa(config.redisTlsCa) };
  const redis = createRedis(config.redisUrl, { ...connect, connectTimeoutMs: options.connectTimeoutMs });
  try {
    await waitForRedis(redis, config.redisUrl, options.connectTimeoutMs ?? 5_000, { failFast: options.failFast });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const warning = await checkEvictionPolicy(redis);
  if (warning) options.logger.warn(warning);
  return { redis, connect };
}

function readTlsCa(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`CONVEYOR_REDIS_TLS_CA: expected a readable PEM file, found ${path} (${(error as Error).message})`);
  }
}
