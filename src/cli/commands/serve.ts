import { Command } from 'commander';
import { configFrom } from '../context.ts';
import { startApi } from '../../app/index.ts';
import { red } from '../output.ts';
import { untilSignal } from './worker.ts';

/** `conveyor serve`: the HTTP API (/api/v1) and web UI (/) until SIGTERM/SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the HTTP API (/api/v1, OpenAPI at /api/v1/openapi.json) and the web UI (/)')
    .option('--port <n>', 'port (default: CONVEYOR_API_PORT, 8080)', (v) => Number.parseInt(v, 10))
    .option('--host <host>', 'interface to bind (default: CONVEYOR_API_HOST, 0.0.0.0)')
    .option('--insecure-local', 'serve without tokens, bound to 127.0.0.1 only (local development)')
    .option('--with-worker', 'also run a worker for the loaded pipelines in this process')
    .action(async (opts: { port?: number; host?: string; insecureLocal?: boolean; withWorker?: boolean }, command: Command) => {
      const api = await startApi({
        config: configFrom(command),
        port: opts.port,
        host: opts.host,
        insecureLocal: opts.insecureLocal,
        withWorker: opts.withWorker,
        onProblem: (message) => process.stderr.write(`${red('skipped')} ${message}\n`),
      });
      process.stderr.write(`conveyor API and UI on ${api.url}${opts.insecureLocal ? ' (insecure-local: no auth)' : ''}\n`);
      await untilSignal();
      await api.close();
      process.exitCode = 0;
    });
}
