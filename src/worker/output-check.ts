import { encodeHandOff, findUnhandable } from '../core/hand-off.ts';
import { OutputTooLargeError, ValidationError } from '../errors/conveyor-error.ts';

/** Largest step output stored, as JSON. Bigger results belong in an artifact store. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Encodes a step's return value (or a map item) for the hand-off to the next step, refusing what
 * would not arrive as it left (class instances, functions, Symbols, cycles, binary data) and anything
 * over the size limit — with the path of the offending value inside it.
 */
export function serialiseOutput(step: string, value: unknown): string {
  const problem = findUnhandable(value, 'output');
  if (problem) throw new ValidationError(`step "${step}" ${problem}`);
  return checkSize(step, encodeHandOff(value));
}

/**
 * Serialises plain JSON (a parked state, event data), refusing what JSON would silently mangle
 * (functions, Map, Set, BigInt, NaN, cycles) and anything over the size limit, with the path.
 */
export function serialiseJson(step: string, value: unknown): string {
  const problem = findNonJson(value === undefined ? null : value, 'output', new Set());
  if (problem) throw new ValidationError(`step "${step}" returned a value that is not JSON-serialisable: ${problem}`);
  return checkSize(step, JSON.stringify(value === undefined ? null : value));
}

function checkSize(step: string, json: string): string {
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_OUTPUT_BYTES) throw new OutputTooLargeError(step, bytes, MAX_OUTPUT_BYTES);
  return json;
}

/**
 * The output of a map step as its dependents receive it, refused over the same limit as any output
 * (the same check and text as the map collector in step-complete.lua).
 */
export function checkCollectedOutput(step: string, json: string): string {
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_OUTPUT_BYTES) {
    throw new OutputTooLargeError(step, bytes, MAX_OUTPUT_BYTES, `map step "${step}" collected ${bytes} bytes of JSON from its items; the limit is ${MAX_OUTPUT_BYTES} bytes`);
  }
  return json;
}

function findNonJson(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}`;
    case 'bigint':
      return `${path} is a BigInt`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
    case 'undefined':
      return undefined; // dropped by JSON like an absent key
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return `${path} is a circular reference`;
  if (obj instanceof Date) return undefined;
  if (obj instanceof Map || obj instanceof Set) return `${path} is a ${obj.constructor.name} (use an object or array)`;
  if (ArrayBuffer.isView(obj)) return `${path} is binary data (store it as an artifact)`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const found = findNonJson(obj[i], `${path}[${i}]`, seen);
        if (found) return found;
      }
      return undefined;
    }
    for (const [key, child] of Object.entries(obj)) {
      const found = findNonJson(child, `${path}.${key}`, seen);
      if (found) return found;
    }
    return undefined;
  } finally {
    seen.delete(obj);
  }
}
