import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Clock } from '../core/clock.ts';
import type { RedisClient } from '../redis/connection.ts';
import { KeySpace } from '../redis/keys.ts';
import { LocalArtifactStore, defaultArtifactDir } from './local-artifact-store.ts';
import { ModelRegistry } from './model-registry.ts';
import type { WebhookConfig } from './webhook.ts';

export interface CreateModelRegistryOptions {
  redis: RedisClient;
  config: Pick<Config, 'prefix' | 'dataDir'> & Partial<Pick<Config, 'deployRoot'>>;
  logger?: Logger;
  clock?: Clock;
  webhooks?: WebhookConfig[];
  /** Overrides `<dataDir>/artifacts`. */
  artifactDir?: string;
}

/** The registry as the app wires it: keys from the configured prefix, local artifacts under `dataDir`. */
export function createModelRegistry(options: CreateModelRegistryOptions): ModelRegistry {
  return new ModelRegistry({
    redis: options.redis,
    keys: new KeySpace(options.config.prefix),
    artifacts: new LocalArtifactStore(options.artifactDir ?? defaultArtifactDir(options.config.dataDir)),
    logger: options.logger,
    clock: options.clock,
    webhooks: options.webhooks,
    deployRoot: options.config.deployRoot ?? join(options.config.dataDir, 'serving'),
  });
}
