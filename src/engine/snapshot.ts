import type { PipelineSpec, StepSpec } from '../dsl/types.ts';
import type { ValidatedDag } from '../graph/dag.ts';

/** The DAG as a run stores it: what the engine needs to enqueue steps of that run, whatever the code says now. */
export interface DagSnapshot {
  pipeline: string;
  hash: string;
  steps: StepSpec[];
}

const WHEN_LETTER = { 'upstream-succeeded': 's', 'upstream-done': 'd', 'upstream-failed': 'f' } as const;

export function snapshotOf(dag: ValidatedDag): DagSnapshot {
  return { pipeline: dag.spec.id, hash: dag.hash, steps: dag.spec.steps.map((s) => ({ ...s })) };
}

/** Per-step rows for the trigger script: [name, "<when>|<successors>|<needs>", upstream count]. */
export function stepRows(dag: ValidatedDag): Array<[string, string, number]> {
  return dag.spec.steps.map((step) => [
    step.name,
    `${WHEN_LETTER[step.runWhen]}|${(dag.successors.get(step.name) ?? []).join(',')}|${step.needs.join(',')}`,
    step.needs.length,
  ]);
}

export function stepSpecMap(snapshot: DagSnapshot): Map<string, StepSpec> {
  return new Map(snapshot.steps.map((s) => [s.name, s]));
}

export function specOfSnapshot(snapshot: DagSnapshot, description = ''): PipelineSpec {
  return { id: snapshot.pipeline, description, steps: snapshot.steps, schedules: [], triggers: [] };
}
