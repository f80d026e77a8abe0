import type { Pipeline } from '../dsl/pipeline.ts';
import { validateDag } from '../graph/dag.ts';
import { liveWorkers, type WorkerRecord } from '../redis/worker-presence.ts';
import { parseRoutes, routeLabel } from '../domain/step-routes.ts';
import { codeVersionOf } from '../dsl/code-version.ts';
import type { Runtime } from './runtime.ts';

/** How many active runs one check looks at (oldest progress first): bounded, so it stays cheap. */
const ACTIVE_RUNS_SCANNED = 200;

export interface ServingWorker {
  id: string;
  host: string;
  queues: string[];
}

export interface PipelineVersion {
  hash: string;
  /** True when this is the version in the local pipelines folder. */
  local: boolean;
  /** Live workers that loaded this version. Empty: no worker runs this code. */
  workers: ServingWorker[];
  /** Code versions of this DAG that live workers (or the local files) have. */
  codeVersions: string[];
}

/** A version queue with steps in it: they wait for a worker with `waitingFor`. */
export interface WaitingVersion {
  queue: string;
  /** "my-etl@<version>" */
  waitingFor: string;
  pipeline: string;
  /** Jobs (steps) waiting. */
  steps: number;
  /** Runs of the first waiting steps (up to 20). */
  runs: string[];
  /** Live workers consuming this version queue (none: the steps wait until one starts). */
  workers: string[];
}

const WAITING_RUNS_SHOWN = 20;

/** Version queues with steps waiting in them, and who (if anyone) serves each. One count per version queue. */
export async function waitingVersions(runtime: Runtime, workers: WorkerRecord[]): Promise<WaitingVersion[]> {
  const out: WaitingVersion[] = [];
  for (const { queue, route } of parseRoutes(await runtime.store.routes())) {
    const counts = await runtime.queues.counts(queue);
    const steps = (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    if (steps === 0) continue;
    out.push({
      queue,
      waitingFor: routeLabel(route),
      pipeline: route.pipeline,
      steps,
      runs: await runtime.queues.waitingRunIds(queue, WAITING_RUNS_SHOWN),
      workers: workers.filter((w) => w.versionQueues?.includes(queue)).map((w) => w.id),
    });
  }
  return out.sort((a, b) => a.queue.localeCompare(b.queue));
}

export interface PipelineVersions {
  id: string;
  /** Local file defining the pipeline, if any. */
  file?: string;
  localHash?: string;
  versions: PipelineVersion[];
}

export interface UnservedRun {
  runId: string;
  pipeline: string;
  status: string;
  dagHash: string;
  createdAt: number;
  /** Versions of the same pipeline that live workers do serve (what will run its steps instead, if any). */
  servedHashes: string[];
}

/**
 * Active runs pinned to a DAG hash that no live worker has loaded: their steps will run with other
 * code (a worker serving another version of the pipeline) or not at all. Looks at up to 200 active
 * runs and one read of the worker presence hash.
 */
export async function unservedRuns(runtime: Runtime, workers?: WorkerRecord[]): Promise<UnservedRun[]> {
  const now = runtime.clock.now();
  const alive = workers ?? (await liveWorkers(runtime.redis, runtime.keys, now));
  const served = new Map<string, Set<string>>();
  for (const worker of alive) {
    for (const p of worker.pipelines) {
      const set = served.get(p.id) ?? new Set<string>();
      set.add(p.hash);
      served.set(p.id, set);
    }
  }
  const ids = await runtime.store.activeRunsIdleSince(now, ACTIVE_RUNS_SCANNED);
  const runs = await runtime.store.getRuns(ids);
  return runs
    .filter((run) => run.status === 'queued' || run.status === 'running')
    .filter((run) => !served.get(run.pipeline)?.has(run.dagHash))
    .map((run) => ({
      runId: run.id,
      pipeline: run.pipeline,
      status: run.status,
      dagHash: run.dagHash,
      createdAt: run.createdAt,
      servedHashes: [...(served.get(run.pipeline) ?? [])].sort(),
    }));
}

/**
 * Every pipeline known locally or to a live worker, with each version (DAG hash) and the workers that
 * serve it. A version with no workers is code that nothing runs: a rollout not done yet, or a local
 * edit not deployed.
 */
export async function pipelineVersions(
  runtime: Runtime,
  local: { pipelines: Pipeline<any, any>[]; files: Map<string, string> },
): Promise<{ pipelines: PipelineVersions[]; workers: WorkerRecord[]; unservedRuns: UnservedRun[]; waiting: WaitingVersion[] }> {
  const workers = await liveWorkers(runtime.redis, runtime.keys, runtime.clock.now());
  const byId = new Map<string, PipelineVersions>();
  const entry = (id: string) => {
    let found = byId.get(id);
    if (!found) byId.set(id, (found = { id, versions: [] }));
    return found;
  };
  const version = (p: PipelineVersions, hash: string) => {
    let found = p.versions.find((v) => v.hash === hash);
    if (!found) p.versions.push((found = { hash, local: false, workers: [], codeVersions: [] }));
    return found;
  };
  const addCode = (v: PipelineVersion, code: string | undefined) => {
    if (code && !v.codeVersions.includes(code)) v.codeVersions.push(code);
  };
  for (const pipeline of local.pipelines) {
    const p = entry(pipeline.id);
    p.file = local.files.get(pipeline.id);
    p.localHash = validateDag(pipeline.spec).hash;
    const own = version(p, p.localHash);
    own.local = true;
    addCode(own, codeVersionOf(pipeline));
  }
  for (const worker of [...workers].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const served of worker.pipelines) {
      const v = version(entry(served.id), served.hash);
      v.workers.push({ id: worker.id, host: worker.host, queues: worker.queues });
      addCode(v, served.code);
    }
  }
  const pipelines = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  return { pipelines, workers, unservedRuns: await unservedRuns(runtime, workers), waiting: await waitingVersions(runtime, workers) };
}
