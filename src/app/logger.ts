import { createRequire } from 'node:module';
import type { pino as Pino } from 'pino';
import type { Logger, LogFields } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LoggerOutput {
  /** 'json': one JSON object per line (pino's format, `time` as ISO-8601); 'pretty': a readable line. Default: pretty when stderr is a terminal. */
  format?: 'json' | 'pretty';
  /** Where lines go; default stderr (stdout stays for command output). */
  write?: (line: string) => void;
}

/**
 * Logs to stderr, as pino does by convention: JSON lines for machines (files, log shippers, when
 * stderr is not a terminal) and readable lines for people at a terminal. Times are ISO-8601 UTC in both.
 */
export function createLogger(level: Level | 'silent', name = 'conveyor', output: LoggerOutput = {}): Logger {
  if (level === 'silent') return silentLogger;
  const format = output.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format === 'pretty') return prettyLogger(level, name, output.write ?? ((line) => process.stderr.write(line)));
  const pino = loadPino();
  const destination = output.write ? { write: output.write } : pino.destination(2);
  const base = pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const wrap = (fn: Level) => (msg: string, fields?: LogFields) => base[fn](fields ?? {}, msg);
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/**
 * pino, loaded on first use of a JSON logger: one-shot CLI commands at a terminal never need it, and
 * importing it (CommonJS, through ESM's export scan) is a noticeable part of their start-up.
 */
let pinoModule: typeof Pino | undefined;
function loadPino(): typeof Pino {
  pinoModule ??= (createRequire(import.meta.url)('pino') as { pino: typeof Pino }).pino;
  return pinoModule;
}

const RANK: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** `2026-03-01T10:00:05.123Z INFO  conveyor-worker: worker started queues=["default"]` */
function prettyLogger(level: Level, name: string, write: (line: string) => void): Logger {
  const at = (fn: Level) => (msg: string, fields?: LogFields) => {
    if (RANK[fn] < RANK[level]) return;
    const extra = Object.entries(fields ?? {}).map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('');
    write(`${new Date().toISOString()} ${fn.toUpperCase().padEnd(5)} ${name}: ${msg}${extra}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
