import type { StepSpec } from '../dsl/types.ts';

/** Small helpers of the test kit: backoff delays as BullMQ computes them, secret masking, ordering. */

/** The delay BullMQ waits after failed attempt `attempt` (1-based): fixed, or delay · 2^(attempt-1). */
export function backoffMs(spec: Pick<StepSpec, 'backoff'>, attempt: number): number {
  const { type, delayMs } = spec.backoff;
  return type === 'exponential' ? Math.round(delayMs * 2 ** (attempt - 1)) : delayMs;
}

export function secretMasker(values: string[]): (value: unknown) => unknown {
  const secrets = values.filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (v) => v;
  const maskString = (s: string) => secrets.reduce((acc, secret) => acc.split(secret).join('***'), s);
  const mask = (value: unknown): unknown => {
    if (typeof value === 'string') return maskString(value);
    if (Array.isArray(value)) return value.map(mask);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
    return value;
  };
  return mask;
}

export function maskError(error: Error, redact: (value: unknown) => unknown): Error {
  error.message = String(redact(error.message));
  if (error.stack) error.stack = String(redact(error.stack));
  return error;
}

export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
