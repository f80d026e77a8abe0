import dagre from '@dagrejs/dagre';
import type { PipelineSpec } from '../dsl/types.ts';
import { layeredLayout } from './layered-layout.ts';

export interface GraphLayout {
  pipeline: string;
  width: number;
  height: number;
  nodes: Array<{ id: string; queue: string; kind: string; x: number; y: number; width: number; height: number }>;
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }> }>;
}

const NODE_HEIGHT = 44;
const CHAR_WIDTH = 8;
/** Above this many steps dagre is too slow (superlinear: 1.4 s at 400 steps): see layered-layout.ts. */
const DAGRE_MAX_STEPS = 200;

/** Room for the label and, on a map step, its progress line ("9700/10000 ✓ 3 ✗"). */
const nodeSize = (step: PipelineSpec['steps'][number]) => ({
  width: Math.max(step.kind === 'map' ? 140 : 110, step.name.length * CHAR_WIDTH + 36),
  height: NODE_HEIGHT,
});

/**
 * Lays the DAG out left to right with dagre (server-side, so the browser only draws SVG and the
 * layout is the same for every viewer). Node x/y are top-left corners.
 */
export function layoutPipeline(spec: PipelineSpec): GraphLayout {
  if (spec.steps.length > DAGRE_MAX_STEPS) return layeredLayout(spec, nodeSize);
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const step of spec.steps) {
    g.setNode(step.name, nodeSize(step));
  }
  for (const step of spec.steps) for (const need of step.needs) g.setEdge(need, step.name);
  dagre.layout(g);
  const graph = g.graph();
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    pipeline: spec.id,
    width: round(graph.width ?? 0),
    height: round(graph.height ?? 0),
    nodes: spec.steps.map((step) => {
      const node = g.node(step.name);
      return {
        id: step.name,
        queue: step.queue,
        kind: step.kind,
        x: round(node.x - node.width / 2),
        y: round(node.y - node.height / 2),
        width: node.width,
        height: node.height,
      };
    }),
    edges: spec.steps.flatMap((step) =>
      step.needs.map((need) => ({
        from: need,
        to: step.name,
        points: (g.edge(need, step.name)?.points ?? []).map((p: { x: number; y: number }) => ({ x: round(p.x), y: round(p.y) })),
      })),
    ),
  };
}
