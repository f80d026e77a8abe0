import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConveyorError, ValidationError } from '../../errors/conveyor-error.ts';
import { formatZodIssues } from '../../errors/zod-issues.ts';
import { aliasNameSchema, modelNameSchema } from '../../registry/schemas.ts';
import { isStepRegistryClient, type StepRegistryClient, type StepRegisterInput } from '../../registry/step-client.ts';
import type { AuditEntry, JsonValue, ModelVersion } from '../../registry/types.ts';
import { postWebhook } from '../../registry/webhook.ts';
import { publishToDirectory } from './directory-target.ts';
import { localCopy } from './local-copy.ts';
import { resolveServingDir } from './serving-path.ts';

const targetSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('directory'),
    /** A folder of the deploy root (CONVEYOR_DEPLOY_ROOT), e.g. `churn`; or `path`, which must lie inside the root. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a folder name: letters, digits, ".", "_", "-"').optional(),
    path: z.string().min(1).optional(),
    /** Releases kept besides current and previous. */
    keepExtra: z.number().int().min(0).max(100).optional(),
  }).refine((t) => (t.name === undefined) !== (t.path === undefined), 'expected exactly one of "name" (a folder of the deploy root) or "path"'),
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).optional(),
    retries: z.number().int().min(0).max(20).optional(),
    backoffMs: z.number().int().min(0).max(60_000).optional(),
    timeoutMs: z.number().int().min(1).max(600_000).optional(),
  }),
]);
export type DeployTarget = z.input<typeof targetSchema>;
/** A target with its directory resolved inside the deploy root. */
type ResolvedTarget = Exclude<z.output<typeof targetSchema>, { type: 'directory' }> | (Extract<z.output<typeof targetSchema>, { type: 'directory' }> & { dir: string });

const optionsSchema = z.strictObject({
  model: modelNameSchema,
  /** An existing version (number, "latest", alias) or a new version to register first. */
  version: z.union([z.number().int().min(1), z.string().min(1), z.looseObject({ artifact: z.unknown() })]),
  alias: aliasNameSchema.default('production'),
  /** Typically the outcome of `evaluateGates`; only `passed` is read, the rest goes to the audit log. */
  gates: z.looseObject({ passed: z.boolean() }),
  target: targetSchema,
  reason: z.string().max(2000).optional(),
});

export interface DeployOptions {
  model: string;
  version: number | string | Omit<StepRegisterInput, 'name'> & { name?: string };
  alias?: string;
  gates: { passed: boolean; [key: string]: unknown };
  target: DeployTarget;
  reason?: string;
}

export interface DeployContext {
  /** A client from createStepRegistryClient (ctx.registry in a step). */
  registry: unknown;
  signal?: AbortSignal;
}

export interface DeployResult {
  status: 'deployed' | 'blocked';
  model: string;
  version: number;
  alias: string;
  /** What the alias pointed at before (null = unset). */
  previous: number | null;
  /** Release directory or webhook URL (origin + path); null when blocked. */
  location: string | null;
  /** The `deploy` audit entry written for this deployment. */
  audit: AuditEntry;
}

/** The target failed; the alias move was rolled back (see `details.rolledBack`). */
export class DeploymentError extends ConveyorError {
  constructor(message: string, details: Record<string, unknown>, cause: unknown) {
    super('INTERNAL', message, details, { cause });
  }
}

/**
 * Deploys a model version: registers it if given as new, moves `alias` to it only when the gates
 * passed (compare-and-set against the alias as read, so a concurrent move is never overwritten),
 * then publishes to the target. When the target fails the alias is rolled back; the audit log shows
 * the move, the rollback and a `deploy` entry with the outcome. Every call writes one `deploy` entry.
 */
export async function deploy(ctx: DeployContext, input: DeployOptions): Promise<DeployResult> {
  if (!isStepRegistryClient(ctx.registry)) {
    throw new ValidationError('deploy: expected ctx.registry to be a registry client made by createStepRegistryClient');
  }
  const client = ctx.registry;
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error);
    throw new ValidationError(`deploy: invalid options: ${issues.join('; ')}`, issues);
  }
  const { model, alias } = parsed.data;
  // Resolved before anything is registered or moved: a target outside the deploy root touches nothing.
  const target: ResolvedTarget =
    parsed.data.target.type === 'directory' ? { ...parsed.data.target, dir: await resolveServingDir(client.deployRoot, parsed.data.target) } : parsed.data.target;
  const gates = toJson(input.gates);
  const version = await resolveVersion(client, model, input.version);
  const previous = (await client.aliases(model))[alias] ?? null;
  const reason = parsed.data.reason ?? `deploy version ${version.version} to ${target.type}`;
  const targetInfo = describeTarget(target);
  const record = (outcome: string, location: string | null = null, extra: Record<string, JsonValue> = {}) =>
    client.recordDeployment(model, { alias, from: previous, to: version.version, reason, details: { outcome, target: targetInfo, location, gates, ...extra } });

  if (!input.gates.passed) {
    const audit = await record('blocked');
    return { status: 'blocked', model, version: version.version, alias, previous, location: null, audit };
  }

  const moved = previous !== version.version;
  try {
    // Never publish bytes that changed since registration.
    await client.verifyArtifact(version);
    if (moved) await client.setAlias(model, alias, version.version, { reason, expectedVersion: previous });
  } catch (error) {
    // Nothing moved (checksum mismatch, or the alias moved concurrently): record the attempt, fail.
    await record('failed', null, { error: (error as Error).message, rolledBack: false });
    throw error;
  }

  let location: string;
  try {
    location = await publish(client, version, alias, previous, target, ctx.signal);
  } catch (error) {
    const message = (error as Error).message;
    let rolledBack = !moved;
    let rollbackError: string | undefined;
    if (moved) {
      try {
        await client.rollback(model, alias, { reason: `deploy to ${target.type} failed: ${message}`, expectedVersion: version.version });
        rolledBack = true;
      } catch (rbError) {
        rollbackError = (rbError as Error).message;
      }
    }
    await record('failed', null, { error: message, rolledBack, ...(rollbackError ? { rollbackError } : {}) });
    const tail = moved ? (rolledBack ? `; alias "${alias}" rolled back to ${previous ?? 'unset'}` : `; rolling back alias "${alias}" failed too: ${rollbackError}`) : '';
    throw new DeploymentError(`deploy ${model} version ${version.version} to ${targetInfo}: ${message}${tail}`, { model, version: version.version, alias, previous, rolledBack }, error);
  }
  const audit = await record('succeeded', location);
  return { status: 'deployed', model, version: version.version, alias, previous, location, audit };
}

async function resolveVersion(client: StepRegistryClient, model: string, ref: DeployOptions['version']): Promise<ModelVersion> {
  if (typeof ref === 'number' || typeof ref === 'string') return client.get(model, ref);
  if (ref.name !== undefined && ref.name !== model) {
    throw new ValidationError(`deploy: version.name "${ref.name}" does not match model "${model}"`);
  }
  return (await client.register({ ...ref, name: model })).version;
}

async function publish(
  client: StepRegistryClient,
  version: ModelVersion,
  alias: string,
  previous: number | null,
  target: ResolvedTarget,
  signal?: AbortSignal,
): Promise<string> {
  const manifest = {
    model: version.name,
    version: version.version,
    alias,
    previousVersion: previous,
    artifact: { file: version.artifact.filename, uri: version.artifact.uri, sha256: version.artifact.sha256, bytes: version.artifact.bytes },
    framework: version.framework,
    format: version.format,
    metrics: version.metrics,
    hyperparameters: version.hyperparameters,
    data: version.data,
    lineage: version.lineage,
    tags: version.tags,
    registeredAt: version.createdAt,
    deployedAt: new Date().toISOString(),
    deployedBy: client.actor,
  };
  if (target.type === 'directory') {
    const artifact = await localCopy(await client.artifacts.get(version.artifact.uri));
    const releaseName = `${Date.now().toString().padStart(15, '0')}-${version.name}-v${version.version}-${randomBytes(3).toString('hex')}`;
    try {
      const result = await publishToDirectory({ root: target.dir, releaseName, artifactPath: artifact.path, filename: version.artifact.filename, manifest, keepExtra: target.keepExtra });
      return result.release;
    } finally {
      await artifact.release();
    }
  }
  await postWebhook(target.url, { type: 'model.deployed', ...manifest }, { headers: target.headers, retries: target.retries, backoffMs: target.backoffMs, timeoutMs: target.timeoutMs, signal });
  return describeTarget(target);
}

function describeTarget(target: ResolvedTarget): string {
  if (target.type === 'directory') return `directory:${target.dir}`;
  const url = new URL(target.url);
  return `webhook:${url.origin}${url.pathname}`;
}

/** A JSON-safe copy (drops functions/undefined) for the audit log. */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
