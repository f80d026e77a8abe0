import type { LogFields } from '../core/logger.ts';
import type { StepLogger } from '../dsl/context.ts';
import type { LogEntry } from '../engine/worker-backend.ts';

/** Collects a step's log entries; the worker stores them with the run when the attempt ends. */
export class BufferedStepLogger implements StepLogger {
  readonly entries: LogEntry[] = [];

  constructor(
    private readonly step: string,
    private readonly attempt: number,
    private readonly redact: (value: unknown) => unknown = (v) => v,
    private readonly echo?: (entry: LogEntry) => void,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.push('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.push('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.push('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.push('error', msg, fields);
  }

  /** Takes what was logged since the last call. */
  drain(): LogEntry[] {
    return this.entries.splice(0, this.entries.length);
  }

  private push(level: string, msg: string, fields?: LogFields): void {
    const entry: LogEntry = {
      t: Date.now(),
      level,
      step: this.step,
      attempt: this.attempt,
      msg: String(this.redact(msg)),
      ...(fields ? { fields: this.redact(fields) as Record<string, unknown> } : {}),
    };
    this.entries.push(entry);
    this.echo?.(entry);
  }
}
