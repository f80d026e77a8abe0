import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LoadProblem } from './pipeline-loader.ts';
import { pipelineFiles } from './pipeline-loader.ts';

export type TypecheckResult =
  | { status: 'checked'; tsconfig: string; problems: LoadProblem[] }
  /** Nothing to check with: no tsconfig.json above the pipelines, or no TypeScript installed there. */
  | { status: 'skipped'; reason: string };

/**
 * Type-checks pipeline files the way the project's editor does: with the nearest tsconfig.json above
 * them and the TypeScript the project installed (never one of Conveyor's own), so a wrong `upstream`
 * field, `needs` entry or params type is an error with its position before a worker meets it.
 * Only the pipeline files (and what they import) are checked, not the whole project.
 */
export async function typecheckPipelines(target: string): Promise<TypecheckResult> {
  const path = resolve(target);
  const tsconfig = findUp(statSync(path).isDirectory() ? path : dirname(path), 'tsconfig.json');
  if (!tsconfig) return { status: 'skipped', reason: `no tsconfig.json in ${relative(process.cwd(), path) || '.'} or above it` };
  const ts = await projectTypeScript(dirname(tsconfig));
  if (!ts) return { status: 'skipped', reason: `TypeScript is not installed for ${relative(process.cwd(), tsconfig) || tsconfig} (npm install -D typescript)` };
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) return { status: 'skipped', reason: `${tsconfig} could not be read` };
  // The pipeline files, plus the project's own declaration files (ambient `declare module`s).
  const declarations = parsed.fileNames.filter((f) => f.endsWith('.d.ts'));
  const program = ts.createProgram({ rootNames: [...pipelineFiles(path), ...declarations], options: { ...parsed.options, noEmit: true } });
  const diagnostics = [...(parsed.errors ?? []), ...ts.getPreEmitDiagnostics(program)];
  return { status: 'checked', tsconfig, problems: diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).map((d) => problemOf(ts, d, tsconfig)) };
}

type TypeScript = typeof import('typescript');

async function projectTypeScript(projectDir: string): Promise<TypeScript | undefined> {
  try {
    const entry = createRequire(join(projectDir, 'package.json')).resolve('typescript');
    const module = (await import(pathToFileURL(entry).href)) as TypeScript & { default?: TypeScript };
    return module.default ?? module;
  } catch {
    return undefined;
  }
}

function problemOf(ts: TypeScript, diagnostic: import('typescript').Diagnostic, tsconfig: string): LoadProblem {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  if (!diagnostic.file || diagnostic.start === undefined) {
    const file = relative(process.cwd(), tsconfig) || tsconfig;
    return { file, code: 'TYPE', message: `${file}: TS${diagnostic.code}: ${text}` };
  }
  const file = relative(process.cwd(), diagnostic.file.fileName) || diagnostic.file.fileName;
  const position = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const line = position.line + 1;
  const column = position.character + 1;
  return { file, line, column, code: 'TYPE', message: `${file}:${line}:${column}: TS${diagnostic.code}: ${text}` };
}

function findUp(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) return undefined;
  }
}
