import type { Redis } from 'ioredis';
import { defineScripts, type ScriptClient } from './lua-scripts.ts';
import { ConflictError, ConveyorError, NotFoundError } from '../errors/conveyor-error.ts';

/** The run scripts. Each file starts with its contract header (KEYS, ARGV, returns, error codes). */
export const RUN_SCRIPTS = {
  runTrigger: 'run-trigger.lua',
  stepStart: 'step-start.lua',
  stepComplete: 'step-complete.lua',
  stepRetry: 'step-retry.lua',
  stepPark: 'step-park.lua',
  stepMapExpand: 'step-map-expand.lua',
  runCancel: 'run-cancel.lua',
  runRetry: 'run-retry.lua',
  stepWait: 'step-wait.lua',
  stepLease: 'step-lease.lua',
  stepPickup: 'step-pickup.lua',
} as const;

export type ScriptName = keyof typeof RUN_SCRIPTS;

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

const C = SCRIPT_CODES;

/**
 * The one place script codes get their meaning. Per script: the codes its header lists and what each
 * tells the caller — a reason the caller handles as normal control flow (a stale delivery, a repeat),
 * or an error (`throw`) for whoever asked. A code a script is not listed with is a bug, never a
 * reason: scriptReason throws it. test/redis/script-contracts.test.ts holds this table to the headers.
 */
export const SCRIPT_REPLIES = {
  stepStart: { [C.RUN_MISSING]: 'missing', [C.CANCELLED]: 'cancelled', [C.ALREADY_FINISHED]: 'finished', [C.NOT_READY]: 'not-ready', [C.WRONG_VERSION]: 'wrong-version' },
  stepComplete: { [C.RUN_MISSING]: 'missing', [C.STALE]: 'stale', [C.CANCELLED]: 'cancelled', [C.ALREADY_FINISHED]: 'duplicate', [C.NOT_READY]: 'not-running' },
  stepRetry: { [C.STALE]: 'stale', [C.CANCELLED]: 'cancelled', [C.ALREADY_FINISHED]: 'not-running' },
  stepPark: { [C.STALE]: 'stale', [C.CANCELLED]: 'cancelled', [C.ALREADY_FINISHED]: 'not-running' },
  stepWait: { [C.CANCELLED]: 'cancelled', [C.ALREADY_FINISHED]: 'not-queued' },
  stepLease: { [C.STALE]: 'stale', [C.CANCELLED]: 'cancelled', [C.ALREADY_FINISHED]: 'not-running' },
  stepMapExpand: { [C.STALE]: 'stale', [C.CANCELLED]: 'cancelled', [C.NOT_READY]: 'not-running' },
  runCancel: { [C.RUN_MISSING]: 'throw', [C.RUN_FINISHED]: 'throw' },
  runRetry: { [C.RUN_MISSING]: 'throw', [C.NOT_RETRYABLE]: 'throw' },
  runTrigger: {},
  stepPickup: {},
} as const satisfies Record<ScriptName, Record<number, string>>;

type Replies = typeof SCRIPT_REPLIES;
/** The reasons a script's negative codes stand for (errors excluded). */
export type ScriptReason<S extends ScriptName> = Exclude<Replies[S][keyof Replies[S]], 'throw'>;

export interface ScriptContext {
  runId: string;
  step?: string;
  /** What was being done, for the message: "cancel", "start", ... */
  action: string;
}

/** Registers the run scripts on a client (see defineScripts). */
export function withScripts(client: Redis): ScriptClient<ScriptName> {
  return defineScripts(client, RUN_SCRIPTS);
}

function where(context: ScriptContext): string {
  return `run ${context.runId}${context.step ? ` step "${context.step}"` : ''}`;
}

/**
 * What a script's negative code means for its caller: the reason to handle, or a thrown typed error
 * (for the codes that are errors to whoever asked, and for any code the script does not return).
 */
export function scriptReason<S extends ScriptName>(script: S, code: number, context: ScriptContext): ScriptReason<S> {
  const reply = (SCRIPT_REPLIES[script] as Record<number, string>)[code];
  if (reply === undefined) {
    const known = Object.keys(SCRIPT_REPLIES[script]).join(', ') || 'none';
    throw new ConveyorError('INTERNAL', `${where(context)}: ${context.action}: ${RUN_SCRIPTS[script]} returned code ${code}; expected 1 or one of its listed codes (${known})`);
  }
  if (reply === 'throw') throw scriptError(code, context);
  return reply as ScriptReason<S>;
}

/** The typed error for the codes that are errors to whoever asked (a missing run, a finished run...). */
function scriptError(code: number, context: ScriptContext): ConveyorError {
  switch (code) {
    case C.RUN_MISSING:
      return new NotFoundError('run', context.runId);
    case C.RUN_FINISHED:
      return new ConflictError(`${where(context)}: cannot ${context.action}: the run has already finished`);
    case C.NOT_RETRYABLE:
      return new ConflictError(`${where(context)}: cannot ${context.action}: only failed or cancelled runs can be retried`);
    default:
      return new ConveyorError('INTERNAL', `${where(context)}: ${context.action} failed with script code ${code}`);
  }
}
