export {
  ConveyorError,
  ValidationError,
  CycleError,
  NotFoundError,
  ConflictError,
  TimeoutError,
  CancelledError,
  NonRetriableError,
  RedisUnavailableError,
  ConfigError,
  OutputTooLargeError,
  isConveyorError,
  type ErrorCode,
} from './conveyor-error.ts';
export { formatZodIssues } from './zod-issues.ts';
