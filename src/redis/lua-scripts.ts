import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

export type ScriptClient<Names extends string> = Redis & Record<Names, (...args: (string | number | Buffer)[]) => Promise<unknown>>;

/** `--- @include "name"` (BullMQ's syntax): the text of `lua/includes/<name>.lua`, spliced in at load time. */
const INCLUDE = /^--- @include "([\w-]+)"[ \t]*$/gm;

function readLua(path: string): string {
  return readFileSync(fileURLToPath(new URL(`./lua/${path}`, import.meta.url)), 'utf8');
}

/** A script file as written: its leading `--[[ … ]]` contract header and the KEYS it declares. */
export interface ScriptSource {
  file: string;
  /** The file as written (includes not resolved). */
  text: string;
  header: string;
  /** Number of KEYS: the highest `KEYS[n]` its header declares. */
  keys: number;
}

export function readScriptSource(file: string): ScriptSource {
  const text = readLua(file);
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(text)?.[1];
  if (header === undefined) throw new Error(`src/redis/lua/${file}: expected a leading --[[ … ]] contract header (KEYS, ARGV, returns, errors), found none`);
  const declared = [...header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
  return { file, text, header, keys: declared.length ? Math.max(...declared) : 0 };
}

/** The names a script includes, in order. */
export function includesOf(text: string): string[] {
  return [...text.matchAll(INCLUDE)].map((m) => m[1]);
}

/** The script text Redis runs: each `--- @include` replaced by its snippet (a snippet may include others; each once). */
export function resolveIncludes(file: string, text: string, seen = new Set<string>()): string {
  return text.replace(INCLUDE, (_, name: string) => {
    if (seen.has(name)) return `-- (${name} included above)`;
    seen.add(name);
    let snippet: string;
    try {
      snippet = readLua(`includes/${name}.lua`);
    } catch {
      throw new Error(`src/redis/lua/${file}: --- @include "${name}": expected src/redis/lua/includes/${name}.lua, found no such file`);
    }
    return resolveIncludes(`includes/${name}.lua`, snippet, seen).trimEnd();
  });
}

const loaded = new Map<string, { lua: string; keys: number }>();

function load(file: string): { lua: string; keys: number } {
  let script = loaded.get(file);
  if (!script) {
    const source = readScriptSource(file);
    script = { lua: resolveIncludes(file, source.text), keys: source.keys };
    loaded.set(file, script);
  }
  return script;
}

/**
 * Registers scripts (name → file under src/redis/lua/) as commands on a client: ioredis sends
 * EVALSHA and falls back to EVAL once when the server lacks the script (after a restart or
 * failover). Every store in redis/ loads its scripts this way. The number of KEYS comes from the
 * script's contract header, so the two cannot drift; includes are resolved here.
 */
export function defineScripts<Names extends string>(client: Redis, table: Record<Names, string>): ScriptClient<Names> {
  for (const name of Object.keys(table) as Names[]) {
    if (typeof (client as unknown as Record<string, unknown>)[name] === 'function') continue;
    const script = load(table[name]);
    client.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
  }
  return client as ScriptClient<Names>;
}
