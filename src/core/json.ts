/** Keys that must never be copied from untrusted JSON into objects (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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
