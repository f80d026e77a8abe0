import type { Redis } from 'ioredis';
import { defineScripts, type ScriptClient } from './lua-scripts.ts';
import { ConflictError, ConveyorError, NotFoundError } from '../errors/conveyor-error.ts';

/** The Lua scripts and how many KEYS each takes. Each file starts with its contract header. */
const SCRIPTS = {
  runTrigger: { file: 'run-trigger.lua', keys: 4 },
  stepStart: { file: 'step-start.lua', keys: 5 },
  stepComplete: { file: 'step-complete.lua', keys: 9 },
  stepRetry: { file: 'step-retry.lua', keys: 3 },
  stepPark: { file: 'step-park.lua', keys: 3 },
  stepMapExpand: { file: 'step-map-expand.lua', keys: 7 },
  runCancel: { file: 'run-cancel.lua', keys: 2 },
  runRetry: { file: 'run-retry.lua', keys: 7 },
  stepWait: { file: 'step-wait.lua', keys: 3 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** Negative return codes shared by the scripts (see their headers). */
export const SCRIPT_CODES = {
  RUN_MISSING: -1,
  STALE: -2,
  CANCELLED: -3,
  ALREADY_FINISHED: -4,
  NOT_READY: -5,
  RUN_FINISHED: -6,
  NOT_RETRYABLE: -7,
  WRONG_VERSION: -8,
} as const;

/** Registers the run scripts on a client (see defineScripts). */
export function withScripts(client: Redis): ScriptClient<ScriptName> {
  return defineScripts(client, SCRIPTS);
}

/**
 * Maps a script's negative code to the typed error callers see. Codes that callers handle as normal
 * control flow (stale, already finished...) are returned by the store as values, not thrown; this is
 * for the ones that are errors to whoever asked.
 */
export function scriptError(code: number, context: { runId: string; step?: string; action: string }): ConveyorError {
  const where = `run ${context.runId}${context.step ? ` step "${context.step}"` : ''}`;
  switch (code) {
    case SCRIPT_CODES.RUN_MISSING:
      return new NotFoundError('run', context.runId);
    case SCRIPT_CODES.RUN_FINISHED:
      return new ConflictError(`${where}: cannot ${context.action}: the run has already finished`);
    case SCRIPT_CODES.NOT_RETRYABLE:
      return new ConflictError(`${where}: cannot ${context.action}: only failed or cancelled runs can be retried`);
    case SCRIPT_CODES.CANCELLED:
      return new ConflictError(`${where}: cannot ${context.action}: cancelled`);
    default:
      return new ConveyorError('INTERNAL', `${where}: ${context.action} failed with script code ${code}`);
  }
}
