import { ValidationError } from '../../errors/index.ts';

/**
 * Builds the params object from `--param k=v` (values parsed as JSON when they are valid JSON, so
 * `n=3` is a number and `flag=true` a boolean; `name="3"` forces a string) and `--params-json`.
 * The pipeline's zod schema validates the result afterwards.
 */
export function collectParams(pairs: string[] = [], json?: string): Record<string, unknown> {
  let params: Record<string, unknown> = Object.create(null);
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new ValidationError(`--params-json: expected a JSON object, found invalid JSON (${(error as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ValidationError('--params-json: expected a JSON object');
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
