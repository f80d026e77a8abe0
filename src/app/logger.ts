import { pino } from 'pino';
import type { Logger, LogFields } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';

/** A pino-backed Logger writing JSON lines to stderr (stdout stays for command output). */
export function createLogger(level: 'debug' | 'info' | 'warn' | 'error' | 'silent', name = 'conveyor'): Logger {
  if (level === 'silent') return silentLogger;
  const base = pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
  const wrap = (fn: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: LogFields) => base[fn](fields ?? {}, msg);
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
