/**
 * Shapes the model registry returns. Inputs are described by the zod schemas in `schemas.ts`;
 * these are the stored/returned records the CLI, the HTTP API and steps read.
 */

/** Where a version's bytes live and what they hash to (sha256, lowercase hex). */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  bytes: number;
  /** File name used when the artifact is published (deploy targets); defaults to `model.<format>`. */
  filename: string;
}

/** What the model was trained on: enough to tell two training sets apart and to find the source. */
export interface DataFingerprint {
  source: string;
  sha256: string;
  rowCount: number;
  /** column name -> type name */
  schema: Record<string, string>;
}

/** The run and step that produced a version, and the DAG (hash) it ran under. */
export interface Lineage {
  runId: string;
  step: string;
  dagHash: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ModelVersion {
  name: string;
  version: number;
  artifact: ArtifactRef;
  framework: string;
  format: string;
  metrics: Record<string, number>;
  hyperparameters: Record<string, JsonValue>;
  data: DataFingerprint | null;
  lineage: Lineage | null;
  /** ISO-8601 */
  createdAt: string;
  tags: Record<string, string>;
  description: string;
  /** Outcome of the evaluation gates given at registration; null when none were given. */
  gates: GateOutcomeRecord | null;
}

/** A version's evaluation gates as stored: each gate with its verdict and the sentence explaining it. */
export interface GateOutcomeRecord {
  passed: boolean;
  gates: Array<{ name: string; passed: boolean; reason: string }>;
}

export type AuditAction = 'set' | 'rollback' | 'delete' | 'deploy';

/**
 * One line of a model's audit log. Alias moves (`set`, `rollback`, `delete`) carry from → to;
 * `deploy` entries record a deployment attempt and its outcome in `details` (they move nothing).
 */
export interface AuditEntry {
  /** Per-model sequence number, 1, 2, 3… in the order the entries were written. */
  seq: number;
  model: string;
  /** ISO-8601 */
  at: string;
  /** `run:<runId>/<step>` for steps, whatever the CLI/API passes for people (e.g. `user:alice`). */
  actor: string;
  action: AuditAction;
  alias: string;
  from: number | null;
  to: number | null;
  reason: string;
  details?: Record<string, JsonValue>;
}

/** Published on every alias move (Redis channel + in-process listeners): the audit entry itself. */
export type AliasMovedEvent = AuditEntry & { action: 'set' | 'rollback' | 'delete' };

export interface ModelSummary {
  name: string;
  /** ISO-8601 of the first registration */
  createdAt: string;
  /** ISO-8601 of the last registration or alias move */
  updatedAt: string;
  latestVersion: number;
  latest: ModelVersion | null;
  /** alias -> version */
  aliases: Record<string, number>;
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export interface RegisterResult {
  version: ModelVersion;
  /** false when the idempotency key matched an earlier registration (a retried step): nothing was written. */
  created: boolean;
}
