import type { z } from 'zod';

/**
 * Params as the step's types promise them. A run stores its parsed params as JSON, which turns a
 * `z.coerce.date()` field into a string; applying the schema again at step start brings the Date
 * back (and the like for every coercion). The schema must therefore accept its own output, which
 * coercions, defaults and enums do; when it does not (a transform that changes the type), the stored
 * values are what the step gets, as before.
 */
export function typedParams(schema: z.ZodType | undefined, stored: Record<string, unknown>): Record<string, unknown> {
  if (!schema) return stored;
  const again = schema.safeParse(stored);
  return again.success && again.data && typeof again.data === 'object' ? (again.data as Record<string, unknown>) : stored;
}
