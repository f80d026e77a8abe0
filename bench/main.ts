/**
 * `npm run bench`: Conveyor against raw BullMQ on the same private Redis, in the same run.
 * Options: --json (one JSON object on stdout), --quick (small sizes), --repeat n (default 3),
 * --concurrency n (default 50), --only wide,chain,bigdag,cost,memory,cluster (profiling one case);
 * `cluster` (a 3-master Redis Cluster, share of commands per master) runs only when asked for.
 * Peers in every rate case: raw BullMQ with the engine's job options and with BullMQ's defaults, and
 * BullMQ's own flows (FlowProducer trees).
 * Progress goes to stderr. Not a test: `npm test` never runs it.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Engine } from '../src/engine/engine.ts';
import { validateDag } from '../src/graph/dag.ts';
import { silentLogger } from '../src/core/logger.ts';
import { systemClock } from '../src/core/clock.ts';
import { benchEngine } from './engine-harness.ts';
import { measureCost, type CostFigures } from './cost.ts';
import { StartProbe, bigDeepDag, bigWideDag, chainPipeline, widePipeline } from './pipelines.ts';
import { rawChain, rawWide } from './raw-bullmq.ts';
import { flowsChain, flowsWide } from './bullmq-flows.ts';
import { measureRunMemory } from './memory.ts';
import { measureClusterSpread } from './cluster.ts';
import { startBenchRedis } from './redis-server.ts';
import { median, percentile, round } from './stats.ts';
import { renderTable } from './report.ts';

interface Args {
  json: boolean;
  quick: boolean;
  repeat: number;
  concurrency: number;
  only: Set<string>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false, repeat: 3, concurrency: 50, only: new Set(['wide', 'chain', 'bigdag', 'cost', 'memory']) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} expects a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--repeat') args.repeat = positiveInt(a, value());
    else if (a === '--concurrency') args.concurrency = positiveInt(a, value());
    else if (a === '--only') args.only = new Set(value().split(',').map((s) => s.trim().toLowerCase()));
    else throw new Error(`bench: unknown option "${a}" (expected --json, --quick, --repeat n, --concurrency n, --only cases)`);
  }
  return args;
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${flag} expects a positive integer, found "${raw}"`);
  return n;
}

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? { wide: 1_000, chain: 200, bigDag: 2_000 } : { wide: 10_000, chain: 1_000, bigDag: 10_000 };
  const redis = await startBenchRedis();
  const admin = new Redis(redis.url);
  const result: Record<string, unknown> = {};
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
    const bullmqVersion = JSON.parse(readFileSync(new URL('../node_modules/bullmq/package.json', import.meta.url), 'utf8')).version as string;
    result.machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGB: round(totalmem() / 2 ** 30, 1) };
    result.versions = { node: process.version, redis: redisVersion, bullmq: bullmqVersion };
    result.config = { quick: args.quick, repeat: args.repeat, concurrency: args.concurrency, sizes };

    const probe = new StartProbe();
    const finishedAt = new Map<string, number>();
    let t = performance.now();
    const wide = args.only.has('wide') || args.only.has('cost') ? widePipeline('bench-wide', sizes.wide) : undefined;
    const chain = args.only.has('chain') || args.only.has('cost') ? chainPipeline('bench-chain', sizes.chain, probe) : undefined;
    progress(`built pipelines with definePipeline in ${Math.round(performance.now() - t)} ms`);
    const warmWide = widePipeline('bench-warm-wide', 100);
    const warmChain = chainPipeline('bench-warm-chain', 20);
    const fiveSteps = chainPipeline('bench-five-steps', 5);
    const bench = await benchEngine(redis.url, {
      pipelines: [warmWide, warmChain, fiveSteps, ...(wide ? [wide] : []), ...(chain ? [chain] : [])],
      concurrency: args.concurrency,
      onWorkerEvent: (event) => {
        if (event.type === 'step-finished' && event.pipeline === 'bench-chain') finishedAt.set(event.step, performance.now());
      },
    });
    try {
      progress('warm-up');
      await bench.runToEnd(warmWide);
      await bench.runToEnd(warmChain);
      await rawWide(redis.url, 100, args.concurrency);
      await rawChain(redis.url, 20);

      if (wide && args.only.has('wide')) {
        const engineRates: number[] = [];
        const rawRates: number[] = [];
        const steps = sizes.wide + 2;
        const engineCpu: number[] = [];
        const rawCpu: number[] = [];
        const engineNodeCpu: number[] = [];
        const rawNodeCpu: number[] = [];
        const engineRedisUs: number[] = [];
        const rawRedisUs: number[] = [];
        const defaultsRates: number[] = [];
        const flowsRates: number[] = [];
        const flowsNodeCpu: number[] = [];
        for (let r = 0; r < args.repeat; r++) {
          let cpu0 = await redisCpuMs(admin);
          let node0 = process.cpuUsage();
          const e = await bench.runToEnd(wide);
          engineNodeCpu.push(cpuUs(node0) / steps);
          const engineRedisMs = (await redisCpuMs(admin)) - cpu0;
          engineRedisUs.push((engineRedisMs * 1000) / steps);
          engineCpu.push(engineRedisMs / e.ms);
          engineRates.push((steps / e.ms) * 1000);
          cpu0 = await redisCpuMs(admin);
          node0 = process.cpuUsage();
          const raw = await rawWide(redis.url, sizes.wide, args.concurrency);
          rawNodeCpu.push(cpuUs(node0) / sizes.wide);
          const rawRedisMs = (await redisCpuMs(admin)) - cpu0;
          rawRedisUs.push((rawRedisMs * 1000) / sizes.wide);
          rawCpu.push(rawRedisMs / raw.ms);
          rawRates.push(raw.jobsPerSec);
          defaultsRates.push((await rawWide(redis.url, sizes.wide, args.concurrency, 'defaults')).jobsPerSec);
          node0 = process.cpuUsage();
          const flows = await flowsWide(redis.url, sizes.wide, args.concurrency);
          flowsNodeCpu.push(cpuUs(node0) / (sizes.wide + 1));
          flowsRates.push(flows.jobsPerSec);
          progress(`wide #${r + 1}: engine ${Math.round(engineRates.at(-1)!)} steps/s, raw ${Math.round(raw.jobsPerSec)} jobs/s (defaults ${Math.round(defaultsRates.at(-1)!)}), flows ${Math.round(flows.jobsPerSec)} jobs/s`);
        }
        const engineStepsPerSec = median(engineRates);
        const rawJobsPerSec = median(rawRates);
        result.wide = {
          ratio: round(engineStepsPerSec / rawJobsPerSec, 3), engineStepsPerSec: Math.round(engineStepsPerSec), rawJobsPerSec: Math.round(rawJobsPerSec),
          rawDefaultsJobsPerSec: Math.round(median(defaultsRates)),
          // BullMQ flows: one parent with `wide` children (n + 1 jobs).
          flowsJobsPerSec: Math.round(median(flowsRates)), ratioToFlows: round(engineStepsPerSec / median(flowsRates), 3),
          steps, samples: { engine: engineRates.map(Math.round), raw: rawRates.map(Math.round), rawDefaults: defaultsRates.map(Math.round), flows: flowsRates.map(Math.round) },
          // Share of one core redis-server used while the case ran: near 1 means Redis-bound.
          redisCpuBusy: { engine: round(median(engineCpu), 2), raw: round(median(rawCpu), 2) },
          // CPU time of this Node process (worker, BullMQ, ioredis) per step or job, µs.
          nodeCpuUsPerStep: { engine: Math.round(median(engineNodeCpu)), raw: Math.round(median(rawNodeCpu)), flows: Math.round(median(flowsNodeCpu)) },
          // CPU time of redis-server per step or job, µs: the other resource a 2-core machine runs out of.
          redisCpuUsPerStep: { engine: Math.round(median(engineRedisUs)), raw: Math.round(median(rawRedisUs)) },
        };
      }

      if (chain && args.only.has('chain')) {
        const engineRates: number[] = [];
        const rawRates: number[] = [];
        const handoffs: number[] = [];
        const engineCpu: number[] = [];
        const rawCpu: number[] = [];
        const rawAtEngineConcurrency: number[] = [];
        const engineNodeCpu: number[] = [];
        const rawNodeCpu: number[] = [];
        const defaultsRates: number[] = [];
        const flowsRates: number[] = [];
        const flowsNodeCpu: number[] = [];
        for (let r = 0; r < args.repeat; r++) {
          probe.clear();
          finishedAt.clear();
          let cpu0 = await redisCpuMs(admin);
          let node0 = process.cpuUsage();
          const e = await bench.runToEnd(chain);
          engineNodeCpu.push(cpuUs(node0) / sizes.chain);
          engineCpu.push(((await redisCpuMs(admin)) - cpu0) / e.ms);
          engineRates.push((sizes.chain / e.ms) * 1000);
          for (let i = 1; i < sizes.chain; i++) {
            const done = finishedAt.get(`c${i - 1}`);
            const next = probe.startedAt.get(`c${i}`);
            if (done !== undefined && next !== undefined) handoffs.push(next - done);
          }
          cpu0 = await redisCpuMs(admin);
          node0 = process.cpuUsage();
          const raw = await rawChain(redis.url, sizes.chain);
          rawNodeCpu.push(cpuUs(node0) / sizes.chain);
          rawCpu.push(((await redisCpuMs(admin)) - cpu0) / raw.ms);
          rawRates.push(raw.hopsPerSec);
          rawAtEngineConcurrency.push((await rawChain(redis.url, sizes.chain, args.concurrency)).hopsPerSec);
          defaultsRates.push((await rawChain(redis.url, sizes.chain, 1, 'defaults')).hopsPerSec);
          node0 = process.cpuUsage();
          const flows = await flowsChain(redis.url, sizes.chain, args.concurrency);
          flowsNodeCpu.push(cpuUs(node0) / sizes.chain);
          flowsRates.push(flows.hopsPerSec);
          progress(`chain #${r + 1}: engine ${Math.round(engineRates.at(-1)!)} hops/s, raw ${Math.round(raw.hopsPerSec)} hops/s (defaults ${Math.round(defaultsRates.at(-1)!)}), flows ${Math.round(flows.hopsPerSec)} hops/s`);
        }
        const engineHopsPerSec = median(engineRates);
        const rawHopsPerSec = median(rawRates);
        result.chain = {
          ratio: round(engineHopsPerSec / rawHopsPerSec, 3), engineHopsPerSec: Math.round(engineHopsPerSec), rawHopsPerSec: Math.round(rawHopsPerSec),
          rawDefaultsHopsPerSec: Math.round(median(defaultsRates)),
          // BullMQ flows: a tree nested as deep as the chain is long (BullMQ 6.7 handles 1,000 levels).
          flowsHopsPerSec: Math.round(median(flowsRates)), flowsDepth: sizes.chain, ratioToFlows: round(engineHopsPerSec / median(flowsRates), 3),
          steps: sizes.chain, samples: { engine: engineRates.map(Math.round), raw: rawRates.map(Math.round), rawDefaults: defaultsRates.map(Math.round), flows: flowsRates.map(Math.round) },
          redisCpuBusy: { engine: round(median(engineCpu), 2), raw: round(median(rawCpu), 2) },
          nodeCpuUsPerStep: { engine: Math.round(median(engineNodeCpu)), raw: Math.round(median(rawNodeCpu)), flows: Math.round(median(flowsNodeCpu)) },
          // Context, not the baseline: the same raw chain with the engine's worker concurrency.
          rawHopsPerSecAtEngineConcurrency: Math.round(median(rawAtEngineConcurrency)),
        };
        result.handoff = { p50Ms: round(percentile(handoffs, 50), 3), p99Ms: round(percentile(handoffs, 99), 3), maxMs: round(Math.max(...handoffs), 3), samples: handoffs.length };
      }

      if (args.only.has('cost') && wide && chain) {
        progress('cost: wide (plain pass, then a MONITOR pass)');
        const runKeys = (runId: string) => bench.runtime.keys.runKeyList(runId);
        const wideCost = await measureCost(redis.url, sizes.wide + 2, async () => (await bench.runToEnd(wide)).runId, runKeys);
        progress('cost: chain');
        const chainCost = await measureCost(redis.url, sizes.chain, async () => (await bench.runToEnd(chain)).runId, runKeys);
        result.cost = costSummary(wideCost, chainCost);
      }

      if (args.only.has('memory')) {
        progress('memory: finished 5-step runs');
        result.memory = await measureRunMemory(bench, admin, fiveSteps, args.quick ? 5 : 20);
      }
    } finally {
      await bench.close();
    }

    if (args.only.has('bigdag')) {
      t = performance.now();
      const bigWide = bigWideDag('bench-big-wide', sizes.bigDag);
      const bigDeep = bigDeepDag('bench-big-deep', sizes.bigDag);
      const buildMs = performance.now() - t;
      // No worker serves these runs: only validation and the trigger (run record, snapshot, root enqueue) are timed.
      const idle = await benchEngine(redis.url);
      try {
        const wideMs: number[] = [];
        const deepMs: number[] = [];
        const validateWideMs: number[] = [];
        const validateDeepMs: number[] = [];
        for (let r = 0; r < args.repeat; r++) {
          // Validation alone (graph/validateDag), to show how the total splits.
          let tv = performance.now();
          validateDag(bigWide.spec);
          validateWideMs.push(performance.now() - tv);
          tv = performance.now();
          validateDag(bigDeep.spec);
          validateDeepMs.push(performance.now() - tv);
          // A fresh Engine has a cold validation cache, as a process seeing the pipeline for the first time.
          const fresh = () => new Engine({ store: idle.runtime.store, queues: idle.runtime.queues, clock: systemClock, logger: silentLogger, retentionMs: 3_600_000 });
          let t0 = performance.now();
          await fresh().trigger(bigWide);
          wideMs.push(performance.now() - t0);
          t0 = performance.now();
          await fresh().trigger(bigDeep);
          deepMs.push(performance.now() - t0);
          progress(`bigDag #${r + 1}: wide ${Math.round(wideMs.at(-1)!)} ms, deep ${Math.round(deepMs.at(-1)!)} ms`);
        }
        result.bigDag = {
          wideMs: Math.round(median(wideMs)), deepMs: Math.round(median(deepMs)), steps: sizes.bigDag,
          validateOnly: { wideMs: Math.round(median(validateWideMs)), deepMs: Math.round(median(validateDeepMs)) },
          buildBothWithDefinePipelineMs: Math.round(buildMs), samples: { wide: wideMs.map(Math.round), deep: deepMs.map(Math.round) },
        };
      } finally {
        await idle.close();
      }
    }
  } finally {
    admin.disconnect();
    await redis.stop();
  }
  if (args.only.has('cluster')) {
    progress('cluster: 3 masters, 200 runs × 20 steps');
    result.cluster = await measureClusterSpread(args.quick ? 20 : 200, 20, args.concurrency);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(renderTable(result));
}

/** CPU time (user + sys) this process used since `since`, µs. */
function cpuUs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/** CPU time redis-server has used so far (user + sys), ms. */
async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const get = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
}

function costSummary(wide: CostFigures, chain: CostFigures) {
  return {
    // The worse of the two shapes: a chain step always enqueues a successor, a fan-out step never does.
    roundTripsPerStep: Math.max(wide.roundTripsPerStep, chain.roundTripsPerStep),
    commandsPerStep: Math.max(wide.commandsPerStep, chain.commandsPerStep),
    bytesPerStep: Math.max(wide.bytesPerStep, chain.bytesPerStep),
    wide,
    chain,
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
