import { z } from 'zod';
import { findJsonProblem } from '../core/json.ts';
import { ValidationError } from '../errors/conveyor-error.ts';
import { formatZodIssues } from '../errors/zod-issues.ts';

/** Largest params object a run accepts, as JSON. */
export const MAX_PARAMS_BYTES = 1024 * 1024;

/**
 * Validates run params against the pipeline's schema: depth, finite numbers, prototype-polluting
 * keys, size, then zod.
 * Returns the parsed value (defaults applied). Nothing is written anywhere before this passes.
 */
export function parseParams(schema: z.ZodType | undefined, input: unknown, pipelineId: string): Record<string, unknown> {
  const value = input ?? {};
  const problem = findJsonProblem(value, 'params');
  if (problem) throw new ValidationError(`pipeline "${pipelineId}": ${problem}`);
  const json = JSON.stringify(value);
  if (json === undefined) throw new ValidationError(`pipeline "${pipelineId}": params must be a JSON object`);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_PARAMS_BYTES) {
    throw new ValidationError(`pipeline "${pipelineId}": params are ${bytes} bytes of JSON; the limit is ${MAX_PARAMS_BYTES}`);
  }
  if (!schema) {
    if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(`pipeline "${pipelineId}": params must be an object`);
    return value as Record<string, unknown>;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = formatZodIssues(result.error, 'params').map((i) => `pipeline "${pipelineId}": ${i}`);
    throw new ValidationError(issues.join('; '), issues);
  }
  return result.data as Record<string, unknown>;
}

/**
 * Checks that every `.default(...)` in an object params schema parses under its own field type,
 * so a wrong default fails when the pipeline is defined, not on the first run at 3 a.m.
 */
export function checkParamDefaults(schema: z.ZodType, pipelineId: string): void {
  if (!(schema instanceof z.ZodObject)) return;
  const issues: string[] = [];
  for (const [field, fieldSchema] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    if (!(fieldSchema instanceof z.ZodDefault)) continue;
    const def = (fieldSchema as z.ZodDefault<z.ZodType>).def;
    const defaultValue = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    const result = def.innerType.safeParse(defaultValue);
    if (!result.success) {
      for (const line of formatZodIssues(result.error, `params.${field}`)) {
        issues.push(`pipeline "${pipelineId}": default of ${line} (default was ${JSON.stringify(defaultValue)})`);
      }
    }
  }
  if (issues.length) throw new ValidationError(issues.join('; '), issues);
}

/** A JSON-schema description of the params (for the UI's trigger form and the API), if zod can make one. */
export function paramsJsonSchema(schema: z.ZodType | undefined): unknown {
  if (!schema) return { type: 'object', properties: {} };
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return { type: 'object' };
  }
}
