import { z } from 'zod';
import { NAME_PATTERN } from '../core/ids.ts';
import { ValidationError } from '../errors/conveyor-error.ts';
import { formatZodIssues } from '../errors/zod-issues.ts';

const NAME_HINT = 'expected a name of letters, digits, "_" or "-" starting with a letter (max 100)';
const SHA256 = /^[0-9a-f]{64}$/;

export const modelNameSchema = z.string().regex(NAME_PATTERN, NAME_HINT);
/** `latest` is a pseudo-alias (always the newest version), so it cannot be set. */
export const aliasNameSchema = z
  .string()
  .regex(NAME_PATTERN, NAME_HINT)
  .refine((value) => value !== 'latest', 'expected an alias other than "latest" (it always means the newest version)');
export const versionNumberSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const sha256Schema = z
  .string()
  .transform((value) => value.toLowerCase())
  .pipe(z.string().regex(SHA256, 'expected a sha256 as 64 hex characters'));
export const actorSchema = z.string().min(1, 'expected a non-empty actor (run id or user)').max(200);
export const reasonSchema = z.string().max(2000).default('');

const shortText = z.string().min(1).max(100);
const filenameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._-]+$/, 'expected a plain file name (letters, digits, ".", "_", "-")')
  .refine((value) => value !== '.' && value !== '..' && value !== 'manifest.json', 'expected a file name other than ".", ".." or "manifest.json"');

/**
 * An artifact is given either as a reference to bytes already in the store (`uri` + `sha256`),
 * or as a local file / in-memory bytes the registry puts into the store first.
 */
export const artifactInputSchema = z.union([
  z.strictObject({ uri: z.string().min(1).max(2000), sha256: sha256Schema, filename: filenameSchema.optional() }),
  z.strictObject({ path: z.string().min(1), sha256: sha256Schema.optional(), filename: filenameSchema.optional() }),
  z.strictObject({
    content: z.instanceof(Uint8Array, { message: 'expected a Buffer/Uint8Array' }),
    sha256: sha256Schema.optional(),
    filename: filenameSchema.optional(),
  }),
]);

export const dataFingerprintSchema = z.strictObject({
  source: z.string().min(1).max(2000),
  sha256: sha256Schema,
  rowCount: z.number().int().min(0),
  schema: z.record(z.string().min(1).max(200), z.string().min(1).max(200)),
});

export const lineageSchema = z.strictObject({
  runId: z.string().min(1).max(200),
  step: z.string().min(1).max(200),
  dagHash: z.string().min(1).max(200),
});

const metricsSchema = z.record(
  z.string().min(1).max(200),
  z.number().refine(Number.isFinite, 'expected a finite number'),
);
const tagsSchema = z
  .record(z.string().min(1).max(200), z.string().max(2000))
  .refine((tags) => Object.keys(tags).length <= 100, 'expected at most 100 tags');

/**
 * The outcome of the version's evaluation gates (what `evaluateGates` returns): promoting a version
 * whose gates failed is refused unless forced. Extra fields of each gate are dropped.
 */
export const gateOutcomeSchema = z.object({
  passed: z.boolean(),
  gates: z
    .array(z.object({ name: z.string().min(1).max(200), passed: z.boolean(), reason: z.string().max(2000).default('') }))
    .max(100)
    .default([]),
});

export const registerInputSchema = z.strictObject({
  name: modelNameSchema,
  artifact: artifactInputSchema,
  framework: shortText,
  format: shortText,
  metrics: metricsSchema.default({}),
  hyperparameters: z.record(z.string().min(1).max(200), z.json()).default({}),
  data: dataFingerprintSchema.nullable().default(null),
  lineage: lineageSchema.nullable().default(null),
  tags: tagsSchema.default({}),
  description: z.string().max(10_000).default(''),
  /** Outcome of the evaluation gates (e.g. `evaluateGates(...)`); null = not evaluated. */
  gates: gateOutcomeSchema.nullable().default(null),
  /** Same key → same version, no new write (retried steps). Defaults to run/step/sha256 when lineage is set. */
  idempotencyKey: z.string().min(1).max(500).optional(),
});
export type RegisterInput = z.input<typeof registerInputSchema>;
export type ParsedRegisterInput = z.output<typeof registerInputSchema>;

export const setAliasInputSchema = z.strictObject({
  name: modelNameSchema,
  alias: aliasNameSchema,
  version: versionNumberSchema,
  actor: actorSchema,
  reason: reasonSchema,
  /** Compare-and-set: the version the alias must point at now (`null` = must not be set). */
  expectedVersion: versionNumberSchema.nullable().optional(),
  /** `promote` only: move the alias even to a version whose evaluation gates failed (audited as forced). */
  force: z.boolean().optional(),
});
export type SetAliasInput = z.input<typeof setAliasInputSchema>;

export const aliasActionInputSchema = z.strictObject({
  name: modelNameSchema,
  alias: aliasNameSchema,
  actor: actorSchema,
  reason: reasonSchema,
  expectedVersion: versionNumberSchema.nullable().optional(),
});
export type AliasActionInput = z.input<typeof aliasActionInputSchema>;

export const pageInputSchema = z.strictObject({
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(50),
});
export type PageInput = z.input<typeof pageInputSchema>;

/** A version number, a numeric string ("3"), `latest`, or an alias name. */
export const versionRefSchema = z.union([versionNumberSchema, z.string().min(1).max(100)]);

/** Parses `value` or throws a ValidationError listing each issue as "where: problem". */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const forbidden = forbiddenKeyIn(value, '$');
  if (forbidden) throw new ValidationError(`${where}: forbidden key at ${forbidden}`, [`${forbidden}: forbidden key`]);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error);
    throw new ValidationError(`${where}: invalid input: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Like core's findForbiddenKey, but does not walk the bytes of Buffers (artifact content). */
function forbiddenKeyIn(value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `${path}.${key}`;
    const found = forbiddenKeyIn((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}
