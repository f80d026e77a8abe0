import { z } from 'zod';
import { NAME_PATTERN } from '../core/ids.ts';
import { ValidationError } from '../errors/conveyor-error.ts';
import { formatZodIssues } from '../errors/zod-issues.ts';
import { RUN_WHEN_VALUES } from './trigger-rules.ts';

const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'expected a function');
export const nameSchema = z.string().regex(NAME_PATTERN, 'expected a name of letters, digits, "_" or "-" starting with a letter (max 100)');

export const backoffSchema = z.strictObject({
  type: z.enum(['fixed', 'exponential']),
  delayMs: z.number().int().min(0).max(86_400_000),
});

export const policySchema = z.strictObject({
  retries: z.number().int().min(0).max(100).optional(),
  backoff: backoffSchema.optional(),
  timeoutMs: z.number().int().min(1).max(7 * 86_400_000).optional(),
  queue: nameSchema.optional(),
  isolation: z.enum(['in-process', 'process']).optional(),
});

export const stepOptionsSchema = policySchema.extend({
  needs: z.array(nameSchema).optional(),
  if: fn.optional(),
  runWhen: z.enum(RUN_WHEN_VALUES).optional(),
});

export const mapOptionsSchema = stepOptionsSchema.extend({
  over: fn,
  maxParallel: z.number().int().min(0).max(100_000).optional(),
  minSuccess: z
    .union([
      z.number().int().min(0),
      z.string().regex(/^(100|[0-9]{1,2}(\.[0-9]+)?)%$/, 'expected a count of items or a share such as "80%"'),
    ])
    .optional(),
});

export const scheduleSchema = z.strictObject({
  cron: z.string().min(1),
  timezone: z.string().optional(),
  catchup: z.enum(['none', 'latest', 'all']).optional(),
  catchupWindow: z.string().optional(),
  overlap: z.enum(['allow', 'skip', 'queue']).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  name: nameSchema.optional(),
});

export const triggerSchema = z.union([
  z.strictObject({ onSucceeded: nameSchema, params: z.record(z.string(), z.unknown()).optional() }),
  z.strictObject({ event: z.string().min(1).max(200), params: z.record(z.string(), z.unknown()).optional() }),
  z.strictObject({
    onModelAlias: z.strictObject({ model: z.string().min(1), alias: z.string().min(1) }),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
]);

export const pipelineOptionsSchema = z.strictObject({
  id: nameSchema,
  description: z.string().max(2_000).optional(),
  params: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'expected a zod schema').optional(),
  defaults: policySchema.optional(),
  schedule: z.union([scheduleSchema, z.array(scheduleSchema)]).optional(),
  triggers: z.array(triggerSchema).optional(),
  runOutcome: z.enum(['leaves', 'any-failure']).optional(),
  versioning: z.enum(['compatible', 'pinned']).optional(),
  noWorkerTimeout: z.union([z.string().min(1), z.number().int().min(1)]).optional(),
});

/** Parses `value` with `schema` or throws a ValidationError whose issues start with `where`. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = formatZodIssues(result.error).map((issue) => `${where}: ${issue}`);
  throw new ValidationError(issues.join('; '), issues);
}
