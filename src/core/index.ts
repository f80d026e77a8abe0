export { NAME_PATTERN, newRunId, stepJobId, deterministicRunId } from './ids.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { systemClock, ManualClock, type Clock } from './clock.ts';
export { silentLogger, type Logger, type LogLevel, type LogFields } from './logger.ts';
export { coerceError } from './coerce-error.ts';
export { parseSafeJson, findForbiddenKey } from './json.ts';
export { sleep } from './sleep.ts';
