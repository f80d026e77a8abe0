import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeHandOff } from '../core/hand-off.ts';
import type { StepLogger } from '../dsl/context.ts';
import { NonRetriableError } from '../errors/conveyor-error.ts';
import type { IsolatedMessage, IsolatedRequest } from './isolated-protocol.ts';
import { ParkSignal } from './park-signal.ts';

/** How a step's handler runs: in the worker's process (default, fast) or in a process of its own. */
export type Isolation = 'in-process' | 'process';

export interface IsolatedInvocation {
  /** Everything but the file: filled in from the pipeline's source file. */
  request: Omit<IsolatedRequest, 'file'>;
  /** The file the pipeline was defined in (the child imports it); undefined fails the attempt. */
  file: string | undefined;
  log: StepLogger;
}

const self = fileURLToPath(import.meta.url);
const CHILD = self.replace(/isolated-step(\.[cm]?[jt]s)$/, 'isolated-child$1');

/** The attempt's process ended without a result: a crash, process.exit, a fatal signal. Retryable. */
export class StepProcessExited extends Error {
  constructor(step: string, code: number | null, signal: NodeJS.Signals | null) {
    super(`step "${step}" ran in its own process, which ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before returning a result`);
    this.name = 'StepProcessExited';
  }
}

/**
 * Runs one attempt in a child process (forked with this process's loader flags, so a `.ts` pipeline
 * file loads as it does here). Aborting `signal` — the attempt's timeout or a cancel — kills the
 * child with SIGKILL, so a handler that ignores its signal cannot outlive its attempt; a crash of the
 * child fails only this attempt; a busy handler does not block the worker's event loop (lock renewal).
 */
export function runIsolated(invocation: IsolatedInvocation, signal: AbortSignal): Promise<unknown> {
  const { request, file, log } = invocation;
  if (!file) {
    return Promise.reject(
      new NonRetriableError(`step "${request.step}" has isolation: 'process' but the file defining pipeline "${request.pipelineId}" is unknown (define it with definePipeline in a module file)`),
    );
  }
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      settle();
    };
    let aborted = false;
    // The attempt ends when its process is gone, so a retry never overlaps it.
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('message', (message: IsolatedMessage) => {
      if (aborted) return;
      if (message.type === 'log') log[message.level](message.msg, message.fields as never);
      else if (message.type === 'ok') finish(() => resolve(decodeHandOff(message.outputJson)));
      else if (message.type === 'park') finish(() => reject(new ParkSignal(JSON.parse(message.stateJson), message.afterMs)));
      else finish(() => reject(rebuildError(message)));
    });
    child.on('error', (error) => finish(() => reject(error)));
    // A result sent just before exiting is delivered first; give it that turn before calling it a crash.
    child.on('exit', (code, sig) => setImmediate(() => finish(() => reject(aborted ? signal.reason : new StepProcessExited(request.step, code, sig)))));
    child.send({ ...request, file } satisfies IsolatedRequest);
  });
}

function rebuildError(message: Extract<IsolatedMessage, { type: 'error' }>): Error {
  const error = message.nonRetriable ? new NonRetriableError(message.message) : new Error(message.message);
  error.name = message.name;
  if (message.stack) error.stack = message.stack;
  return error;
}
