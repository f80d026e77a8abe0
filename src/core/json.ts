/** Keys that must never be copied from untrusted JSON into objects (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True for a key that untrusted input may never set (see FORBIDDEN_KEYS). */
export const isForbiddenKey = (key: string): boolean => FORBIDDEN_KEYS.has(key);

/** Parses JSON and rejects prototype-polluting keys anywhere in the tree. Throws SyntaxError/TypeError. */
export function parseSafeJson(text: string): unknown {
  return JSON.parse(text, (key, value) => {
    if (FORBIDDEN_KEYS.has(key)) throw new TypeError(`forbidden key "${key}" in JSON input`);
    return value;
  });
}

/** Finds the first forbidden key in an already-parsed value, with its path, or undefined. */
export function findForbiddenKey(value: unknown, path = '$'): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `${path}.${key}`;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** Deepest nesting accepted in untrusted JSON (run params); real params are a few levels deep. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first thing in an untrusted, already-parsed value that later code cannot handle, described
 * with its path, or undefined: nesting deeper than `maxDepth` (recursive walkers would overflow the
 * stack), a number that is not finite (`1e999` parses as Infinity and would be stored as null), a
 * prototype-polluting key. Walks with its own stack, so the check itself cannot overflow.
 */
export function findJsonProblem(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const pending: Array<[unknown, string, number]> = [[value, root, 0]];
  while (pending.length > 0) {
    const [current, path, depth] = pending.pop()!;
    if (typeof current === 'number' && !Number.isFinite(current)) return `${path} must be a finite number, found ${current}`;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) return `${root} nest deeper than the limit of ${maxDepth} levels (at ${path.slice(0, 80)}${path.length > 80 ? '…' : ''})`;
    for (const key of Object.keys(current)) {
      const childPath = Array.isArray(current) ? `${path}[${key}]` : `${path}.${key}`;
      if (FORBIDDEN_KEYS.has(key)) return `forbidden key at ${childPath}`;
      pending.push([(current as Record<string, unknown>)[key], childPath, depth + 1]);
    }
  }
  return undefined;
}
