import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { loadS3Credentials } from '../config/object-store.ts';
import type { Logger } from '../core/logger.ts';
import type { Clock } from '../core/clock.ts';
import type { RedisClient } from '../redis/connection.ts';
import { KeySpace } from '../redis/keys.ts';
import { createS3Connection } from '../storage/s3-client.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { LocalArtifactStore, defaultArtifactDir } from './local-artifact-store.ts';
import { ModelRegistry } from './model-registry.ts';
import { S3ArtifactStore } from './s3-artifact-store.ts';
import type { WebhookConfig } from './webhook.ts';

export interface CreateModelRegistryOptions {
  redis: RedisClient;
  config: Pick<Config, 'prefix' | 'dataDir'> & Partial<Pick<Config, 'artifacts' | 's3' | 'deployRoot'>>;
  logger?: Logger;
  clock?: Clock;
  webhooks?: WebhookConfig[];
  /** Overrides `<dataDir>/artifacts`. */
  artifactDir?: string;
}

/** The registry as the app wires it: keys from the configured prefix, artifacts where CONVEYOR_ARTIFACTS says. */
export function createModelRegistry(options: CreateModelRegistryOptions): ModelRegistry {
  return new ModelRegistry({
    redis: options.redis,
    keys: new KeySpace(options.config.prefix),
    artifacts: createArtifactStore(options.config, options.artifactDir),
    logger: options.logger,
    clock: options.clock,
    webhooks: options.webhooks,
    deployRoot: options.config.deployRoot ?? join(options.config.dataDir, 'serving'),
  });
}

/** S3 when CONVEYOR_ARTIFACTS is `s3://…` (credentials from the environment or the SDK's chain), else a local directory. */
export function createArtifactStore(config: CreateModelRegistryOptions['config'], artifactDir?: string): ArtifactStore {
  const location = config.artifacts;
  if (location?.kind === 's3' && config.s3) {
    return new S3ArtifactStore(createS3Connection(config.s3, loadS3Credentials()), { bucket: location.bucket, prefix: location.prefix });
  }
  const dir = artifactDir ?? (location?.kind === 'local' ? location.dir : undefined) ?? defaultArtifactDir(config.dataDir);
  return new LocalArtifactStore(dir);
}
