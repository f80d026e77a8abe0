import type { Redis } from 'ioredis';
import type { Pipeline } from '../src/dsl/pipeline.ts';
import type { BenchEngine } from './engine-harness.ts';
import { median } from './stats.ts';

export interface RunMemory {
  runs: number;
  /** MEMORY USAGE of a finished run's own keys (median over the runs), bytes. */
  runKeyBytes: number;
  /** Keys a finished run leaves until retention removes them (median). */
  runKeys: number;
  /** The pipeline version's shared DAG snapshot (and its users set), bytes: paid once, not per run. */
  sharedDagBytes: number;
  /** Per run with the shared snapshot spread over these runs. */
  bytesPerRunAmortised: number;
  /** Run key → median bytes, to show where a run's memory goes. */
  byKey: Record<string, number>;
}

/**
 * Memory of finished runs of `pipeline`: runs `runs` of them to the end, then sums `MEMORY USAGE`
 * (exact: SAMPLES 0) over each run's keys. BullMQ's keys are not counted (jobs are removed on
 * completion; the events stream is capped and shared by every run).
 */
export async function measureRunMemory(bench: BenchEngine, admin: Redis, pipeline: Pipeline<any, any>, runs: number): Promise<RunMemory> {
  const keys = bench.runtime.keys;
  const perRun: number[] = [];
  const keyCounts: number[] = [];
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const { runId } = await bench.runToEnd(pipeline);
    let bytes = 0;
    let count = 0;
    const names = Object.entries(keys.run(runId));
    for (const [name, key] of names) {
      const used = Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
      if (used > 0) count++;
      bytes += used;
      byKey.set(name, [...(byKey.get(name) ?? []), used]);
    }
    perRun.push(bytes);
    keyCounts.push(count);
  }
  // Older layouts had no shared snapshot (a per-run copy is counted above as `dag`).
  const shared = typeof keys.dag === 'function' ? keys.dag(bench.runtime.engine.validate(pipeline).hash) : undefined;
  let sharedDagBytes = 0;
  for (const key of shared ? [shared.snapshot, shared.users] : []) sharedDagBytes += Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const runKeyBytes = median(perRun);
  return {
    runs,
    runKeyBytes,
    runKeys: median(keyCounts),
    sharedDagBytes,
    bytesPerRunAmortised: Math.round(runKeyBytes + sharedDagBytes / runs),
    byKey: Object.fromEntries([...byKey].map(([name, values]) => [name, median(values)]).filter(([, v]) => (v as number) > 0)),
  };
}
