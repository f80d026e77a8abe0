/**
 * Entry point of an isolated step's process (see isolated-step.ts): imports the pipeline file, runs
 * one attempt of one step, reports logs and the result over IPC, and exits. Whatever the handler does
 * to this process — a busy loop, process.exit, a segfault — only this attempt sees it.
 */
import { pathToFileURL } from 'node:url';
import { isPipeline, type Pipeline } from '../dsl/pipeline.ts';
import { NonRetriableError } from '../errors/conveyor-error.ts';
import { serialiseJson, serialiseOutput } from './output-check.ts';
import { ParkSignal, parkStep } from './park-signal.ts';
import type { IsolatedMessage, IsolatedRequest } from './isolated-protocol.ts';

const send = (message: IsolatedMessage) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));

function unavailable(service: string): never {
  throw new Error(`ctx.${service} is not available in a step with isolation: 'process' (run the step in-process to use it)`);
}

async function findPipeline(file: string, id: string): Promise<Pipeline<any, any>> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const found = Object.values(module).find((value) => isPipeline(value) && value.id === id);
  if (!found) throw new Error(`${file}: no exported pipeline "${id}" (an isolated step's process imports the file its pipeline was defined in)`);
  return found as Pipeline<any, any>;
}

async function runAttempt(request: IsolatedRequest): Promise<IsolatedMessage> {
  const pipeline = await findPipeline(request.file, request.pipelineId);
  const code = pipeline.stepCode(request.stepName);
  if (!code) throw new Error(`pipeline "${request.pipelineId}" has no step "${request.stepName}" in ${request.file}`);
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Record<string, unknown>) => void send({ type: 'log', level, msg, fields });
  const ctx = {
    params: request.params, upstream: request.upstream, upstreamStatus: request.upstreamStatus, run: request.run,
    step: request.step, attempt: request.attempt, parked: request.parked, park: parkStep, secrets: request.secrets,
    // Timeout and cancel kill this process: the signal itself never fires here.
    signal: new AbortController().signal,
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    get registry() { return unavailable('registry'); },
    get monitor() { return unavailable('monitor'); },
    get events() { return unavailable('events'); },
    get artifacts() { return unavailable('artifacts'); },
  };
  try {
    const output = await (request.item ? code.handler(ctx, request.item.value, request.item.index) : code.handler(ctx));
    return { type: 'ok', outputJson: serialiseOutput(request.step, output) };
  } catch (thrown) {
    if (thrown instanceof ParkSignal) return { type: 'park', stateJson: serialiseJson(request.step, thrown.state), afterMs: thrown.afterMs };
    throw thrown;
  }
}

process.once('message', (request: IsolatedRequest) => {
  runAttempt(request)
    .catch((thrown: unknown): IsolatedMessage => {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      return { type: 'error', name: error.name, message: error.message, stack: error.stack, nonRetriable: error instanceof NonRetriableError || (error as { code?: unknown }).code === 'NON_RETRIABLE' || error.name === 'ValidationError' };
    })
    .then(send)
    .then(() => process.exit(0));
});
