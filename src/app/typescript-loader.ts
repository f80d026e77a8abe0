/**
 * Pipeline files are TypeScript that their authors never compile. The installed CLI is compiled
 * JavaScript, so it registers tsx once, the first time it imports a pipeline file — not at start-up,
 * which keeps commands that load no pipeline (`--version`, `runs`, `status`) fast.
 */
const REGISTERED = Symbol.for('conveyor.typescript-loader');

export async function ensureTypeScriptLoader(): Promise<void> {
  const flags = globalThis as Record<symbol, unknown>;
  // Running as .ts means a TypeScript loader is already active (source checkout, tests).
  if (flags[REGISTERED] || import.meta.url.endsWith('.ts')) return;
  flags[REGISTERED] = true;
  const { register } = await import('tsx/esm/api');
  register();
}
