/**
 * Every error Conveyor raises on purpose carries a stable `code`, so the CLI maps it to an exit code,
 * the API to an HTTP status, and callers can branch without matching on message text.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'CYCLE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'NON_RETRIABLE'
  | 'REDIS_UNAVAILABLE'
  | 'CONFIG'
  | 'OUTPUT_TOO_LARGE'
  | 'INTERNAL';

export class ConveyorError extends Error {
  readonly code: ErrorCode;
  /** Extra structured facts (file, step, path...) for `--json` output and API bodies. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Input did not have the shape expected. `issues` lists each problem as "where: expected, found". */
export class ValidationError extends ConveyorError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = [message], details: Record<string, unknown> = {}) {
    super('VALIDATION', message, { ...details, issues });
    this.issues = issues;
  }
}

/** A DAG that loops. `cycle` names the steps around the loop, first step repeated at the end. */
export class CycleError extends ConveyorError {
  readonly cycle: string[];
  constructor(where: string, cycle: string[]) {
    const shown = cycle.length > 12 ? [...cycle.slice(0, 6), `… ${cycle.length - 11} more …`, ...cycle.slice(-5)] : cycle;
    super('CYCLE', `${where}: steps form a cycle: ${shown.join(' → ')}`, { cycle });
    this.cycle = cycle;
  }
}

export class NotFoundError extends ConveyorError {
  constructor(kind: string, id: string, known?: string[]) {
    const hint = known && known.length ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})` : '';
    super('NOT_FOUND', `${kind} "${id}" not found${hint}`, { kind, id });
  }
}

export class ConflictError extends ConveyorError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFLICT', message, details);
  }
}

export class TimeoutError extends ConveyorError {
  constructor(what: string, ms: number) {
    super('TIMEOUT', `${what} timed out after ${ms} ms`, { timeoutMs: ms });
  }
}

export class CancelledError extends ConveyorError {
  constructor(what: string) {
    super('CANCELLED', `${what} was cancelled`);
  }
}

/** Thrown by a step to fail at once, without the retries its policy would otherwise grant. */
export class NonRetriableError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NON_RETRIABLE', message, {}, options);
  }
}

export class RedisUnavailableError extends ConveyorError {
  constructor(url: string, cause?: unknown) {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    super('REDIS_UNAVAILABLE', `cannot reach Redis at ${url}${why}`, { url }, { cause });
  }
}

export class ConfigError extends ConveyorError {
  constructor(message: string, issues: string[] = []) {
    super('CONFIG', message, { issues });
  }
}

export class OutputTooLargeError extends ConveyorError {
  constructor(step: string, bytes: number, limit: number, message = `step "${step}" returned ${bytes} bytes of JSON; the limit is ${limit} bytes`) {
    super('OUTPUT_TOO_LARGE', message, { bytes, limit });
  }
}

export function isConveyorError(value: unknown): value is ConveyorError {
  return value instanceof ConveyorError;
}
