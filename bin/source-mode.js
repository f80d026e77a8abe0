// Source mode of the `conveyor` command (see conveyor.js): TypeScript through tsx, and imports of
// 'conveyor-mlops' from pipeline files resolved to src/ (the "conveyor-source" export condition),
// so the CLI and the pipelines it loads share one copy of every module.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

const addSourceCondition = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, 'conveyor-source'] });
}`;

export async function loadSources() {
  registerTsx();
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  globalThis[Symbol.for('conveyor.typescript-loader')] = true;
}
