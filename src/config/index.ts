export { loadConfig, hasRedisUrlInEnvironment } from './load.ts';
export { ENV_SCHEMA, ENV_NAMES, type Config, type EnvInput } from './schema.ts';
