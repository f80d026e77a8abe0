#!/usr/bin/env node
// Loads tsx so the CLI (and the user's pipeline files) run as TypeScript with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bin.ts');
