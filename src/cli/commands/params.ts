import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isForbiddenKey } from '../../core/json.ts';
import { ValidationError } from '../../errors/index.ts';

/**
 * The JSON of `--params-json` / `--params-file`: `@path` (or a --params-file path) reads a file, `-`
 * or `@-` reads stdin — for params larger than one command-line argument may be (128 KiB on Linux).
 */
export function readParamsSource(option: string, value: string): string {
  const path = option === '--params-file' ? value : value.startsWith('@') ? value.slice(1) : undefined;
  if (path === undefined) return value;
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new ValidationError(`${option}: could not read ${path === '-' ? 'stdin' : `"${path}"`} (${(error as Error).message})`);
  }
}

/**
 * Param names the pipeline's schema does not declare. Empty when it accepts any key (no schema,
 * not an object schema, or `.passthrough()` / `.catchall()`); zod would otherwise drop them silently.
 */
export function unknownParamNames(given: z.ZodType | undefined, params: Record<string, unknown>): { unknown: string[]; known: string[] } {
  const schema = objectInside(given);
  if (!schema) return { unknown: [], known: [] };
  const catchall = schema.def.catchall;
  if (catchall && !(catchall instanceof z.ZodNever)) return { unknown: [], known: [] };
  const known = Object.keys(schema.shape);
  // A prototype-polluting key is not merely unknown: the params check refuses it as forbidden, by name.
  return { unknown: Object.keys(params).filter((k) => !known.includes(k) && !isForbiddenKey(k)), known };
}

/**
 * The object schema a params schema is built on, through the wrappers that keep its keys
 * (`.default()`, `.optional()`, `.readonly()`, `.catch()`, the input side of `.transform()`/`.pipe()`).
 */
function objectInside(schema: z.ZodType | undefined): z.ZodObject | undefined {
  for (let current: unknown = schema, depth = 0; current && depth < 10; depth++) {
    if (current instanceof z.ZodObject) return current;
    const def = (current as z.ZodType).def as { type: string; innerType?: unknown; in?: unknown };
    current = def.type === 'pipe' ? def.in : def.innerType;
  }
  return undefined;
}

/** Throws (exit 2) naming the unknown params and the known ones. */
export function checkParamNames(schema: z.ZodType | undefined, params: Record<string, unknown>, pipelineId: string): void {
  const { unknown, known } = unknownParamNames(schema, params);
  if (unknown.length === 0) return;
  const names = unknown.map((k) => `"${k}"`).join(', ');
  throw new ValidationError(`pipeline "${pipelineId}": unknown param${unknown.length > 1 ? 's' : ''} ${names} (known: ${known.join(', ') || 'none'})`);
}

/**
 * Builds the params object from `--param k=v` (values parsed as JSON when they are valid JSON, so
 * `n=3` is a number and `flag=true` a boolean; `name="3"` forces a string) and `--params-json`.
 * The pipeline's zod schema validates the result afterwards.
 */
export function collectParams(pairs: string[] = [], json?: string, source = '--params-json'): Record<string, unknown> {
  let params: Record<string, unknown> = Object.create(null);
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new ValidationError(`${source}: expected a JSON object, found invalid JSON (${(error as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ValidationError(`${source}: expected a JSON object, found ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`);
    }
    params = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--param: expected key=value, found "${pair}"`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: keep the string
    }
    params[key] = value;
  }
  return { ...params };
}

export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
