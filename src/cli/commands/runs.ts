import { userInfo, hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { configFrom, withRunReader, withRuntime } from '../context.ts';
// Direct module imports keep `status`, `runs` and `logs` free of BullMQ and fastify (see context.ts).
import type { Runtime, RunView } from '../../app/index.ts';
import { parseDuration } from '../../core/duration.ts';
import { IDEMPOTENCY_KEY, idempotentRunId, stepSelected } from '../../core/ids.ts';
import { RUN_STATUSES, RUN_TRIGGERS } from '../../domain/run-state.ts';
import { ValidationError } from '../../errors/index.ts';
import { checkParamNames, collectParams, readParamsSource, repeatable } from './params.ts';
import { attemptErrorLines, formatLogLine, LogTail, streamLogs, type LogLine } from '../run-logs.ts';
import { colorStatus, describeRun, dim, formatMs, formatTime, printJson, statusMark, table, yellow } from '../output.ts';

/** Exit code of `run --wait`: 0 succeeded, 1 failed or cancelled. */
const exitFor = (view: RunView) => (view.status === 'succeeded' ? 0 : 1);

export function runCommand(): Command {
  return new Command('run')
    .description('trigger a run of a pipeline and print its id (with --wait: follow it to the end)')
    .argument('<pipeline>', 'pipeline id or path to a pipeline file')
    .option('-p, --param <key=value>', 'a run parameter (repeatable; values parsed as JSON when possible)', repeatable, [])
    .option('--params-json <json>', 'all run parameters as one JSON object (@file reads a file, @- stdin)')
    .option('--params-file <path>', 'all run parameters from a JSON file ("-": stdin)')
    .option('--wait', 'follow the run, showing each step; exit 0 if it succeeded, 1 otherwise')
    .option('--logs', "with --wait: stream the steps' log lines (step#attempt, and each failed attempt's error) on stderr until the run ends")
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (exit 1)', Number)
    .option('--idempotency-key <key>', 'a repeat with the same key returns the same run instead of a new one')
    .option('--json', 'print JSON: { runId, created } (with --wait: the full run)')
    .action(async (idOrPath: string, opts: { param: string[]; paramsJson?: string; paramsFile?: string; wait?: boolean; logs?: boolean; timeout?: number; idempotencyKey?: string; json?: boolean }, command: Command) => {
      if (opts.paramsJson !== undefined && opts.paramsFile !== undefined) throw new ValidationError('--params-json and --params-file: give one of them');
      const [source, value] = opts.paramsFile !== undefined ? ['--params-file', opts.paramsFile] : ['--params-json', opts.paramsJson];
      if (opts.logs && !opts.wait) throw new ValidationError('--logs: expected --wait too (logs stream while waiting for the run)');
      const params = collectParams(opts.param, value === undefined ? undefined : readParamsSource(source, value), source);
      // Loaded here, not at the top: the DSL, graphology and cron-parser are a third of a read-only
      // command's start-up (`status`, `runs`, `logs` share this module).
      const { resolvePipeline } = await import('../../app/pipeline-loader.ts');
      const { pipeline } = await resolvePipeline(idOrPath, configFrom(command).pipelinesDir);
      checkParamNames(pipeline.paramsSchema, params, pipeline.id);
      await withRuntime(command, async (runtime) => {
        // The same id the API gives the same key (one function): a CLI retry and an API retry agree.
        if (opts.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(opts.idempotencyKey)) {
          throw new ValidationError(`--idempotency-key: expected 1-255 printable ASCII characters (no spaces), found ${JSON.stringify(opts.idempotencyKey.slice(0, 60))}`);
        }
        const runId = opts.idempotencyKey ? idempotentRunId(pipeline.id, opts.idempotencyKey) : undefined;
        const { runId: id, created } = await runtime.engine.trigger(pipeline, {
          params,
          runId,
          trigger: { type: 'manual', by: safeUser(), via: `cli@${hostname()}` },
        });
        await warnAboutUnservedQueues(runtime, pipeline.spec.steps.map((s) => s.queue));
        if (!opts.wait) {
          if (opts.json) printJson({ runId: id, created });
          else process.stdout.write(`${id}${created ? '' : dim('  (existing run for this idempotency key)')}\n`);
          return;
        }
        if (!opts.json) process.stdout.write(`run ${id} of ${pipeline.id}${created ? '' : ' (existing)'}\n`);
        const view = await follow(runtime, id, { progress: !opts.json, timeoutSeconds: opts.timeout, logs: opts.logs, json: opts.json });
        if (opts.json) printJson(view);
        else process.stdout.write(`${describeRun(view)}\n`);
        process.exitCode = exitFor(view);
      });
    });
}

/**
 * Waits for a run, printing a line on stderr whenever a step changes status; with `logs`, also the
 * steps' log lines as they are written and each failed attempt's error (JSON lines with `json`).
 */
export async function follow(runtime: Runtime, runId: string, options: { progress: boolean; timeoutSeconds?: number; logs?: boolean; json?: boolean }): Promise<RunView> {
  const seen = new Map<string, string>();
  const failuresShown = new Set<string>();
  const logs = options.logs ? streamLogs(runtime.engine, runId, (line) => process.stderr.write(formatLogLine(line, options.json === true))) : undefined;
  try {
    return await runtime.engine.waitForRun(runId, {
      timeoutMs: options.timeoutSeconds ? options.timeoutSeconds * 1000 : undefined,
      onUpdate: (view) => {
        logs?.add(attemptErrorLines(view, undefined, failuresShown));
        if (!options.progress) return;
        for (const [name, step] of Object.entries(view.steps)) {
          const key = `${step.status}:${step.attempts}`;
          if (seen.get(name) === key || step.status === 'pending' || step.status === 'queued') continue;
          seen.set(name, key);
          const attempt = step.attempts > 1 ? dim(` (attempt ${step.attempts})`) : '';
          process.stderr.write(`  ${statusMark(step.status)} ${name} ${step.status}${attempt}${step.durationMs !== undefined ? dim(` ${formatMs(step.durationMs)}`) : ''}\n`);
        }
      },
    });
  } finally {
    await logs?.stop();
  }
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show a run and its steps')
    .argument('<runId>')
    .option('--json', 'print { id, pipeline, status, params, steps: { <name>: { status, attempts, output, error } }, ... }')
    .option('--all', "list every item of a map step (default: one line with counts, failed items first)")
    .action(async (runId: string, opts: { json?: boolean; all?: boolean }, command: Command) => {
      await withRunReader(command, async (runtime) => {
        const view = await runtime.engine.getRun(runId);
        if (opts.json) printJson(view);
        else process.stdout.write(`${describeRun(view, { all: opts.all })}\n`);
      });
    });
}

/** `--limit`: a whole number of runs the run queries accept (1-1000). */
function positiveLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError(`expected a whole number from 1 to 1000, found "${value}"`);
  return n;
}

function parseInstant(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected an ISO-8601 date or time (e.g. 2026-03-01T10:00Z), found "${value}"`);
  return ms;
}

export function listRunsCommand(): Command {
  return new Command('runs')
    .description('list recent runs, newest first')
    .option('--pipeline <id>', 'only runs of this pipeline')
    .addOption(new Option('--status <status>', 'only runs in this status').choices([...RUN_STATUSES]))
    .addOption(new Option('--trigger <type>', 'only runs started this way').choices([...RUN_TRIGGERS]))
    .option('--from <time>', 'created at or after (ISO-8601, e.g. 2026-03-01 or 2026-03-01T10:00Z)', parseInstant)
    .option('--to <time>', 'created at or before (ISO-8601)', parseInstant)
    .option('--limit <n>', 'how many (1-1000)', positiveLimit, 20)
    .option('--json', 'print a JSON array of runs')
    .action(async (opts: { pipeline?: string; status?: 'queued'; trigger?: string; from?: number; to?: number; limit: number; json?: boolean }, command: Command) => {
      await withRunReader(command, async (runtime) => {
        const runs = await runtime.engine.listRuns({ pipeline: opts.pipeline, status: opts.status, trigger: opts.trigger, from: opts.from, to: opts.to, limit: opts.limit });
        if (opts.json) return printJson(runs);
        if (runs.length === 0) return void process.stdout.write('no runs\n');
        process.stdout.write(
          `${table(
            ['RUN', 'PIPELINE', 'STATUS', 'TRIGGER', 'CREATED', 'DURATION'],
            runs.map((r) => [
              r.id,
              r.pipeline,
              colorStatus(r.status),
              String(r.trigger.type ?? ''),
              formatTime(r.createdAt),
              r.finishedAt && r.startedAt ? formatMs(r.finishedAt - r.startedAt) : '',
            ]),
          )}\n`,
        );
      });
    });
}

export function logsCommand(): Command {
  return new Command('logs')
    .description("print a run's step logs")
    .argument('<runId>')
    .option('--step <name>', 'only this step')
    .option('--json', 'print JSON lines')
    .action(async (runId: string, opts: { step?: string; json?: boolean }, command: Command) => {
      await withRunReader(command, async (runtime) => {
        const view = await runtime.engine.getRun(runId); // NotFoundError for an unknown run
        const names = Object.keys(view.steps);
        if (opts.step && !names.some((name) => stepSelected(name, opts.step))) {
          const bases = [...new Set(names.map((n) => n.replace(/\[\d+\]$/, '')))];
          throw new ValidationError(`run ${runId} has no step "${opts.step}" (steps: ${bases.join(', ')})`);
        }
        const print = (line: LogLine) => process.stdout.write(formatLogLine(line, opts.json === true));
        await new LogTail(runtime.engine, runId, opts.step).drain(print);
        // The error that ended a step's last attempt is not a log line the step wrote: add it.
        attemptErrorLines(view, opts.step).forEach(print);
      });
    });
}

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel a run: running steps are aborted (ctx.signal), the rest marked cancelled')
    .argument('<runId>')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const result = await runtime.engine.cancel(runId, `cli:${safeUser()}`);
        if (opts.json) printJson({ runId, ...result });
        else process.stdout.write(`cancelled ${runId} (${result.cancelledSteps.length} active steps aborted)\n`);
      });
    });
}

export function retryCommand(): Command {
  return new Command('retry')
    .description('re-run the failed, cancelled and skipped steps of a failed or cancelled run, keeping succeeded outputs')
    .argument('<runId>')
    .option('--wait', 'follow the run to the end; exit 0 if it succeeded')
    .option('--logs', "with --wait: stream the steps' log lines on stderr until the run ends")
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { wait?: boolean; logs?: boolean; json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const result = await runtime.engine.retry(runId);
        if (!opts.wait) {
          if (opts.json) printJson({ runId, ...result });
          else process.stdout.write(`retrying ${runId}: ${result.requeued.join(', ') || 'nothing ready yet'}\n`);
          return;
        }
        const view = await follow(runtime, runId, { progress: !opts.json, logs: opts.logs, json: opts.json });
        if (opts.json) printJson(view);
        else process.stdout.write(`${describeRun(view)}\n`);
        process.exitCode = exitFor(view);
      });
    });
}

export function pruneCommand(): Command {
  return new Command('prune')
    .description('delete finished runs older than the retention (default CONVEYOR_RETENTION, 14d)')
    .option('--older-than <duration>', 'e.g. 7d, 12h (default: the configured retention)')
    .option('--json', 'print JSON')
    .action(async (opts: { olderThan?: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const ms = opts.olderThan ? parseDuration(opts.olderThan) : runtime.config.retentionMs;
        if (ms === undefined) throw new ValidationError(`--older-than: expected a duration like 7d or 12h, found "${opts.olderThan}"`);
        const removed = await runtime.engine.pruneFinished(Date.now() - ms);
        if (opts.json) printJson({ removed });
        else process.stdout.write(`removed ${removed} finished runs\n`);
      });
    });
}

/**
 * A run whose queues no live worker serves waits forever in `queued`: say so at once, with the fix,
 * rather than letting `--wait` hang silently.
 */
async function warnAboutUnservedQueues(runtime: Runtime, queues: string[]): Promise<void> {
  const workers = await runtime.liveWorkers();
  const served = new Set(workers.flatMap((w) => w.queues));
  const missing = [...new Set(queues)].filter((q) => !served.has(q));
  if (missing.length === 0) return;
  process.stderr.write(
    `${yellow('warning:')} no live worker serves ${missing.map((q) => `"${q}"`).join(', ')}; steps there wait until one starts ` +
      `(conveyor worker --queues ${missing.join(',')}, or conveyor dev)\n`,
  );
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
