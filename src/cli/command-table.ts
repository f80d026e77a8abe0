import type { Command } from 'commander';

type Loader = () => Promise<Command>;

/**
 * Every command, in `--help` order, each behind a dynamic import: a call loads only the module of
 * the command it runs (BullMQ, fastify and the DSL are most of a one-shot command's start-up time).
 */
export const COMMANDS: ReadonlyArray<readonly [name: string, load: Loader]> = [
  ['init', async () => (await import('./commands/init.ts')).initCommand()],
  ['validate', async () => (await import('./commands/pipelines.ts')).validateCommand()],
  ['graph', async () => (await import('./commands/pipelines.ts')).graphCommand()],
  ['run', async () => (await import('./commands/runs.ts')).runCommand()],
  ['status', async () => (await import('./commands/runs.ts')).statusCommand()],
  ['runs', async () => (await import('./commands/runs.ts')).listRunsCommand()],
  ['logs', async () => (await import('./commands/runs.ts')).logsCommand()],
  ['cancel', async () => (await import('./commands/runs.ts')).cancelCommand()],
  ['retry', async () => (await import('./commands/runs.ts')).retryCommand()],
  ['prune', async () => (await import('./commands/runs.ts')).pruneCommand()],
  ['worker', async () => (await import('./commands/worker.ts')).workerCommand()],
  ['dev', async () => (await import('./commands/dev.ts')).devCommand()],
  ['demo', async () => (await import('./commands/dev.ts')).demoCommand()],
  ['serve', async () => (await import('./commands/serve.ts')).serveCommand()],
  ['scheduler', async () => (await import('./commands/scheduling.ts')).schedulerCommand()],
  ['schedules', async () => (await import('./commands/scheduling.ts')).schedulesCommand()],
  ['backfill', async () => (await import('./commands/scheduling.ts')).backfillCommand()],
  ['trigger-event', async () => (await import('./commands/scheduling.ts')).triggerEventCommand()],
  ['models', async () => (await import('./commands/models.ts')).modelsCommand()],
  ['pipelines', async () => (await import('./commands/pipelines-list.ts')).pipelinesListCommand()],
  ['monitor', async () => (await import('./commands/monitor.ts')).monitorCommand()],
];

/** Global options that take a value (`--prefix x` or `--prefix=x`); see buildProgram. */
const GLOBALS_WITH_VALUE = new Set(['--redis-url', '--prefix', '--pipelines', '--log-level']);

/** The command word of `conveyor [globals] <command> ...`, or undefined when there is none. */
export function commandNameIn(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (GLOBALS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * The commands to register for these arguments: the named one; none for a bare `--version`;
 * all of them otherwise (help, or an unknown command that commander answers with suggestions).
 */
export async function commandsFor(args: readonly string[]): Promise<Command[]> {
  const name = commandNameIn(args);
  const named = COMMANDS.find(([n]) => n === name);
  if (named) return [await named[1]()];
  if (name === undefined && (args.includes('--version') || args.includes('-V')) && !args.includes('--help') && !args.includes('-h')) return [];
  return Promise.all(COMMANDS.map(([, load]) => load()));
}
