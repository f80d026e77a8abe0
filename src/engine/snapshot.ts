import type { PipelineSpec, StepSpec } from '../dsl/types.ts';
import type { ValidatedDag } from '../graph/dag.ts';
import { RULE_LETTER } from '../dsl/trigger-rules.ts';

/** The DAG as a run stores it: what the engine needs to enqueue steps of that run, whatever the code says now. */
export interface DagSnapshot {
  pipeline: string;
  hash: string;
  steps: StepSpec[];
  /** Routing policy of the run (see PipelineSpec): absent means compatible. */
  versioning?: 'pinned';
  noWorkerTimeoutMs?: number;
}

export function snapshotOf(dag: ValidatedDag): DagSnapshot {
  return {
    pipeline: dag.spec.id,
    hash: dag.hash,
    steps: dag.spec.steps.map((s) => ({ ...s })),
    ...(dag.spec.versioning ? { versioning: dag.spec.versioning } : {}),
    ...(dag.spec.noWorkerTimeoutMs ? { noWorkerTimeoutMs: dag.spec.noWorkerTimeoutMs } : {}),
  };
}

/**
 * Per-step rows for the trigger script: [name, "<when>|<successors>|<upstream count>", upstream count].
 * The definition holds the count, not the list of needs: every upstream completion reads it (see
 * src/redis/lua/includes/step-def.lua).
 */
export function stepRows(dag: ValidatedDag): Array<[string, string, number]> {
  return dag.spec.steps.map((step) => [
    step.name,
    `${RULE_LETTER[step.runWhen]}|${(dag.successors.get(step.name) ?? []).join(',')}|${step.needs.length}`,
    step.needs.length,
  ]);
}

/** Spec maps per snapshot: snapshots never change, and rebuilding the map for every job of a 10,000-step run is O(n²). */
const specMaps = new WeakMap<DagSnapshot, ReadonlyMap<string, StepSpec>>();

export function stepSpecMap(snapshot: DagSnapshot): Map<string, StepSpec> {
  let map = specMaps.get(snapshot);
  if (!map) {
    map = new Map(snapshot.steps.map((s) => [s.name, s]));
    specMaps.set(snapshot, map);
  }
  return map as Map<string, StepSpec>;
}

export function specOfSnapshot(snapshot: DagSnapshot, description = ''): PipelineSpec {
  return { id: snapshot.pipeline, description, steps: snapshot.steps, schedules: [], triggers: [] };
}

const INSTANCE = /^(.+)\[(\d+)\]$/;

/** Splits a map instance name `step[3]` into its map step and index; undefined for plain steps. */
export function parseInstanceName(name: string): { base: string; index: number } | undefined {
  const match = INSTANCE.exec(name);
  return match ? { base: match[1], index: Number(match[2]) } : undefined;
}

/**
 * The spec a step name runs under: its own, or for a map instance `step[i]` its map step's policy
 * (queue, retries, timeout) as a plain task.
 */
export function resolveStepSpec(specs: Map<string, StepSpec>, name: string): { spec: StepSpec; instance?: { base: string; index: number } } | undefined {
  const own = specs.get(name);
  if (own) return { spec: own };
  const instance = parseInstanceName(name);
  const base = instance && specs.get(instance.base);
  if (!instance || !base || base.kind !== 'map') return undefined;
  return { spec: { ...base, name, kind: 'task' }, instance };
}

/** Successors per snapshot (steps that need a step), built once per snapshot like the spec map. */
const successorMaps = new WeakMap<DagSnapshot, ReadonlyMap<string, readonly StepSpec[]>>();

/** The steps that need `step` directly, in declaration order. */
export function successorsOf(snapshot: DagSnapshot, step: string): readonly StepSpec[] {
  let map = successorMaps.get(snapshot);
  if (!map) {
    const built = new Map<string, StepSpec[]>();
    for (const spec of snapshot.steps) {
      for (const need of spec.needs) {
        const successors = built.get(need);
        if (successors) successors.push(spec);
        else built.set(need, [spec]);
      }
    }
    map = built;
    successorMaps.set(snapshot, map);
  }
  return map.get(step) ?? [];
}
