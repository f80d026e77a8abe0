/**
 * Every command's exit codes, in one table: `--help` prints each command's rows (buildProgram) and
 * test/cli/exit-codes.test.ts checks README's exit-code table against it, so the two cannot drift.
 * Codes mean the same everywhere: 0 success, 1 failure, 2 bad input (main.ts maps errors to them).
 */
export type ExitCode = 0 | 1 | 2;
type Codes = Readonly<Record<ExitCode, string>>;

const NO_REDIS = 'Redis unreachable';
const BAD_OPTIONS = 'bad options';
const UNTIL_SIGNAL = 'stopped by SIGTERM/SIGINT after draining';

export const PROGRAM_EXIT_CODES: Codes = {
  0: 'success',
  1: 'failure: the run failed or was cancelled, something was not found, or Redis is unreachable',
  2: 'bad input: params, options or pipeline files',
};

export const COMMAND_EXIT_CODES: Readonly<Record<string, Codes>> = {
  init: { 0: 'project written', 1: 'a file could not be written', 2: 'the folder already has project files; bad options' },
  validate: { 0: 'every pipeline file is valid', 1: 'the path does not exist', 2: 'a pipeline file is invalid (load, DAG or type errors) or none was found; bad options' },
  graph: { 0: 'DAG printed', 1: 'pipeline not found', 2: 'the pipeline file is invalid; bad options' },
  run: { 0: 'run triggered; with --wait: the run succeeded', 1: `with --wait: the run failed, was cancelled or --timeout passed; pipeline not found; ${NO_REDIS}`, 2: 'bad params (unknown or invalid), bad pipeline file, bad options' },
  status: { 0: 'run shown', 1: `run not found; ${NO_REDIS}`, 2: BAD_OPTIONS },
  runs: { 0: 'runs listed', 1: NO_REDIS, 2: 'bad filter (status, trigger, time); bad options' },
  logs: { 0: 'logs printed', 1: `run not found; ${NO_REDIS}`, 2: '--step names no step of the run (the steps are listed); bad options' },
  cancel: { 0: 'run cancelled', 1: `run not found or already finished; ${NO_REDIS}`, 2: BAD_OPTIONS },
  retry: { 0: 'steps re-queued; with --wait: the run succeeded', 1: `run not found or not retryable; with --wait: the run failed or was cancelled; ${NO_REDIS}`, 2: BAD_OPTIONS },
  prune: { 0: 'finished runs deleted', 1: NO_REDIS, 2: 'bad --older-than; bad options' },
  worker: { 0: UNTIL_SIGNAL, 1: `could not start; ${NO_REDIS}`, 2: 'bad configuration or options' },
  dev: { 0: 'stopped by SIGTERM/SIGINT', 1: 'could not start (embedded Redis, port)', 2: 'another conveyor dev runs in this folder; bad configuration or options' },
  demo: { 0: 'the run succeeded', 1: 'the run failed or was cancelled; pipeline not found', 2: 'bad pipeline file; bad options' },
  serve: { 0: 'stopped by SIGTERM/SIGINT', 1: `could not listen; ${NO_REDIS}`, 2: 'bad configuration (tokens, port) or options' },
  scheduler: { 0: UNTIL_SIGNAL, 1: NO_REDIS, 2: 'no valid pipeline to schedule; bad configuration or options' },
  schedules: { 0: 'schedules listed, paused or resumed', 1: `pipeline not found; ${NO_REDIS}`, 2: BAD_OPTIONS },
  backfill: { 0: 'every tick has a run; when waiting: each run succeeded', 1: `when waiting: a run failed or was cancelled; pipeline or schedule not found; ${NO_REDIS}`, 2: 'bad --from/--to; bad pipeline file; bad options' },
  'trigger-event': { 0: 'event fired (the runs it started are listed)', 1: NO_REDIS, 2: 'bad --data JSON; bad options' },
  models: { 0: 'done', 1: `model, version or alias not found; the alias moved concurrently or there is nothing to roll back; ${NO_REDIS}`, 2: 'promote of a version whose evaluation gates failed without --force; bad input or options' },
  pipelines: { 0: 'versions listed', 1: NO_REDIS, 2: BAD_OPTIONS },
  monitor: { 0: 'shown (with --once) or stopped by Ctrl-C', 1: NO_REDIS, 2: BAD_OPTIONS },
};

/** The `Exit codes:` block of a `--help` text. */
export function exitCodesHelp(codes: Codes): string {
  return `\nExit codes:\n${([0, 1, 2] as const).map((code) => `  ${code}  ${codes[code]}`).join('\n')}`;
}
