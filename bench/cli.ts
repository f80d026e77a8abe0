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
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBenchRedis } from './redis-server.ts';
import { median, round } from './stats.ts';

const RUNS = 5;
const entry = resolve(process.argv[2] ?? 'dist/cli/bin.js');

// CPU time (user + sys) of the child too, through GNU time where it exists: on a loaded machine wall
// time mostly measures the other processes, CPU time still compares versions fairly.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function time(args: string[], env: NodeJS.ProcessEnv): { ms: number; cpuMs?: number; stdout: string } {
  const argv = [process.execPath, entry, ...args];
  const started = performance.now();
  const result = GNU_TIME ? spawnSync(GNU_TIME, ['-f', 'cpu %U %S', ...argv], { env, encoding: 'utf8' }) : spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`conveyor ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const cpu = /^cpu ([\d.]+) ([\d.]+)$/m.exec(result.stderr);
  return { ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined, stdout: result.stdout };
}

function measure(args: string[], env: NodeJS.ProcessEnv): { median: number; cpu?: number; runs: number[] } {
  time(args, env); // warm-up: file system cache, compile cache
  const samples = Array.from({ length: RUNS }, () => time(args, env));
  const cpu = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  return { median: round(median(samples.map((s) => s.ms)), 0), cpu: cpu.length ? round(median(cpu), 0) : undefined, runs: samples.map((s) => round(s.ms, 0)) };
}

const redis = await startBenchRedis();
const compileCache = mkdtempSync(join(tmpdir(), 'conveyor-bench-cache-'));
try {
  // NODE_COMPILE_CACHE: what the installed bin/conveyor.js turns on with module.enableCompileCache()
  // (Node 22.1+; ignored by older Node), measured here on dist/ directly.
  const env = { ...process.env, REDIS_URL: redis.url, CONVEYOR_PREFIX: 'benchcli', NO_COLOR: '1', NODE_COMPILE_CACHE: compileCache };
  // One queued run (no worker is needed) for `status` and `runs` to read.
  const runId = time(['run', resolve('pipelines/species-report.ts')], env).stdout.trim();
  const rows = [
    ['--version', measure(['--version'], env), 150],
    ['runs --json', measure(['runs', '--json'], env), 300],
    ['status <id> --json', measure(['status', runId, '--json'], env), 300],
  ] as const;
  process.stdout.write(`conveyor CLI (${entry}), Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`median of ${RUNS} runs after a warm-up (ms): wall (target), CPU user+sys, each run's wall\n`);
  for (const [command, result, target] of rows) {
    process.stdout.write(`  ${command.padEnd(20)} ${String(result.median).padStart(6)} (≤ ${target})   cpu ${String(result.cpu ?? '–').padStart(5)}   runs ${result.runs.join(', ')}\n`);
  }
} finally {
  await redis.stop();
  rmSync(compileCache, { recursive: true, force: true });
}
