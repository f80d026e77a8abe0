import { createRedactor, isSecretKey, REDACTED } from '../core/redact.ts';

/** What replaces a secret value in API responses. */
export const MASK = REDACTED;
export { isSecretKey };

/**
 * A deep copy of `value` with secrets masked: values under secret-looking keys, `key=value` pairs and
 * URL passwords inside strings, and any literal occurrence of a known secret value. Used on every
 * params/output/error/log payload the API returns, so a step that echoes its config cannot leak it.
 * The rules are the worker's (core/redact.ts), plus in-text pairs, which only shown values need.
 */
export function redactSecrets<T>(value: T, knownSecrets: readonly string[] = []): T {
  return createRedactor(knownSecrets, { inlinePairs: true })(value) as T;
}
