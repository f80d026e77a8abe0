#!/usr/bin/env node
// The `conveyor` command. An installed package runs the compiled CLI in dist/. A source checkout
// (src/ next to bin/, as in Conveyor's own repository and its Docker image) runs the TypeScript
// sources through tsx instead, so a change needs no build step before it is tried.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+: keep V8's compiled code of Conveyor and its dependencies on disk between calls (most of
// a one-shot command's start-up is compiling them). Older Node has no such API and skips this.
module.enableCompileCache?.();

if (existsSync(new URL('../src/cli/bin.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./source-hooks.js');
  await import('../src/cli/bin.ts');
} else {
  await import('../dist/cli/bin.js');
}
