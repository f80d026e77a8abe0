import { Command } from 'commander';
import { configFrom } from '../context.ts';
import {
  claimDevState, clearDevState, CLOSE_GRACE_MS, scheduleStoreOf, createLogger, createRuntime, engineLauncher, EventTriggers, loadPipelines, resolvePipeline, Scheduler, startApi,
  startEmbeddedRedis, startWorkerHost, writeDevState, type EmbeddedRedis,
} from '../../app/index.ts';
import { hasRedisUrlInEnvironment, loadConfig, type Config } from '../../config/index.ts';
import { ConfigError } from '../../errors/index.ts';
import { follow } from './runs.ts';
import { describeRun, dim } from '../output.ts';
import { reportProblems, untilSignal } from './worker.ts';

/** Uses REDIS_URL when given; otherwise starts a private redis-server (the embedded default). */
async function redisFor(config: Config, explicitUrl: boolean, persist: boolean): Promise<{ config: Config; embedded?: EmbeddedRedis }> {
  if (explicitUrl) return { config };
  const embedded = await startEmbeddedRedis(config.dataDir, { persist });
  return { config: loadConfig({ REDIS_URL: embedded.url, CONVEYOR_PREFIX: config.prefix, CONVEYOR_PIPELINES: config.pipelinesDir, CONVEYOR_LOG_LEVEL: config.logLevel, CONVEYOR_DATA_DIR: config.dataDir }), embedded };
}

const hasExplicitRedis = (command: Command) => Boolean((command.optsWithGlobals() as { redisUrl?: string }).redisUrl) || hasRedisUrlInEnvironment();

/**
 * `conveyor dev`: the whole system in one process for local work — embedded Redis (AOF under
 * .conveyor/), a worker for every queue, the scheduler, and the API + web UI on 127.0.0.1.
 * `--run <pipeline>` triggers a run at once, follows it, and prints the link to its page in the UI.
 */
export function devCommand(): Command {
  return new Command('dev')
    .description('local development: private Redis (unless REDIS_URL is set), workers for every queue, scheduler, API and web UI on 127.0.0.1')
    .option('--concurrency <n>', 'steps at once per queue', (v) => Number.parseInt(v, 10), 4)
    .option('--port <n>', 'port of the API and UI', (v) => Number.parseInt(v, 10), 8080)
    .option('--run <pipeline>', 'trigger a run of this pipeline once everything is up, and show its result')
    .option('--no-scheduler', 'do not fire cron schedules')
    .action(async (opts: { concurrency: number; port: number; run?: string; scheduler: boolean }, command: Command) => {
      // An interactive terminal: warnings and errors only, unless --log-level asks for more.
      const base = configFrom(command, { defaultLogLevel: 'warn' });
      const { removedStalePid } = claimDevState(base.dataDir);
      if (removedStalePid !== undefined) process.stderr.write(dim(`removed the state file of an earlier conveyor dev (pid ${removedStalePid}) that no longer runs\n`));
      try {
        await runDev(base, opts, command);
      } finally {
        clearDevState(base.dataDir);
      }
      // Everything is stopped. A Redis client still reconnecting (the embedded Redis died before
      // Ctrl-C) would keep the process alive for good: leave once the clients had their grace.
      setTimeout(() => process.exit(), CLOSE_GRACE_MS).unref();
    });
}

/** Everything `conveyor dev` runs, once it holds the folder's dev state file. */
async function runDev(base: Config, opts: { concurrency: number; port: number; run?: string; scheduler: boolean }, command: Command): Promise<void> {
  const loaded = await loadPipelines(base.pipelinesDir, { importTimeoutMs: base.pipelineImportTimeoutMs });
  reportProblems(loaded);
  if (loaded.pipelines.length === 0) throw new ConfigError(`no valid pipelines in ${base.pipelinesDir}`);
  const { config, embedded } = await redisFor(base, hasExplicitRedis(command), true);
  const api = await startApi({ config, pipelines: loaded.pipelines, insecureLocal: true, port: await freePortFrom(opts.port) });
  const runtime = api.runtime;
  const host = await startWorkerHost(runtime, { pipelines: loaded.pipelines, concurrency: opts.concurrency });
  runtime.onEngineEvent(new EventTriggers(runtime, loaded.pipelines).onEngineEvent);
  const scheduler = opts.scheduler
    ? new Scheduler({ store: scheduleStoreOf(runtime), pipelines: loaded.pipelines, launcher: engineLauncher(runtime), clock: runtime.clock, logger: runtime.logger })
    : undefined;
  scheduler?.start();
  writeDevState(config.dataDir, { redisUrl: config.redisUrl, apiUrl: api.url, pid: process.pid });
  process.stdout.write(
    [
      `conveyor dev: Redis ${config.redisUrl}${embedded ? dim(' (embedded, data in .conveyor/redis)') : ''}`,
      `  workers serving ${host.queues.join(', ')} for ${loaded.pipelines.map((p) => p.id).join(', ')}`,
      `  scheduler ${scheduler ? 'on' : 'off'}; web UI and API: ${api.url}/ (no auth, 127.0.0.1 only)`,
      `  in another terminal: npx conveyor run ${opts.run ?? loaded.pipelines[0].id} --wait`,
      '  Ctrl-C to stop',
      '',
    ].join('\n'),
  );
  if (opts.run) {
    const { pipeline } = await resolvePipeline(opts.run, base.pipelinesDir);
    const { runId } = await runtime.engine.trigger(pipeline, { trigger: { type: 'manual', by: 'dev --run' } });
    process.stdout.write(`run ${runId} of ${pipeline.id}\n`);
    const view = await follow(runtime, runId, { progress: true });
    process.stdout.write(`${describeRun(view)}\n\nopen the run in the UI: ${api.url}/#/runs/${runId}\n`);
  }
  await untilSignal();
  await scheduler?.stop();
  await host.stop(5_000);
  // Bounded: with Redis gone, closing the API's clients would wait for a reconnect that never comes.
  await Promise.race([api.close().catch(() => {}), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
  await embedded?.stop();
}

/** The first free port at or after `port` on 127.0.0.1 (another program may hold 8080; the URL printed says which). */
async function freePortFrom(port: number): Promise<number> {
  const { createServer } = await import('node:net');
  for (let candidate = port; candidate < port + 50; candidate++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
  return 0;
}

/** `conveyor demo <pipeline>`: one command from a fresh clone to a finished run, then exit. */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run one pipeline end to end on a throw-away embedded Redis with an in-process worker, print the result, exit')
    .argument('<pipeline>', 'pipeline id or file')
    .option('--json', 'print the finished run as JSON')
    .action(async (idOrPath: string, opts: { json?: boolean }, command: Command) => {
      const base = configFrom(command);
      const { pipeline, loaded } = await resolvePipeline(idOrPath, base.pipelinesDir);
      const { config, embedded } = await redisFor(base, hasExplicitRedis(command), false);
      const runtime = await createRuntime(config, { logger: createLogger('warn') });
      try {
        const host = await startWorkerHost(runtime, { pipelines: loaded.pipelines.length ? loaded.pipelines : [pipeline], concurrency: 4 });
        const { runId } = await runtime.engine.trigger(pipeline, { trigger: { type: 'manual', by: 'demo' } });
        if (!opts.json) process.stderr.write(`run ${runId} of ${pipeline.id} on ${config.redisUrl}\n`);
        const view = await follow(runtime, runId, { progress: !opts.json });
        await host.stop(5_000);
        if (opts.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        else process.stdout.write(`${describeRun(view)}\n`);
        process.exitCode = view.status === 'succeeded' ? 0 : 1;
      } finally {
        await runtime.close();
        await embedded?.stop();
      }
    });
}
