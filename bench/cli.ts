/**
 * `npm run bench:cli`: wall time of one-shot CLI commands as a user's shell sees them — median of 5
 * runs after one warm-up run, against a private local redis-server. Measures the compiled CLI
 * (dist/, what the published package runs) unless another entry point is given:
 *
 *   npm run bench:cli                      # node dist/cli/bin.js
 *   tsx bench/cli.ts path/to/conveyor.js   # e.g. an older checkout's bin, for a before/after
 *
 * A benchmark, not a test: the figures depend on the machine and its load (printed with them).
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBenchRedis } from './redis-server.ts';
import { median, round } from './stats.ts';

const RUNS = 5;
const entry = resolve(process.argv[2] ?? 'dist/cli/bin.js');

function time(args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [entry, ...args], { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`conveyor ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

function measure(args: string[], env: NodeJS.ProcessEnv): { median: number; runs: number[] } {
  time(args, env); // warm-up: file system cache, compile cache
  const runs = Array.from({ length: RUNS }, () => round(time(args, env).ms, 0));
  return { median: median(runs), runs };
}

const redis = await startBenchRedis();
try {
  const env = { ...process.env, REDIS_URL: redis.url, CONVEYOR_PREFIX: 'benchcli', NO_COLOR: '1' };
  // One queued run (no worker is needed) for `status` and `runs` to read.
  const runId = time(['run', resolve('pipelines/species-report.ts')], env).stdout.trim();
  const rows = [
    ['--version', measure(['--version'], env), 150],
    ['runs --json', measure(['runs', '--json'], env), 300],
    ['status <id> --json', measure(['status', runId, '--json'], env), 300],
  ] as const;
  process.stdout.write(`conveyor CLI (${entry}), Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`median of ${RUNS} runs after a warm-up (ms):\n`);
  for (const [command, result, target] of rows) {
    process.stdout.write(`  ${command.padEnd(20)} ${String(result.median).padStart(6)}   target ≤ ${target}   runs ${result.runs.join(', ')}\n`);
  }
} finally {
  await redis.stop();
}
