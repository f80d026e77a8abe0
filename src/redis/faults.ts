import { oomRefusal } from './oom.ts';

/**
 * Errors that say Redis (or the way to it) failed, not the code that called it: the connection is
 * down or was closed, a command ran out of retries or time, the server refuses writes for memory, is
 * loading, is a read-only replica after a failover, or the cluster is reconfiguring. Recognised here
 * and nowhere else (the shapes are ioredis's and Redis's). A Lua error or a bug is not one of these.
 */
export function infrastructureFault(error: unknown): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  if (oomRefusal(error)) return error;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return error;
  if (CLIENT_ERRORS.has(error.name)) return error;
  if (CONNECTION_MESSAGES.some((pattern) => pattern.test(error.message))) return error;
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** ioredis's own error classes for a connection that gave up on a command. */
const CLIENT_ERRORS = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

const CONNECTION_MESSAGES = [
  /^Connection is closed/,
  /^Command timed out/,
  /enableOfflineQueue options is false/,
  /^Reached the max retries per request limit/,
  // Server replies that describe its state, not the command: retrying elsewhere or later succeeds.
  /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/,
];
