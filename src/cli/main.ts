import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConveyorError, isConveyorError } from '../errors/index.ts';
import { commandsFor } from './command-table.ts';
import { COMMAND_EXIT_CODES, exitCodesHelp, PROGRAM_EXIT_CODES } from './exit-codes.ts';
import { red } from './output.ts';

/** The program's `--help` footer: the exit codes every command shares, and --json errors. */
export const EXIT_CODES_HELP = `${exitCodesHelp(PROGRAM_EXIT_CODES)}
Each command's --help lists what its codes mean for it.
With --json, errors are printed on stderr as {"error":{"code":"…","message":"…"}} (same exit codes).`;

function exitCodeFor(error: unknown): number {
  if (isConveyorError(error) && (error.code === 'VALIDATION' || error.code === 'CYCLE' || error.code === 'CONFIG')) return 2;
  return 1;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The program with the commands these arguments need (see command-table.ts). */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('conveyor')
    .description('Typed TypeScript DAG pipelines for MLOps on Redis/BullMQ')
    .version(packageVersion(), '-V, --version', 'print the Conveyor version')
    .option('--redis-url <url>', 'Redis URL (default: REDIS_URL, a running `conveyor dev`, or redis://127.0.0.1:6379)')
    .option('--prefix <prefix>', 'key prefix (default: CONVEYOR_PREFIX or "conveyor")')
    .option('--pipelines <dir>', 'pipelines folder (default: CONVEYOR_PIPELINES or ./pipelines)')
    .option('--log-level <level>', 'debug | info | warn | error | silent')
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({ outputError: (text, write) => write(red(text)) });
  for (const command of await commandsFor(args)) {
    // Subcommands (models promote, schedules pause) show their parent's codes.
    const codes = COMMAND_EXIT_CODES[command.name()];
    if (codes) for (const c of [command, ...command.commands]) c.addHelpText('after', exitCodesHelp(codes));
    program.addCommand(command);
  }
  return program;
}

/** An error for scripts: one JSON line on stderr. */
function printJsonError(code: string, message: string): void {
  process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv.slice(2));
  const json = argv.includes('--json');
  if (json) {
    // commander prints usage errors itself; with --json they come out as JSON below instead.
    const quiet = (command: Command): void => {
      command.configureOutput({ outputError: () => {} }).showHelpAfterError(false);
      command.commands.forEach(quiet);
    };
    quiet(program);
  }
  // commander's own usage errors (unknown option, missing argument) → 2; --help / --version → 0.
  // Set on every command: addCommand() does not pass the override down to subcommands.
  const override = (command: Command): void => {
    command.exitOverride((err) => {
      throw Object.assign(new ConveyorError('VALIDATION', err.message), { exitCode: err.exitCode === 0 ? 0 : 2, commander: true });
    });
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const commanderError = error as { commander?: boolean; exitCode?: number };
    if (commanderError.commander) {
      if (json && commanderError.exitCode !== 0) printJsonError('USAGE', (error as Error).message.replace(/^error: /, ''));
      process.exitCode = commanderError.exitCode;
      return;
    }
    const message = isConveyorError(error) ? error.message : error instanceof Error ? error.message : String(error);
    if (json) printJsonError(isConveyorError(error) ? error.code : 'ERROR', message);
    else process.stderr.write(`${red('error:')} ${message}\n`);
    if (process.env.CONVEYOR_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
