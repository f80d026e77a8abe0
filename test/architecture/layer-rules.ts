/**
 * The module layering of src/, as the build enforces it (test/architecture/layers.test.ts).
 * docs/internals.md explains the table; change both together.
 *
 * `imports`: modules whose values may be imported. `types`: modules that may only be imported with
 * `import type` (a type-only edge costs nothing at run time and cannot create a load-order cycle,
 * but it still couples the contract, so it is listed, not free).
 */
export interface LayerRule {
  imports: string[];
  types?: string[];
  /** Third-party packages this module may import; `*` for any. Node built-ins are always allowed. */
  packages: string[] | '*';
}

export const LAYERS: Record<string, LayerRule> = {
  // superjson: the hand-off codec (core/hand-off.ts) is shared by redis/, worker/ and testing/.
  core: { imports: [], packages: ['superjson'] },
  errors: { imports: ['core'], packages: ['zod'] },
  config: { imports: ['core', 'errors'], packages: ['zod'] },
  // What a run and its steps are (statuses, records, step letters): pure types and tables.
  domain: { imports: ['core'], types: ['dsl'], packages: [] },
  dsl: { imports: ['core', 'errors'], packages: ['zod'] },
  graph: { imports: ['core', 'errors'], types: ['dsl'], packages: ['graphology', 'graphology-dag'] },
  // The only code that touches ioredis/BullMQ (zod: the schema of what the run scripts store, run-schema.ts).
  redis: { imports: ['core', 'errors', 'config', 'domain'], types: ['dsl'], packages: ['ioredis', 'bullmq', 'zod'] },
  engine: { imports: ['core', 'errors', 'config', 'dsl', 'graph', 'redis', 'domain'], packages: ['zod'] },
  // Runs handlers and reports to the engine; it does not talk to Redis (the engine owns the lifecycle).
  worker: { imports: ['core', 'errors', 'config', 'dsl', 'engine', 'domain'], packages: ['zod'] },
  scheduler: { imports: ['core', 'errors', 'config', 'dsl', 'graph', 'redis', 'engine', 'domain'], packages: ['cron-parser', 'zod'] },
  // The only code that builds object-store (S3 SDK) clients and maps their errors.
  storage: { imports: ['core', 'errors', 'config'], packages: ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'] },
  registry: { imports: ['core', 'errors', 'config', 'redis', 'storage'], types: ['dsl'], packages: ['zod', '@aws-sdk/client-s3', '@aws-sdk/lib-storage'] },
  // Steps may parse object-store URIs with config/'s pure parsers.
  steps: { imports: ['core', 'errors', 'config', 'dsl', 'registry', 'storage'], types: ['domain', 'engine'], packages: '*' },
  // Fed by typed events: it sees the event types of the modules it measures, never their code.
  monitoring: { imports: ['core', 'errors'], types: ['domain', 'dsl', 'engine', 'registry', 'scheduler', 'steps', 'worker'], packages: ['prom-client'] },
  // The API may use the scheduler's pure cron arithmetic (next fire times) besides the engine.
  api: { imports: ['core', 'errors', 'config', 'dsl', 'engine', 'registry', 'scheduler', 'domain'], packages: ['fastify', 'zod', '@dagrejs/dagre'] },
  // The CLI reads a pipeline's params schema to name unknown params (zod introspection).
  cli: { imports: ['core', 'errors', 'config', 'domain', 'app'], packages: ['commander', 'zod'] },
  // The test kit runs handlers the way workers do and evaluates the DAG the way the engine does.
  testing: { imports: ['core', 'errors', 'dsl', 'graph', 'worker', 'registry', 'engine', 'domain'], packages: [] },
  // Composition root: wires everything.
  app: { imports: ['*'], packages: '*' },
  index: { imports: ['*'], packages: '*' },
};

/**
 * Imports that break the table today, each with the reason it is still there. The layer test fails
 * on any violation not listed here and on any entry here that no longer occurs, so this list only
 * shrinks. Key: `<file under src/> -> <module or pkg:name>`.
 */
export const KNOWN_VIOLATIONS: Record<string, string> = {
};

/** Files outside config/ that still read process.env, with the reason. */
export const ENV_READERS_KNOWN: string[] = [
  // The CLI reads CONVEYOR_* for flag defaults before config exists, and NO_COLOR/TTY for output.
  'src/cli/main.ts',
  'src/cli/output.ts',
  // Secrets are read by name on demand (CONVEYOR_SECRET_*), never copied into config.
  'src/app/secrets.ts',
  // A command step passes a filtered copy of the environment to its child process.
  'src/steps/run-command/run-command.ts',
];
