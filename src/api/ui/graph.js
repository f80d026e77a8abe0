import { displayStatus, glyph, STATUS_INFO, statusWords } from './run-model.js';
import { h, s } from './util.js';

const FONT = 13;
/** Below this zoom a 13 px label would be drawn under 12 px: labels hide instead of shrinking. */
const READABLE = 12 / FONT;
const [MIN_ZOOM, MAX_ZOOM] = [0.05, 3];

/**
 * Draws a laid-out DAG (from /graph) as SVG in a pan-and-zoom viewport: wheel or +/− zoom, drag or
 * arrow keys pan, "Fit" shows it all. Labels keep their size in pixels (never under 12 px); when the
 * graph is zoomed out so far that they would be smaller they hide and the nodes keep their colour,
 * border style and glyph. Nodes are focusable buttons (Enter/Space select);
 * `update(steps, maps)` restyles them by status without redrawing.
 */
export function dagView(graph, { onSelect } = {}) {
  // Bounds of nodes and edge routes: dagre may route an edge outside the box it reports.
  const xs = [0, graph.width, ...graph.edges.flatMap((e) => e.points.map((p) => p.x))];
  const ys = [0, graph.height, ...graph.edges.flatMap((e) => e.points.map((p) => p.y))];
  const box = { x: Math.min(...xs) - 8, y: Math.min(...ys) - 8 };
  box.w = Math.max(...xs) - box.x + 8;
  box.h = Math.max(...ys) - box.y + 8;
  const content = s('g', { class: 'dag-content' });
  const svg = s('svg', { class: 'dag', role: 'group', 'aria-label': `DAG of ${graph.pipeline} (${graph.nodes.length} steps)` },
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#7d8596' }))),
    content);
  const edges = s('g', {});
  for (const edge of graph.edges) {
    const d = edge.points.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
    edges.append(s('path', { class: 'edge', d, 'data-from': edge.from, 'data-to': edge.to }));
  }
  content.append(edges);
  const nodes = new Map();
  for (const node of graph.nodes) {
    const title = s('title', {}, node.id);
    const cx = node.x + node.width / 2;
    const mark = s('text', { class: 'glyph', x: node.x + 12, y: node.y + 19, 'aria-hidden': 'true' }, '○');
    const label = s('text', { class: 'label', x: cx, y: node.y + 19, 'text-anchor': 'middle' }, node.id);
    const progress = s('text', { class: 'progress', x: cx, y: node.y + 36, 'text-anchor': 'middle' }, '');
    // Nodes are buttons only where selecting does something (the run page); elsewhere they are labelled, not focusable.
    const g = s('g', { class: 'node st-pending', tabindex: onSelect ? 0 : undefined, role: onSelect ? 'button' : 'img', 'data-step': node.id, 'aria-label': `step ${node.id}` },
      title, s('rect', { x: node.x, y: node.y, width: node.width, height: node.height }), mark, label, progress);
    const select = () => onSelect?.(node.id);
    g.addEventListener('click', select);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    nodes.set(node.id, { g, title, mark, progress, node });
    content.append(g);
  }

  // View state: screen = k * graph + (tx, ty).
  let k = 1;
  let tx = 0;
  let ty = 0;
  const zoomText = h('span', { class: 'zoom-level', 'aria-live': 'polite' }, '100%');
  const viewport = h('div', {
    class: 'dag-viewport', tabindex: 0, role: 'region',
    'aria-label': 'Graph: arrow keys pan, + and − zoom, 0 fits the whole graph',
  }, svg);
  const size = () => ({ w: viewport.clientWidth || 600, h: viewport.clientHeight || 400 });
  const apply = () => {
    content.setAttribute('transform', `translate(${tx} ${ty}) scale(${k})`);
    svg.classList.toggle('labels-hidden', k < READABLE);
    svg.dataset.zoom = k.toFixed(3);
    zoomText.textContent = `${Math.round(k * 100)}%${k < READABLE ? ' (zoom in to read labels)' : ''}`;
  };
  const zoomAt = (factor, px, py) => {
    const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k * factor));
    const at = px === undefined ? { x: size().w / 2, y: size().h / 2 } : { x: px, y: py };
    tx = at.x - ((at.x - tx) / k) * next;
    ty = at.y - ((at.y - ty) / k) * next;
    k = next;
    apply();
  };
  const fit = () => {
    const { w, h: hh } = size();
    k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.min(w / box.w, hh / box.h, 1.5)));
    tx = (w - box.w * k) / 2 - box.x * k;
    ty = (hh - box.h * k) / 2 - box.y * k;
    apply();
  };
  /** The first view: the whole graph when it fits readably, else readable size from its start. */
  const initial = () => {
    const { w, h: hh } = size();
    if (Math.min(w / box.w, hh / box.h) >= READABLE) return fit();
    k = 1;
    tx = -box.x;
    ty = Math.min(0, hh / 2 - (graph.nodes[0] ? graph.nodes[0].y + graph.nodes[0].height / 2 : 0));
    apply();
  };
  const pan = (dx, dy) => {
    tx += dx;
    ty += dy;
    apply();
  };
  viewport.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = viewport.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag;
  viewport.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || e.target.closest?.('.node')) return;
    drag = { x: e.clientX, y: e.clientY };
    viewport.setPointerCapture?.(e.pointerId);
  });
  viewport.addEventListener('pointermove', (e) => {
    if (!drag) return;
    pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
  });
  const endDrag = () => (drag = undefined);
  viewport.addEventListener('pointerup', endDrag);
  viewport.addEventListener('pointercancel', endDrag);
  viewport.addEventListener('keydown', (e) => {
    const step = 60;
    const keys = { ArrowLeft: () => pan(step, 0), ArrowRight: () => pan(-step, 0), ArrowUp: () => pan(0, step), ArrowDown: () => pan(0, -step),
      '+': () => zoomAt(1.25), '=': () => zoomAt(1.25), '-': () => zoomAt(0.8), '0': fit };
    // Arrow keys on a focused node pan too; Enter/Space stay the node's.
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });
  const button = (text, label, fn) => h('button', { type: 'button', class: 'small', 'aria-label': label, onclick: fn }, text);
  const toolbar = h('div', { class: 'row dag-tools', role: 'toolbar', 'aria-label': 'Graph zoom' },
    button('+', 'Zoom in', () => zoomAt(1.25)), button('−', 'Zoom out', () => zoomAt(0.8)),
    button('Fit', 'Fit the whole graph', fit), button('100%', '100% (actual size)', () => zoomAt(1 / k)), zoomText);
  const element = h('div', { class: 'dag-wrap' }, toolbar, viewport, legend());
  // Laid out only once in the document (sizes are 0 before): the caller appends, then this runs.
  requestAnimationFrame(initial);
  apply();

  return {
    element,
    svg,
    update(steps, maps = new Map()) {
      for (const [name, { g, title, mark, progress }] of nodes) {
        const st = steps?.[name];
        const status = st?.status ?? 'pending';
        const shown = displayStatus(st);
        const summary = maps.get(name);
        const words = `${statusWords(shown)}${summary ? `, ${summary.words}` : ''}${st?.waiting ? ` (${st.waiting})` : ''}`;
        g.setAttribute('class', `node st-${status} show-${shown}${g.classList.contains('selected') ? ' selected' : ''}`);
        g.setAttribute('data-status', status);
        g.setAttribute('data-display', shown);
        g.setAttribute('aria-label', `step ${name}: ${words}`);
        title.textContent = `${name}: ${words}`;
        mark.textContent = glyph(shown);
        progress.textContent = summary ? summary.text : '';
      }
    },
    select(step) {
      for (const [name, { g }] of nodes) g.classList.toggle('selected', name === step);
      const found = nodes.get(step);
      if (!found) return;
      // Bring the selected node into view when it is outside (selected from the timeline).
      const { node } = found;
      const { w, h: hh } = size();
      const [sx, sy] = [node.x * k + tx, node.y * k + ty];
      if (sx < 0 || sy < 0 || sx + node.width * k > w || sy + node.height * k > hh) {
        tx = w / 2 - (node.x + node.width / 2) * k;
        ty = hh / 2 - (node.y + node.height / 2) * k;
        apply();
      }
    },
  };
}

/** What colours, border styles and glyphs mean (the same for graph and timeline). */
function legend() {
  return h('ul', { class: 'legend', 'aria-label': 'Legend' },
    STATUS_INFO.map(([key, words, mark]) => h('li', {},
      s('svg', { width: 26, height: 16, 'aria-hidden': 'true', class: 'swatch' },
        s('g', { class: `node show-${key}` }, s('rect', { x: 1, y: 1, width: 24, height: 14 }))),
      h('span', { 'aria-hidden': 'true', class: 'legend-glyph' }, mark), ` ${words}`)));
}
