import { s } from './util.js';

/**
 * Draws a laid-out DAG (from /graph) as SVG. Nodes are focusable buttons (Enter/Space select);
 * `update(steps)` recolours them by status without redrawing.
 */
export function dagView(graph, { onSelect } = {}) {
  const pad = 4;
  // Bounds of nodes and edge routes: dagre may route an edge outside the box it reports.
  const xs = [0, graph.width, ...graph.edges.flatMap((e) => e.points.map((p) => p.x))];
  const ys = [0, graph.height, ...graph.edges.flatMap((e) => e.points.map((p) => p.y))];
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const svg = s('svg', {
    class: 'dag',
    viewBox: `${minX - pad} ${minY - pad} ${maxX - minX + 2 * pad} ${maxY - minY + 2 * pad}`,
    role: 'group',
    'aria-label': `DAG of ${graph.pipeline}`,
  });
  svg.append(
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#7d8596' }))),
  );
  for (const edge of graph.edges) {
    const d = edge.points.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
    svg.append(s('path', { class: 'edge', d, 'data-from': edge.from, 'data-to': edge.to }));
  }
  const nodes = new Map();
  for (const node of graph.nodes) {
    const title = s('title', {}, node.id);
    const label = s('text', { x: node.x + node.width / 2, y: node.y + node.height / 2 + 4, 'text-anchor': 'middle' }, node.id);
    // Nodes are buttons only where selecting does something (the run page); elsewhere they are labelled, not focusable.
    const g = s('g', { class: 'node st-pending', tabindex: onSelect ? 0 : undefined, role: onSelect ? 'button' : 'img', 'data-step': node.id, 'aria-label': `step ${node.id}` },
      title, s('rect', { x: node.x, y: node.y, width: node.width, height: node.height }), label);
    const select = () => onSelect?.(node.id);
    g.addEventListener('click', select);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    nodes.set(node.id, { g, title });
    svg.append(g);
  }
  return {
    svg,
    update(steps) {
      for (const [name, { g, title }] of nodes) {
        const status = steps?.[name]?.status ?? 'pending';
        g.setAttribute('class', `node st-${status}${g.classList.contains('selected') ? ' selected' : ''}`);
        g.setAttribute('data-status', status);
        g.setAttribute('aria-label', `step ${name}: ${status}`);
        title.textContent = `${name}: ${status}`;
      }
    },
    select(step) {
      for (const [name, { g }] of nodes) g.classList.toggle('selected', name === step);
    },
  };
}
