// Conveyor's own checkout only (see conveyor.js): imports of 'conveyor-mlops' from pipeline files
// and tests resolve to src/, so they share one copy of every module with the CLI that loads them.
// Loaded by conveyor.js in source mode and by the test runner (package.json "ava.nodeArguments").
import { register } from 'node:module';

const sources = {
  'conveyor-mlops': new URL('../src/index.ts', import.meta.url).href,
  'conveyor-mlops/testing': new URL('../src/testing/index.ts', import.meta.url).href,
};

const hook = `const sources = ${JSON.stringify(sources)};
export async function resolve(specifier, context, next) {
  return next(Object.hasOwn(sources, specifier) ? sources[specifier] : specifier, context);
}`;

register(`data:text/javascript,${encodeURIComponent(hook)}`);
