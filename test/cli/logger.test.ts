import test from 'ava';
import { createLogger } from '../../src/app/logger.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('JSON lines (not a terminal): pino fields with an ISO-8601 time', (t) => {
  const lines: string[] = [];
  createLogger('info', 'conveyor-worker', { format: 'json', write: (l) => lines.push(l) }).info('worker started', { queues: ['default'] });
  const entry = JSON.parse(lines.join(''));
  t.like(entry, { level: 30, name: 'conveyor-worker', msg: 'worker started', queues: ['default'] });
  t.regex(entry.time, ISO);
});

test('readable lines at a terminal: ISO time, level, name, message, fields; below the level nothing', (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', 'conveyor-worker', { format: 'pretty', write: (l) => lines.push(l) });
  logger.debug('hidden');
  logger.warn('metrics port taken', { port: 9464, host: '127.0.0.1' });
  t.is(lines.length, 1);
  const [time, rest] = [lines[0]!.slice(0, 24), lines[0]!.slice(25)];
  t.regex(time, ISO);
  t.is(rest, 'WARN  conveyor-worker: metrics port taken port=9464 host=127.0.0.1\n');
});
