export { ModelRegistry, type ModelRegistryOptions, type AliasMoveOptions, type DeploymentRecord, type AliasMovedListener } from './model-registry.ts';
export { createModelRegistry, type CreateModelRegistryOptions } from './create.ts';
export { createStepRegistryClient, isStepRegistryClient, type StepRegistryClient, type StepLineage, type StepRegisterInput } from './step-client.ts';
export type { ArtifactStore, PutResult, StoredArtifact, VerifyResult } from './artifact-store.ts';
export { LocalArtifactStore, defaultArtifactDir } from './local-artifact-store.ts';
export { postWebhook, type WebhookOptions, type WebhookConfig, type WebhookResult } from './webhook.ts';
export { ArtifactChecksumError, GatesFailedError, WebhookDeliveryError } from './errors.ts';
export { AliasConflictError, registryEventsChannel } from '../redis/registry-store.ts';
export {
  registerInputSchema,
  setAliasInputSchema,
  aliasActionInputSchema,
  modelNameSchema,
  aliasNameSchema,
  pageInputSchema,
  type RegisterInput,
  type SetAliasInput,
  type AliasActionInput,
  type PageInput,
} from './schemas.ts';
export type {
  ArtifactRef,
  DataFingerprint,
  Lineage,
  JsonValue,
  ModelVersion,
  GateOutcomeRecord,
  AuditAction,
  AuditEntry,
  AliasMovedEvent,
  ModelSummary,
  Page,
  RegisterResult,
} from './types.ts';
