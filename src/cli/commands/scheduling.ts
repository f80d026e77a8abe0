import { Command } from 'commander';
import { configFrom, openRuntime, withRuntime } from '../context.ts';
import { Scheduler, scheduleStoreOf, EventTriggers, attachMetrics, backfill, engineLauncher, loadPipelines, resolvePipeline, startOutboxSweeper, startRetention, type Runtime, type LoadedPipelines } from '../../app/index.ts';
import { ConfigError, NotFoundError, ValidationError } from '../../errors/index.ts';
import { colorStatus, dim, formatTime, printJson, statusMark, table } from '../output.ts';
import { reportProblems, untilSignal } from './worker.ts';

async function loadAll(command: Command): Promise<LoadedPipelines> {
  const config = configFrom(command);
  const loaded = await loadPipelines(config.pipelinesDir, { importTimeoutMs: config.pipelineImportTimeoutMs });
  reportProblems(loaded);
  return loaded;
}

function schedulerFor(runtime: Runtime, loaded: LoadedPipelines): Scheduler {
  return new Scheduler({
    store: scheduleStoreOf(runtime),
    pipelines: loaded.pipelines,
    launcher: engineLauncher(runtime),
    clock: runtime.clock,
    logger: runtime.logger,
  });
}

/** `conveyor scheduler`: fires due cron ticks; any number of replicas may run (each tick is claimed once). */
export function schedulerCommand(): Command {
  return new Command('scheduler')
    .description('fire the cron schedules and model-alias triggers of the pipelines; safe to run several replicas')
    .option('--interval <ms>', 'pause between passes', (v) => Number.parseInt(v, 10), 1_000)
    .action(async (opts: { interval: number }, command: Command) => {
      const loaded = await loadAll(command);
      if (loaded.pipelines.length === 0) throw new ConfigError('no valid pipelines: nothing to schedule');
      const runtime = await openRuntime(command);
      // /metrics and /healthz on CONVEYOR_METRICS_PORT (tick lateness, skipped and caught-up ticks).
      const metrics = await attachMetrics(runtime, { pipelines: loaded.pipelines, onServeError: 'warn' });
      const scheduler = new Scheduler({
        store: scheduleStoreOf(runtime), pipelines: loaded.pipelines, launcher: engineLauncher(runtime),
        clock: runtime.clock, logger: runtime.logger, intervalMs: opts.interval,
        onEvent: (event) => {
          metrics.onSchedulerEvent(event);
          if (event.type === 'tick-fired') process.stderr.write(`fired ${event.pipeline}/${event.schedule} ${event.tickTime} → ${event.runId}${event.created ? '' : ' (existed)'}\n`);
          if (event.type === 'tick-skipped') process.stderr.write(`skipped ${event.pipeline}/${event.schedule} ${event.tickTime}: ${event.reason}\n`);
        },
      });
      const triggers = new EventTriggers(runtime, loaded.pipelines);
      const unsubscribe = await runtime.registry.subscribe(triggers.onAliasMoved);
      scheduler.start();
      const retention = startRetention(runtime, { owner: `scheduler:${process.pid}` });
      const outbox = startOutboxSweeper(runtime, triggers);
      const schedules = loaded.pipelines.reduce((n, p) => n + p.spec.schedules.length, 0);
      process.stderr.write(`scheduler running: ${schedules} schedules in ${loaded.pipelines.length} pipelines\n`);
      await untilSignal();
      await scheduler.stop();
      await retention.stop();
      await outbox.stop();
      await unsubscribe();
      await metrics.close();
      await runtime.close();
    });
}

/** `conveyor schedules [pause|resume <pipeline>]`. */
export function schedulesCommand(): Command {
  const command = new Command('schedules')
    .description('list schedules with their next fire times, last run and status; pause or resume a pipeline')
    .option('--json', 'print JSON')
    .option('--next <n>', 'how many next fire times', (v) => Number.parseInt(v, 10), 3)
    .action(async (opts: { json?: boolean; next: number }, cmd: Command) => {
      const loaded = await loadAll(cmd);
      await withRuntime(cmd, async (runtime) => {
        const statuses = await schedulerFor(runtime, loaded).status(opts.next);
        const lastRuns = await runtime.engine.getRuns(statuses.map((s) => s.lastRunId).filter((id): id is string => !!id));
        const statusOf = new Map(lastRuns.map((r) => [r.id, r.status]));
        const rows = statuses.map((s) => ({ ...s, lastRunStatus: s.lastRunId ? statusOf.get(s.lastRunId) : undefined }));
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return void process.stdout.write('no schedules\n');
        process.stdout.write(
          `${table(
            ['PIPELINE', 'SCHEDULE', 'WHEN', 'NEXT', 'LAST RUN', 'STATUS'],
            rows.map((s) => [
              s.pipeline + (s.paused ? dim(' (paused)') : ''),
              s.schedule,
              s.description,
              s.nextTicks.map((t) => formatTime(t, { minutes: true })).join(', '),
              s.lastRunId ?? '',
              s.lastRunStatus ? colorStatus(s.lastRunStatus) : '',
            ]),
          )}\n`,
        );
      });
    });
  for (const action of ['pause', 'resume'] as const) {
    command.addCommand(
      new Command(action)
        .description(`${action} every schedule of a pipeline`)
        .argument('<pipeline>')
        .action(async (pipelineId: string, _opts: unknown, cmd: Command) => {
          const loaded = await loadAll(cmd);
          await withRuntime(cmd, async (runtime) => {
            const scheduler = schedulerFor(runtime, loaded);
            await (action === 'pause' ? scheduler.pause(pipelineId) : scheduler.resume(pipelineId));
            process.stdout.write(`${action === 'pause' ? 'paused' : 'resumed'} ${pipelineId}\n`);
          });
        }),
    );
  }
  return command;
}

function parseDate(value: string, flag: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationError(`${flag}: expected a date like 2026-11-01 or 2026-11-01T03:00:00Z, found "${value}"`);
  return ms;
}

/** `conveyor backfill <pipeline> --from --to`. */
export function backfillCommand(): Command {
  return new Command('backfill')
    .description('run every tick of a schedule in an interval with its logical time; ticks that already have a run are skipped')
    .argument('<pipeline>', 'pipeline id or file')
    .requiredOption('--from <date>', 'first tick at or after this time (ISO date/time, UTC unless it has an offset)')
    .requiredOption('--to <date>', 'last tick at or before this time')
    .option('--schedule <name>', 'which schedule of the pipeline (default: its first)')
    .option('--max-parallel <n>', 'runs unfinished at once', (v) => Number.parseInt(v, 10), 1)
    .option('--no-wait', 'trigger all ticks (respecting --max-parallel) without waiting for the last runs to finish')
    .option('--json', 'print the result as JSON')
    .action(async (idOrPath: string, opts: { from: string; to: string; schedule?: string; maxParallel: number; wait: boolean; json?: boolean }, command: Command) => {
      const { pipeline } = await resolvePipeline(idOrPath, configFrom(command).pipelinesDir);
      const schedule = opts.schedule ?? pipeline.spec.schedules[0]?.name;
      if (!schedule) throw new NotFoundError('schedule of pipeline', pipeline.id);
      await withRuntime(command, async (runtime) => {
        const result = await backfill({
          pipeline, schedule, fromMs: parseDate(opts.from, '--from'), toMs: parseDate(opts.to, '--to'),
          maxParallel: opts.maxParallel, wait: opts.wait, launcher: engineLauncher(runtime),
          onProgress: (p) => {
            if (!opts.json) process.stderr.write(`[${p.done}/${p.total}] ${formatTime(p.tickTime)} ${p.runId}${p.wasCreated ? '' : dim(' (already had a run)')}\n`);
          },
        });
        // How each run ended (with --no-wait, how far it got): read back from the run records.
        const records = new Map((await runtime.engine.getRuns(result.runIds)).map((r) => [r.id, r]));
        const runs = result.runIds.map((runId) => ({ runId, logicalTime: records.get(runId)?.logicalTime, status: records.get(runId)?.status ?? 'unknown' }));
        const byStatus = new Map<string, string[]>();
        for (const run of runs) byStatus.set(run.status, [...(byStatus.get(run.status) ?? []), run.runId]);
        if (opts.json) printJson({ ...result, runs });
        else {
          process.stdout.write(`backfill of ${pipeline.id}/${schedule}: ${result.total} ticks, ${result.created} runs created, ${result.existing} already existed\n`);
          process.stdout.write(`runs: ${[...byStatus].map(([status, ids]) => `${ids.length} ${status}`).join(', ') || 'none'}\n`);
          for (const run of runs.filter((r) => r.status === 'failed' || r.status === 'cancelled')) process.stdout.write(`  ${statusMark(run.status)} ${run.runId}  ${formatTime(run.logicalTime)}  ${run.status}\n`);
        }
        // Like `run --wait`: a backfill that waited exits 1 when one of its runs did not succeed.
        if (opts.wait && runs.some((r) => r.status === 'failed' || r.status === 'cancelled')) process.exitCode = 1;
      });
    });
}

/** `conveyor trigger-event <name> --data '{…}'`. */
export function triggerEventCommand(): Command {
  return new Command('trigger-event')
    .description('signal an external event (e.g. new data landed); starts every pipeline with triggers: [{ event: <name> }]')
    .argument('<name>')
    .option('--data <json>', 'event payload (JSON), visible to steps as ctx.run.trigger.data', '{}')
    .option('--idempotency-key <key>', 'a repeat with the same key starts no new runs')
    .option('--json', 'print the started runs as JSON')
    .action(async (name: string, opts: { data: string; idempotencyKey?: string; json?: boolean }, command: Command) => {
      let data: unknown;
      try {
        data = JSON.parse(opts.data);
      } catch (error) {
        throw new ValidationError(`--data: expected JSON, found invalid JSON (${(error as Error).message})`);
      }
      const loaded = await loadAll(command);
      await withRuntime(command, async (runtime) => {
        const fired = await new EventTriggers(runtime, loaded.pipelines).fireEvent(name, data, opts.idempotencyKey);
        if (opts.json) return printJson({ event: name, runs: fired });
        if (fired.length === 0) process.stdout.write(`no pipeline triggers on event "${name}"\n`);
        for (const run of fired) process.stdout.write(`${run.pipeline}: ${run.runId}${run.created ? '' : dim(' (existing)')}\n`);
      });
    });
}
