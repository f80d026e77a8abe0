import { createHash, randomBytes } from 'node:crypto';

/** Names of pipelines, steps and queues: safe in Redis keys, BullMQ job ids and URLs. */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** Run ids sort by creation time and never contain `:` (BullMQ job ids may not). */
export function newRunId(now: number = Date.now()): string {
  return `r${now.toString(36)}${randomBytes(5).toString('hex')}`;
}

/**
 * Does step `name` belong to the step a user asked for? A map step's instances are named
 * `<map>[<index>]`, so asking for the map selects all its items (`score` → `score[0]`, `score[1]`…);
 * no filter selects everything. One rule for the API's `?step=` and the CLI's `--step`.
 */
export const stepSelected = (name: string, wanted: string | undefined): boolean => !wanted || name === wanted || name.startsWith(`${wanted}[`);

/** Deterministic BullMQ job id of one step of one run: a repeat add of the same step is a no-op. */
export function stepJobId(runId: string, step: string): string {
  return `${runId}.${step}`;
}

/** Run id for a validated external key (schedule tick, idempotency key): deterministic, `:`-free. */
export function deterministicRunId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, '_')).join('.');
}

/** `2026-03-29T01:30:00.000Z` → `20260329T013000Z` (milliseconds kept only when not zero): for ids. */
export function compactIso(ms: number): string {
  const iso = new Date(ms).toISOString().replace(/[-:]/g, '');
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** An idempotency key (HTTP `Idempotency-Key`, `conveyor run --idempotency-key`): 1-255 printable ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Same pipeline + same idempotency key → same run id, whether the key came through the API or the
 * CLI, so a client retrying after a timeout gets the run it already created instead of a second one.
 * The key is hashed: any printable key maps to a `:`-free id of fixed length, and keys that differ
 * only in punctuation stay different runs.
 */
export function idempotentRunId(pipelineId: string, key: string): string {
  const digest = createHash('sha256').update(`${pipelineId}\n${key}`).digest('hex').slice(0, 32);
  return deterministicRunId('k', pipelineId, digest);
}
