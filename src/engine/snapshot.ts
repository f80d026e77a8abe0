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

/** Rules that can decide before every upstream step finished (decideTrigger). */
const EARLY_RULES: ReadonlySet<string> = new Set(['one-succeeded', 'one-failed']);

/**
 * A successor's kind as its upstream step's definition holds it (src/redis/lua/includes/step-def.lua):
 * its rule letter when it has one upstream step, '*' when it has several and an early-firing rule,
 * '+' when it has several and waits for all of them.
 */
function successorKind(successor: StepSpec): string {
  if (successor.needs.length === 1) return RULE_LETTER[successor.runWhen];
  return EARLY_RULES.has(successor.runWhen) ? '*' : '+';
}

/**
 * Per-step rows for the trigger script:
 * [name, "<when>|<successors>|<upstream count>|<successor kinds>", upstream count].
 * The definition holds the count, not the list of needs, and each successor's kind, so that an
 * upstream completion reads neither its successors' needs nor, mostly, their definitions (see
 * src/redis/lua/includes/step-def.lua).
 */
export function stepRows(dag: ValidatedDag): Array<[string, string, number]> {
  const specs = new Map(dag.spec.steps.map((s) => [s.name, s]));
  return dag.spec.steps.map((step) => {
    const successors = dag.successors.get(step.name) ?? [];
    const kinds = successors.map((name) => successorKind(specs.get(name)!)).join('');
    return [step.name, `${RULE_LETTER[step.runWhen]}|${successors.join(',')}|${step.needs.length}|${kinds}`, step.needs.length];
  });
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
