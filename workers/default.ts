// Deployable worker for the `default` pool (docker-compose service `worker`, k8s Deployment `worker-default`).
import { loadConfig } from '../src/config/index.ts';
import { runWorkerMain } from '../src/app/worker-main.ts';

await runWorkerMain({
  config: loadConfig(),
  queues: ['default'],
  onProblem: (message) => process.stderr.write(`skipped: ${message}\n`),
  onReady: (host) => process.stderr.write(`worker ${host.worker.id} serving ${host.queues.join(', ')}\n`),
});
// Drained: leave even if a step left a socket or timer behind.
process.exit(0);
