import { createHash } from 'node:crypto';
import { DirectedGraph } from 'graphology';
import { topologicalSort } from 'graphology-dag';
import { NAME_PATTERN } from '../core/ids.ts';
import { CycleError, ValidationError } from '../errors/conveyor-error.ts';
import type { PipelineSpec, StepSpec } from '../dsl/types.ts';

/** A validated DAG: steps in topological order, successors, roots, and a content hash. */
export interface ValidatedDag {
  spec: PipelineSpec;
  order: string[];
  successors: ReadonlyMap<string, string[]>;
  roots: string[];
  hash: string;
}

/**
 * Validates a spec that may come from data rather than the builder (which already rejects forward
 * references): names, duplicates, unknown needs, self-loops and cycles. The cycle search is iterative,
 * so a 10,000-step loop is reported without overflowing the stack, and names the steps around it.
 */
export function validateDag(spec: PipelineSpec, where = `pipeline "${spec.id}"`): ValidatedDag {
  const issues: string[] = [];
  const byName = new Map<string, StepSpec>();
  for (const step of spec.steps) {
    if (!NAME_PATTERN.test(step.name)) issues.push(`${where}: invalid step name "${step.name}" (letters, digits, "_" or "-", starting with a letter)`);
    if (byName.has(step.name)) issues.push(`${where}: duplicate step "${step.name}"`);
    byName.set(step.name, step);
  }
  if (spec.steps.length === 0) issues.push(`${where}: has no steps`);
  const known = [...byName.keys()];
  for (const step of spec.steps) {
    for (const need of step.needs) {
      if (need === step.name) issues.push(`${where}: step "${step.name}" needs itself`);
      else if (!byName.has(need)) {
        const shown = known.length > 10 ? `${known.slice(0, 10).join(', ')}, …` : known.join(', ');
        issues.push(`${where}: step "${step.name}" needs unknown step "${need}" (known: ${shown})`);
      }
    }
  }
  if (issues.length) throw new ValidationError(issues.join('; '), issues);

  const graph = new DirectedGraph();
  for (const step of spec.steps) graph.addNode(step.name);
  for (const step of spec.steps) for (const need of step.needs) graph.mergeEdge(need, step.name);

  const cycle = findCycle(spec.steps);
  if (cycle) throw new CycleError(where, cycle);

  const order = topologicalSort(graph) as string[];
  const successors = new Map<string, string[]>();
  for (const name of order) successors.set(name, graph.outNeighbors(name));
  const roots = order.filter((name) => graph.inDegree(name) === 0);
  return { spec, order, successors, roots, hash: specHash(spec) };
}

/** Iterative DFS (white/grey/black); returns the steps of the first cycle found, closed, or undefined. */
export function findCycle(steps: readonly StepSpec[]): string[] | undefined {
  const needs = new Map(steps.map((s) => [s.name, s.needs]));
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = done
  for (const start of needs.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [];
    const stack: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    state.set(start, 1);
    path.push(start);
    while (stack.length) {
      const frame = stack[stack.length - 1];
      const deps = needs.get(frame.node) ?? [];
      if (frame.next < deps.length) {
        const dep = deps[frame.next++];
        const seen = state.get(dep);
        if (seen === 1) {
          // The path runs from start to frame.node; dep is on it. Edges point from dependant to need,
          // so reverse to read in execution order (need → dependant).
          const from = path.indexOf(dep);
          return [...path.slice(from), dep].reverse();
        }
        if (seen === undefined && needs.has(dep)) {
          state.set(dep, 1);
          path.push(dep);
          stack.push({ node: dep, next: 0 });
        }
      } else {
        state.set(frame.node, 2);
        path.pop();
        stack.pop();
      }
    }
  }
  return undefined;
}

/** Stable content hash of a spec: what pins a run to the DAG version it started with. */
export function specHash(spec: PipelineSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
