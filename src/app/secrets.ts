import { readFileSync } from 'node:fs';
import { secretEnvVars } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors/conveyor-error.ts';

/** Secret names: what a step writes after `ctx.secrets.` (and what follows CONVEYOR_SECRET_). */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The secrets steps see as `ctx.secrets`: `CONVEYOR_SECRET_<NAME>` environment variables and the
 * file named by CONVEYOR_SECRETS_FILE (JSON object of strings, or KEY=VALUE lines). The environment
 * wins over the file, so an operator can override one value without editing the file. Secrets live
 * in worker memory only: they are never written to Redis, and the worker masks them in logs,
 * errors and outputs.
 */
export function loadSecrets(config: Pick<Config, 'secretsFile'>, env: NodeJS.ProcessEnv = process.env): Readonly<Record<string, string>> {
  const fromFile = config.secretsFile ? parseSecretsText(readSecretsFile(config.secretsFile), config.secretsFile) : {};
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of [...Object.entries(fromFile), ...Object.entries(secretEnvVars(env))]) {
    if (!SECRET_NAME.test(name)) throw new ConfigError(`secret name "${name}": expected letters, digits and "_", not starting with a digit`);
    out[name] = value;
  }
  return Object.freeze(out);
}

/**
 * Parses a secrets file: a JSON object whose values are strings, or `KEY=VALUE` lines (`#` comments,
 * blank lines, optional `export ` and surrounding quotes, as in a .env file). Errors name the file
 * and line but never the value.
 */
export function parseSecretsText(text: string, file: string): Record<string, string> {
  const trimmed = text.trim();
  const out: Record<string, string> = Object.create(null);
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new ConfigError(`${file}: expected a JSON object of string values, found invalid JSON (${(error as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${file}: expected a JSON object of string values`);
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') throw new ConfigError(`${file}: secret "${name}" must be a string, found ${value === null ? 'null' : typeof value}`);
      out[name] = value;
    }
    return out;
  }
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new ConfigError(`${file}:${index + 1}: expected KEY=VALUE, found a line without "="`);
    let value = match[2];
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    out[match[1]] = value;
  });
  return out;
}

function readSecretsFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CONVEYOR_SECRETS_FILE: expected a readable file, found ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
