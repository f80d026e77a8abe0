import superjson from 'superjson';

/**
 * The hand-off between steps: how a step's output (and a map step's items) is stored in Redis and
 * rebuilt for the next step's `ctx.upstream`, in workers and in the test kit alike.
 *
 * Each stored value is one JSON document, an envelope `{"handoff":1,"json":…,"meta":…}` made by
 * superjson, so Date, Map, Set, BigInt, RegExp, undefined, NaN, ±Infinity and -0 come back as they
 * left. Envelopes only ever sit at known places, which keeps the map collector in Lua a string join:
 * a single output is an envelope, a collected map output is an array of item envelopes, and a map
 * with minSuccess stores `{ succeeded: [envelopes], failed: [{ index, item: envelope, error }] }`.
 * User data is never searched for envelopes, so no value of a step can be mistaken for one.
 */

const MARK = 'handoff';

interface Envelope {
  handoff: 1;
  json: unknown;
  meta?: unknown;
}

/** Why `value` cannot be handed off losslessly, as `path: reason`, or undefined when it can. */
export function findUnhandable(value: unknown, path: string): string | undefined {
  return walk(value, path, new Set());
}

/** The envelope of a value that `findUnhandable` accepted, as a JSON document. */
export function encodeHandOff(value: unknown): string {
  const { json, meta } = superjson.serialize(value);
  return JSON.stringify(meta === undefined ? { [MARK]: 1, json } : { [MARK]: 1, json, meta });
}

/** A stored output (single, collected or partial map) as the handler receives it. */
export function decodeHandOff(stored: string): unknown {
  return mapStored(JSON.parse(stored), (env) => superjson.deserialize({ json: env.json as never, meta: env.meta as never }));
}

/**
 * A stored output as readable JSON for `status --json`, the API and the UI: each envelope is
 * replaced by its `json` part (a Date as its ISO string, a Map as `[key, value]` pairs, a Set as an
 * array, a BigInt as its decimal string).
 */
export function handOffForDisplay(stored: string): unknown {
  return mapStored(JSON.parse(stored), (env) => env.json);
}

function mapStored(parsed: unknown, open: (env: Envelope) => unknown): unknown {
  const one = (v: unknown) => (isEnvelope(v) ? open(v) : v);
  if (isEnvelope(parsed)) return open(parsed);
  if (Array.isArray(parsed)) return parsed.map(one);
  if (isPartialMapOutput(parsed)) {
    return {
      ...parsed,
      succeeded: parsed.succeeded.map(one),
      failed: parsed.failed.map((f) => (f && typeof f === 'object' && 'item' in f ? { ...f, item: one(f.item) } : f)),
    };
  }
  // Stored before envelopes existed: plain JSON.
  return parsed;
}

function isEnvelope(v: unknown): v is Envelope {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as Record<string, unknown>)[MARK] === 1 && 'json' in v;
}

function isPartialMapOutput(v: unknown): v is { succeeded: unknown[]; failed: Array<{ item?: unknown }> } {
  return typeof v === 'object' && v !== null && Array.isArray((v as Record<string, unknown>).succeeded) && Array.isArray((v as Record<string, unknown>).failed);
}

function walk(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
    case 'bigint':
    case 'undefined':
      return undefined;
    case 'function':
      return `${path}: a function cannot be handed off; return plain data`;
    case 'symbol':
      return `${path}: a Symbol cannot be handed off; use a string`;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return `${path}: a circular reference cannot be handed off`;
  if (obj instanceof Date || obj instanceof RegExp) return undefined;
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `${path}: binary data cannot be handed off; store it as an artifact`;
  seen.add(obj);
  try {
    if (obj instanceof Map) return walkMap(obj, path, seen);
    if (obj instanceof Set) return walkAll([...obj].map((v, i) => [`${path}<item ${i}>`, v]), seen);
    if (Array.isArray(obj)) return walkAll(obj.map((v, i) => [`${path}[${i}]`, v]), seen);
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto as { constructor?: { name?: string } }).constructor?.name || 'anonymous class';
      return `${path}: a class instance (${name}) cannot be handed off; return plain data`;
    }
    const symbol = Object.getOwnPropertySymbols(obj)[0];
    if (symbol !== undefined) return `${path}: a Symbol key (${String(symbol)}) cannot be handed off; use a string key`;
    return walkAll(Object.entries(obj).map(([k, v]) => [`${path}.${k}`, v]), seen);
  } finally {
    seen.delete(obj);
  }
}

function walkMap(map: Map<unknown, unknown>, path: string, seen: Set<object>): string | undefined {
  let i = 0;
  for (const [key, child] of map) {
    const label = typeof key === 'string' || typeof key === 'number' ? JSON.stringify(key) : `key ${i}`;
    const found = walk(key, `${path}<key ${i}>`, seen) ?? walk(child, `${path}<${label}>`, seen);
    if (found) return found;
    i++;
  }
  return undefined;
}

function walkAll(children: Array<[string, unknown]>, seen: Set<object>): string | undefined {
  for (const [path, child] of children) {
    const found = walk(child, path, seen);
    if (found) return found;
  }
  return undefined;
}
