import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { resolve } from 'node:path';
import { ConveyorError } from '../errors/conveyor-error.ts';

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

const HOW_TO_GET_REDIS = [
  'Conveyor needs a redis-server binary on PATH for its embedded default (or set REDIS_URL).',
  '  Debian/Ubuntu: sudo apt-get install -y redis-server',
  '  macOS:         brew install redis',
  '  Docker:        docker compose up -d redis   (then REDIS_URL=redis://127.0.0.1:6379)',
].join('\n');

/**
 * Starts a private redis-server for `conveyor dev` / `demo`: free port on 127.0.0.1, AOF (everysec)
 * under the data dir, `noeviction`. The server stops with the process.
 */
/** How long the embedded Redis may take to stop (SIGTERM) before it is killed. */
const STOP_GRACE_MS = 5_000;

export async function startEmbeddedRedis(dataDir: string, options: { persist?: boolean } = {}): Promise<EmbeddedRedis> {
  if (spawnSync('redis-server', ['--version']).error) throw new ConveyorError('CONFIG', HOW_TO_GET_REDIS);
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', options.persist === false ? 'no' : 'yes', '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
    ],
    // In Conveyor's process group on purpose: a terminal's Ctrl-C stops it too, also when Conveyor dies
    // of the signal before its own shutdown runs (demo, dev still starting), so none is left behind.
    // Conveyor's shutdown is bounded for that reason: its Redis may be gone already (cli/commands/dev.ts).
    { stdio: 'ignore' },
  );
  const exitOnParentExit = () => child.kill('SIGTERM');
  process.once('exit', exitOnParentExit);
  await waitForPort(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      process.off('exit', exitOnParentExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // Redis rewrites its AOF on SIGTERM; one that does not stop in time is killed.
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.end(), r(true)));
      socket.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new ConveyorError('INTERNAL', `embedded redis-server did not start on port ${port} within ${timeoutMs} ms`);
}
