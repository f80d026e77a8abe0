import { Command } from 'commander';
import { configFrom } from '../context.ts';
import {
  clearDevState, createLogger, createRuntime, loadPipelines, resolvePipeline, startEmbeddedRedis, startWorkerHost, writeDevState,
  type EmbeddedRedis,
} from '../../app/index.ts';
import { loadConfig, type Config } from '../../config/index.ts';
import { ConfigError } from '../../errors/index.ts';
import { follow } from './runs.ts';
import { describeRun, dim } from '../output.ts';
import { reportProblems, untilSignal } from './worker.ts';

/** Uses REDIS_URL when given; otherwise starts a private redis-server (the embedded default). */
async function redisFor(config: Config, explicitUrl: boolean, persist: boolean): Promise<{ config: Config; embedded?: EmbeddedRedis }> {
  if (explicitUrl) return { config };
  const embedded = await startEmbeddedRedis(config.dataDir, { persist });
  return { config: loadConfig({ REDIS_URL: embedded.url, CONVEYOR_PREFIX: config.prefix, CONVEYOR_PIPELINES: config.pipelinesDir, CONVEYOR_LOG_LEVEL: config.logLevel }), embedded };
}

const hasExplicitRedis = (command: Command) => Boolean((command.optsWithGlobals() as { redisUrl?: string }).redisUrl ?? process.env.REDIS_URL);

/** `conveyor dev`: embedded Redis (AOF under .conveyor/) + a worker for every queue; stays up. */
export function devCommand(): Command {
  return new Command('dev')
    .description('local development: start a private Redis (unless REDIS_URL is set) and a worker for every queue the pipelines use')
    .option('--concurrency <n>', 'steps at once per queue', (v) => Number.parseInt(v, 10), 4)
    .action(async (opts: { concurrency: number }, command: Command) => {
      const base = configFrom(command);
      const loaded = await loadPipelines(base.pipelinesDir);
      reportProblems(loaded);
      if (loaded.pipelines.length === 0) throw new ConfigError(`no valid pipelines in ${base.pipelinesDir}`);
      const { config, embedded } = await redisFor(base, hasExplicitRedis(command), true);
      const runtime = await createRuntime(config, { logger: createLogger('warn') });
      const host = await startWorkerHost(runtime, { pipelines: loaded.pipelines, concurrency: opts.concurrency });
      writeDevState(config.dataDir, { redisUrl: config.redisUrl, pid: process.pid });
      process.stdout.write(
        [
          `conveyor dev: Redis ${config.redisUrl}${embedded ? dim(' (embedded, data in .conveyor/redis)') : ''}`,
          `  worker serving ${host.queues.join(', ')} for ${loaded.pipelines.map((p) => p.id).join(', ')}`,
          `  in another terminal: npx conveyor run ${loaded.pipelines[0].id} --wait`,
          '  Ctrl-C to stop',
          '',
        ].join('\n'),
      );
      await untilSignal();
      await host.stop(5_000);
      await runtime.close();
      clearDevState(config.dataDir);
      await embedded?.stop();
    });
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
        const view = await follow(runtime, runId, !opts.json);
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
