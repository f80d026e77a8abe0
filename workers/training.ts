// Deployable worker for the `training` pool: long, CPU-heavy steps; run fewer of them per process.
import { loadConfig } from '../src/config/index.ts';
import { runWorkerMain } from '../src/app/worker-main.ts';

await runWorkerMain({
  config: loadConfig(),
  queues: ['training'],
  concurrency: 2,
  onProblem: (message) => process.stderr.write(`skipped: ${message}\n`),
  onReady: (host) => process.stderr.write(`worker ${host.worker.id} serving ${host.queues.join(', ')}\n`),
});
// Drained: leave even if a step left a socket or timer behind.
process.exit(0);
