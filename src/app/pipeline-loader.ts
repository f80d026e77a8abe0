import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { coerceError } from '../core/coerce-error.ts';
import { ConveyorError, NotFoundError, ValidationError } from '../errors/conveyor-error.ts';
import { isPipeline, type Pipeline } from '../dsl/pipeline.ts';
import { validateDag } from '../graph/dag.ts';
import { validateSchedules } from '../scheduler/cron.ts';
import { DEFAULT_IMPORT_TIMEOUT_MS, ImportProbe } from './import-probe.ts';
import { ensureTypeScriptLoader } from './typescript-loader.ts';
import { setCodeVersion } from '../dsl/code-version.ts';
import { computeCodeVersion } from './code-version.ts';
import { missingPackage } from './missing-package.ts';

export interface LoadProblem {
  file: string;
  message: string;
  code: string;
  line?: number;
  column?: number;
}

export interface LoadedPipelines {
  pipelines: Pipeline<any, any>[];
  /** Which file each pipeline came from. */
  files: Map<string, string>;
  problems: LoadProblem[];
}

export interface LoadOptions {
  /** Deadline for importing one file (CONVEYOR_PIPELINE_IMPORT_TIMEOUT); a file past it is skipped. 0 = none. */
  importTimeoutMs?: number;
}

const PIPELINE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/**
 * Loads every pipeline file of a folder (or one file). A file that fails — syntax error, throws at
 * import, does not finish importing within the deadline, no default-exported pipeline, invalid DAG,
 * duplicate id — is reported and skipped; the others still load. Nothing is written anywhere.
 */
export async function loadPipelines(target: string, options: LoadOptions = {}): Promise<LoadedPipelines> {
  const path = resolve(target);
  if (!existsSync(path)) throw new NotFoundError('pipelines folder or file', target);
  const files = pipelineFiles(path);
  const result: LoadedPipelines = { pipelines: [], files: new Map(), problems: [] };
  const timeoutMs = options.importTimeoutMs ?? DEFAULT_IMPORT_TIMEOUT_MS;
  const probe = timeoutMs > 0 ? new ImportProbe(files.map((f) => pathToFileURL(f).href), timeoutMs) : undefined;
  for (const file of files) {
    const shown = relative(process.cwd(), file) || basename(file);
    if ((await probe?.verdict(pathToFileURL(file).href)) === 'hanging') {
      result.problems.push(importTimeoutProblem(shown, timeoutMs));
      continue;
    }
    try {
      const pipeline = await importPipeline(file, shown);
      validateDag(pipeline.spec, `${shown}: pipeline "${pipeline.id}"`);
      validateSchedulesAt(shown, pipeline);
      const other = result.files.get(pipeline.id);
      if (other) throw new ValidationError(`${shown}: pipeline id "${pipeline.id}" is already defined in ${other}`);
      result.pipelines.push(pipeline);
      result.files.set(pipeline.id, shown);
      setCodeVersion(pipeline, computeCodeVersion(file));
    } catch (thrown) {
      result.problems.push(describeProblem(shown, preciseSyntaxError(file, thrown), file));
    }
  }
  return result;
}

function importTimeoutProblem(file: string, timeoutMs: number): LoadProblem {
  return {
    file,
    code: 'IMPORT_TIMEOUT',
    message: `${file}: importing did not finish within ${timeoutMs} ms (a loop or a top-level await that never settles?); skipped. The deadline is CONVEYOR_PIPELINE_IMPORT_TIMEOUT`,
  };
}

/** The pipeline files of a folder (helpers `_x.ts`, tests and declarations excluded), or the one file given. */
export function pipelineFiles(path: string): string[] {
  return statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => PIPELINE_EXTENSIONS.has(extname(f)) && !f.endsWith('.d.ts') && !f.startsWith('_') && !/\.test\.[mc]?[jt]s$/.test(f))
        .sort()
        .map((f) => join(path, f))
    : [path];
}

async function importPipeline(file: string, shown: string): Promise<Pipeline<any, any>> {
  await ensureTypeScriptLoader();
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const candidate = module.default;
  if (!isPipeline(candidate)) {
    const found = candidate === undefined ? 'no default export' : `a default export of type ${typeof candidate}`;
    throw new ValidationError(`${shown}: expected a default-exported pipeline (export default definePipeline(...)), found ${found}`);
  }
  return candidate;
}

/**
 * tsx's module lexer reports a syntax error in a plain .js/.mjs file as "Parse error <file>:1:1",
 * whatever the real position. Only then (the error path), ask Node itself for the line and reason.
 */
function preciseSyntaxError(file: string, thrown: unknown): unknown {
  if (!(thrown instanceof Error) || !/^Parse error /.test(thrown.message) || !/\.[mc]?js$/.test(file)) return thrown;
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const lines = (check.stderr ?? '').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${file}:`));
  const reason = /^SyntaxError: (.*)$/m.exec(check.stderr ?? '')?.[1];
  if (at < 0 || !reason) return thrown;
  // Node prints "<file>:<line>", the source line, then a caret under the offending column.
  const line = lines[at].slice(file.length + 1);
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return new SyntaxError(`${file}:${line}:${caret >= 0 ? caret + 1 : 1}: ${reason}`);
}

function describeProblem(file: string, thrown: unknown, absolute = file): LoadProblem {
  const error = coerceError(thrown);
  const code = error instanceof ConveyorError ? error.code : error.name === 'SyntaxError' || /Transform failed|Expected/.test(error.message) ? 'SYNTAX' : 'IMPORT';
  const position = positionOf(error, absolute);
  // esbuild's first line is only "Transform failed with 1 error:": show its error line instead.
  const text = position?.text ?? error.message.split('\n')[0];
  const at = position ? `${file}:${position.line}:${position.column}` : file;
  // Syntax errors read "file:line:col: reason" (clickable in editors); errors thrown by the file's code
  // keep "file: message" and name the frame after it.
  let message = error instanceof ConveyorError && error.message.startsWith(file) ? error.message : position?.text ? `${at}: ${text}` : `${file}: ${text}`;
  if (position && !position.text) message += ` (at ${at})`;
  const missing = missingPackage(error);
  if (missing) message = `${file}: ${missing}`;
  if (/Cannot require\(\) ES Module .* in a cycle/.test(error.message)) {
    message += ' (hint: the pipelines folder must be inside a package with "type": "module" in its package.json)';
  }
  return {
    file,
    message: error instanceof ConveyorError ? message : message.replace(/\s+/g, ' ').slice(0, 500),
    code,
    ...(position ? { line: position.line, column: position.column } : {}),
  };
}

/**
 * Where in the pipeline file the problem is (1-based line and column), for `validate --json` and
 * editors: esbuild (through tsx) reports "<path>:<line>:<col>: ERROR: <text>" with a 0-based column;
 * Node's own syntax errors (see preciseSyntaxError) "<path>:<line>:<col>: <text>"; an error thrown
 * while the file is imported has the file's frame in its (source-mapped) stack.
 */
function positionOf(error: Error, absolute: string): { line: number; column: number; text?: string } | undefined {
  const esbuild = /^(.*?):(\d+):(\d+): ERROR: (.*)$/m.exec(error.message);
  if (esbuild) return { line: Number(esbuild[2]), column: Number(esbuild[3]) + 1, text: esbuild[4] };
  const node = /^(.*?):(\d+):(\d+): (.*)$/.exec(error.message);
  if (node && error.name === 'SyntaxError') return { line: Number(node[2]), column: Number(node[3]), text: node[4] };
  const escaped = absolute.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`(?:file://)?${escaped}:(\\d+):(\\d+)`).exec(error.stack ?? '');
  return frame ? { line: Number(frame[1]), column: Number(frame[2]) } : undefined;
}

/** Finds a pipeline by id among loaded ones, or loads a file path given instead of an id. */
export async function resolvePipeline(idOrPath: string, pipelinesDir: string): Promise<{ pipeline: Pipeline<any, any>; loaded: LoadedPipelines }> {
  const isPath = /[\\/]|\.[mc]?[jt]s$/.test(idOrPath);
  const loaded = await loadPipelines(isPath ? idOrPath : pipelinesDir);
  const pipeline = isPath ? loaded.pipelines[0] : loaded.pipelines.find((p) => p.id === idOrPath);
  if (!pipeline) {
    const problem = loaded.problems.find((p) => isPath || p.file.includes(idOrPath));
    if (problem) throw new ValidationError(problem.message);
    throw new NotFoundError('pipeline', idOrPath, loaded.pipelines.map((p) => p.id));
  }
  return { pipeline, loaded };
}

/** Invalid cron expressions, zones or catch-up windows fail the file at load, not at 3 a.m. */
function validateSchedulesAt(file: string, pipeline: Pipeline<any, any>): void {
  try {
    validateSchedules(pipeline.spec);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(`${file}: ${error.message}`, error.issues.map((i) => `${file}: ${i}`));
    throw error;
  }
}
