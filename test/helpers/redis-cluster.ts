import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.ts';

const run = promisify(execFile);

/** A private 3-master Redis Cluster on free ports, in a temp dir. */
export interface TestCluster {
  ports: number[];
  url: string;
  destroy(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-cluster-'));
  const ports: number[] = [];
  // Cluster bus ports are port + 10000: pick ports whose bus port is free too (below 55536).
  while (ports.length < 3) {
    const port = await freePort();
    if (port < 55_000 && !ports.includes(port)) ports.push(port);
  }
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
        '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', '--dbfilename', `dump-${port}.rdb`],
      { stdio: 'ignore' },
    ),
  );
  const destroy = async () => {
    await Promise.all(
      children.map((child) => (child.exitCode !== null ? undefined : new Promise((r) => { child.once('exit', r); child.kill('SIGKILL'); }))),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; ; i++) {
        try {
          await run('redis-cli', ['-p', String(port), 'ping']);
          break;
        } catch (error) {
          if (i > 100) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; ; i++) {
      const infos = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).then((r) => r.stdout)));
      if (infos.every((info) => /cluster_state:ok/.test(info))) break;
      if (i > 200) throw new Error(`cluster did not reach state ok: ${infos.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, destroy };
}

