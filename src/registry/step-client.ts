import type { ModelRegistry } from './model-registry.ts';
import type { RegisterInput } from './schemas.ts';
import type { AliasMovedEvent, ArtifactRef, AuditEntry, JsonValue, ModelVersion, RegisterResult } from './types.ts';
import type { ArtifactStore } from './artifact-store.ts';

export interface StepLineage {
  runId: string;
  step: string;
  dagHash: string;
  /** Who the audit log names; defaults to `run:<runId>/<step>`. */
  actor?: string;
}

/** Registration input as a step writes it: lineage comes from the run. */
export type StepRegisterInput = Omit<RegisterInput, 'lineage'>;

/**
 * What a step sees as `ctx.registry`: the registry with the run's lineage and actor filled in, so a
 * step cannot forget them or claim another run's.
 */
export interface StepRegistryClient {
  readonly actor: string;
  readonly lineage: Readonly<{ runId: string; step: string; dagHash: string }>;
  readonly artifacts: ArtifactStore;
  /** The folder directory deploys are confined to (the registry's, from CONVEYOR_DEPLOY_ROOT). */
  readonly deployRoot: string;
  register(input: StepRegisterInput): Promise<RegisterResult>;
  get(name: string, versionOrAlias: number | string): Promise<ModelVersion>;
  aliases(name: string): Promise<Record<string, number>>;
  setAlias(name: string, alias: string, version: number, options?: { reason?: string; expectedVersion?: number | null }): Promise<AliasMovedEvent>;
  rollback(name: string, alias: string, options?: { reason?: string; expectedVersion?: number | null }): Promise<AliasMovedEvent>;
  recordDeployment(name: string, record: { alias: string; from: number | null; to: number | null; reason?: string; details: Record<string, JsonValue> }): Promise<AuditEntry>;
  verifyArtifact(version: ModelVersion): Promise<void>;
  /** Stores bytes/a file in the artifact store (e.g. before registering by uri). */
  putArtifact(source: string | Uint8Array): Promise<Omit<ArtifactRef, 'filename'>>;
}

// Types `ctx.registry` in step handlers (see StepRegistryApi in dsl/context.ts).
declare module '../dsl/context.ts' {
  interface StepRegistryApi extends StepRegistryClient {}
}

const BRAND = Symbol.for('conveyor.stepRegistryClient');

export function createStepRegistryClient(registry: ModelRegistry, lineage: StepLineage): StepRegistryClient {
  const { runId, step, dagHash } = lineage;
  const actor = lineage.actor ?? `run:${runId}/${step}`;
  const client: StepRegistryClient & { [BRAND]: true } = {
    [BRAND]: true,
    actor,
    lineage: Object.freeze({ runId, step, dagHash }),
    artifacts: registry.artifacts,
    deployRoot: registry.deployRoot,
    register: (input) => registry.register({ ...input, lineage: { runId, step, dagHash } }),
    get: (name, ref) => registry.get(name, ref),
    aliases: (name) => registry.aliases(name),
    setAlias: (name, alias, version, options = {}) => registry.setAlias(name, alias, version, { ...options, actor }),
    rollback: (name, alias, options = {}) => registry.rollback(name, alias, actor, options.reason ?? '', { expectedVersion: options.expectedVersion }),
    recordDeployment: (name, record) => registry.recordDeployment(name, { ...record, actor }),
    verifyArtifact: (version) => registry.verifyArtifact(version),
    putArtifact: (source) => registry.artifacts.put(source),
  };
  return Object.freeze(client);
}

/** True for clients made by createStepRegistryClient (ctx.registry is typed `unknown` in the DSL). */
export function isStepRegistryClient(value: unknown): value is StepRegistryClient {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
