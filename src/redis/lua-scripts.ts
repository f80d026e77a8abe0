import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

/** A script file under src/redis/lua/ and how many of its arguments are KEYS. */
export interface ScriptFile {
  file: string;
  keys: number;
}

export type ScriptClient<Names extends string> = Redis & Record<Names, (...args: (string | number)[]) => Promise<unknown>>;

const sources = new Map<string, string>();

function source(file: string): string {
  let text = sources.get(file);
  if (!text) {
    text = readFileSync(fileURLToPath(new URL(`./lua/${file}`, import.meta.url)), 'utf8');
    sources.set(file, text);
  }
  return text;
}

/**
 * Registers scripts as commands on a client: ioredis sends EVALSHA and falls back to EVAL once when
 * the server lacks the script (after a restart or failover). Every store in redis/ loads its scripts
 * this way; each script file starts with its contract header (KEYS, ARGV, returns, error codes).
 */
export function defineScripts<Names extends string>(client: Redis, table: Record<Names, ScriptFile>): ScriptClient<Names> {
  for (const name of Object.keys(table) as Names[]) {
    if (typeof (client as unknown as Record<string, unknown>)[name] === 'function') continue;
    client.defineCommand(name, { numberOfKeys: table[name].keys, lua: source(table[name].file) });
  }
  return client as ScriptClient<Names>;
}
