export { loadConfig, hasRedisUrlInEnvironment } from './load.ts';
export { ENV_SCHEMA, ENV_NAMES, type Config, type EnvInput } from './schema.ts';
export { loadS3Settings, loadS3Credentials, objectStoreSecretValues, parseS3Uri, type S3Settings, type S3Credentials, type S3Location, type ArtifactLocation } from './object-store.ts';
