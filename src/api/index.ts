/** The HTTP API and web UI: what app/ and the CLI wire up. */
export { createApiServer, type ApiServer, type ApiServerOptions } from './server.ts';
export { TokenAuth, checkAuthSetup, type AuthConfig, type Role } from './auth.ts';
export { redactSecrets, isSecretKey, MASK } from './redact.ts';
export { buildOpenApi } from './openapi.ts';
export { idempotentRunId } from '../core/ids.ts';
