import type { ValidatedDag } from './dag.ts';

export type GraphFormat = 'text' | 'mermaid' | 'dot';

/** Renders a DAG for `conveyor graph`: an indented text tree by level, Mermaid, or Graphviz dot. */
export function renderDag(dag: ValidatedDag, format: GraphFormat): string {
  const steps = new Map(dag.spec.steps.map((s) => [s.name, s]));
  if (format === 'mermaid') {
    const lines = ['flowchart TD'];
    for (const name of dag.order) {
      const s = steps.get(name)!;
      lines.push(`  ${safeId(name)}["${name}${s.queue !== 'default' ? ` (${s.queue})` : ''}"]`);
    }
    for (const name of dag.order) for (const need of steps.get(name)!.needs) lines.push(`  ${safeId(need)} --> ${safeId(name)}`);
    return lines.join('\n');
  }
  if (format === 'dot') {
    const lines = [`digraph "${dag.spec.id}" {`, '  rankdir=LR;'];
    for (const name of dag.order) lines.push(`  "${name}";`);
    for (const name of dag.order) for (const need of steps.get(name)!.needs) lines.push(`  "${need}" -> "${name}";`);
    lines.push('}');
    return lines.join('\n');
  }
  const level = new Map<string, number>();
  for (const name of dag.order) {
    const needs = steps.get(name)!.needs;
    level.set(name, needs.length ? Math.max(...needs.map((n) => level.get(n)!)) + 1 : 0);
  }
  const lines = [`${dag.spec.id}  (${dag.order.length} steps, dag ${dag.hash})`];
  for (const name of dag.order) {
    const s = steps.get(name)!;
    const extras = [
      s.needs.length ? `needs ${s.needs.join(', ')}` : 'root',
      s.queue !== 'default' ? `queue ${s.queue}` : '',
      s.conditional ? 'if' : '',
      s.runWhen !== 'all-succeeded' ? s.runWhen : '',
      s.kind === 'map' ? 'map' : '',
    ].filter(Boolean);
    lines.push(`${'  '.repeat(level.get(name)! + 1)}${name}  [${extras.join('; ')}]`);
  }
  return lines.join('\n');
}

function safeId(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
