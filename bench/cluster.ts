import { Redis } from 'ioredis';
import { startCluster } from '../test/helpers/redis-cluster.ts';
import { benchEngine } from './engine-harness.ts';
import { chainPipeline } from './pipelines.ts';
import { round } from './stats.ts';

/** Commands the bench itself sends to read figures; never counted. */
const BENCH_COMMANDS = new Set(['info', 'config', 'cluster', 'ping', 'client', 'hello', 'command', 'select']);

async function resetStats(port: number): Promise<void> {
  const admin = new Redis(port, '127.0.0.1');
  try {
    await admin.config('RESETSTAT');
  } finally {
    admin.disconnect();
  }
}

async function commandCalls(port: number): Promise<number> {
  const admin = new Redis(port, '127.0.0.1');
  try {
    let calls = 0;
    for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:|]+)[^:]*:calls=(\d+)/gm)) {
      if (!BENCH_COMMANDS.has(m[1])) calls += Number(m[2]);
    }
    return calls;
  } finally {
    admin.disconnect();
  }
}

/**
 * `--only cluster`: a real 3-master Redis Cluster (redis-server processes on free ports, as the
 * cluster tests start it); `runs` runs of a `steps`-step chain, all started at once and worked by one
 * worker host; then each master's share of all commands executed (INFO commandstats, commands inside
 * scripts included). The busiest master's share is what bounds horizontal scaling.
 */
export async function measureClusterSpread(runs: number, steps: number, concurrency: number) {
  const cluster = await startCluster();
  try {
    const pipeline = chainPipeline('bench-cluster', steps);
    const bench = await benchEngine(cluster.url, { pipelines: [pipeline], concurrency });
    try {
      await bench.runToEnd(pipeline); // warm-up: scripts loaded, connections open
      await Promise.all(cluster.ports.map(resetStats));
      await Promise.all(Array.from({ length: runs }, () => bench.runToEnd(pipeline)));
    } finally {
      await bench.close();
    }
    const calls = await Promise.all(cluster.ports.map(commandCalls));
    const total = calls.reduce((a, b) => a + b, 0);
    return {
      runs, steps, commands: calls, commandsPerStep: round(total / (runs * steps), 1),
      sharePerMaster: calls.map((c) => round(c / total, 3)), busiestShare: round(Math.max(...calls) / total, 3),
    };
  } finally {
    await cluster.destroy();
  }
}
