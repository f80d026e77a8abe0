import { Command } from 'commander';
import { configFrom } from '../context.ts';
import { runWorkerMain, type LoadedPipelines } from '../../app/index.ts';
import { red } from '../output.ts';

/** `conveyor worker`: serve queues until SIGTERM/SIGINT, then drain and exit 0. */
export function workerCommand(): Command {
  return new Command('worker')
    .description('run steps from the given queues until stopped (SIGTERM drains: running steps finish, no new ones start)')
    .option('--queues <list>', 'comma-separated queues to serve (default: CONVEYOR_QUEUES or every queue the pipelines use)')
    .option('--concurrency <n>', 'steps run at once per queue (default: CONVEYOR_WORKER_CONCURRENCY, 10)', (v) => Number.parseInt(v, 10))
    .action(async (opts: { queues?: string; concurrency?: number }, command: Command) => {
      await runWorkerMain({
        config: configFrom(command),
        queues: opts.queues ? opts.queues.split(',').map((q) => q.trim()).filter(Boolean) : undefined,
        concurrency: opts.concurrency,
        onProblem: (message) => process.stderr.write(`${red('skipped')} ${message}\n`),
        onReady: (host) => process.stderr.write(`worker ${host.worker.id} serving ${host.queues.join(', ')}\n`),
      });
      // Drained: leave even if a step left a socket or timer behind.
      process.exit(0);
    });
}

/** One bad pipeline file does not stop a worker: it is reported and skipped. */
export function reportProblems(loaded: LoadedPipelines): void {
  for (const problem of loaded.problems) process.stderr.write(`${red('skipped')} ${problem.message}\n`);
}

/** Resolves on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
