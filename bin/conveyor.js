#!/usr/bin/env node
// The `conveyor` command. An installed package runs the compiled CLI in dist/. A source checkout
// (src/ next to bin/, as in Conveyor's own repository and its Docker image) runs the TypeScript
// sources through tsx instead, so a change needs no build step before it is tried.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli/bin.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./source-hooks.js');
  await import('../src/cli/bin.ts');
} else {
  await import('../dist/cli/bin.js');
}
