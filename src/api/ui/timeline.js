import { displayStatus, glyph, segmentsOf, statusWords, summariseMap } from './run-model.js';
import { fmtDuration, h, put } from './util.js';

/** Items listed when a map row is opened, and added per "show more" (the DOM stays small for 10,000 items). */
const ITEMS_PAGE = 200;

/**
 * The step timeline: one row per DAG step (a map step is one row with its progress, expandable to
 * its items, failed first); a bar per attempt, coloured by outcome; generations after a run retry
 * are separate segments labelled `gen N`.
 */
export function timelineView({ onSelect }) {
  const grid = h('div', { class: 'gantt', role: 'list', 'aria-label': 'Step timeline' });
  const element = h('div', { class: 'gantt-scroll' }, grid);
  const open = new Map(); // map step → items shown
  let last;

  const render = (run, groups, summaries) => {
    last = [run, groups, summaries];
    const now = Date.now();
    const all = groups.top.flatMap(([, st]) => segmentsOf(st, now));
    const start = Math.min(Date.parse(run.createdAt), ...all.map((g) => g.from));
    const end = Math.max(start + 1, ...all.map((g) => g.to));
    const span = end - start;
    const generations = run.generation > 0;
    const track = (name, st) => h('div', { class: 'track', 'data-track': name },
      segmentsOf(st, now).map((g, i, list) => {
        const left = ((g.from - start) / span) * 100;
        const width = ((g.to - g.from) / span) * 100;
        const label = `${name}: ${generations ? `gen ${g.generation}, ` : ''}attempt ${g.attempt}, ${g.outcome}, ${fmtDuration(g.to - g.from)}`;
        const firstOfGen = generations && g.generation > 0 && (i === 0 || list[i - 1].generation !== g.generation);
        return [
          h('div', { class: `seg o-${g.outcome}`, style: `left:${left}%;width:${width}%`, title: label, 'data-generation': g.generation, 'data-attempt': g.attempt }),
          firstOfGen ? h('span', { class: 'gen-label', style: `left:${left}%`, 'aria-hidden': 'true' }, `gen ${g.generation}`) : null,
        ];
      }));
    const rows = groups.top.flatMap(([name, st]) => {
      const shown = displayStatus(st);
      const summary = summaries.get(name);
      const nameButton = h('button', { type: 'button', class: 'step-name', 'data-focus-key': name, onclick: () => onSelect(name), 'aria-label': `${name}: ${statusWords(shown)}${summary ? `, ${summary.words}` : ''}` },
        `${glyph(shown)} ${name}`, summary ? h('span', { class: 'map-progress' }, summary.text) : null);
      const row = [h('div', { role: 'listitem', class: 'row', 'data-row': name }, nameButton,
        summary ? h('button', { type: 'button', class: 'small', 'data-focus-key': `items:${name}`, 'aria-expanded': String(open.has(name)), 'aria-controls': `items-${name}`, 'aria-label': `Items of ${name}, failed first`, onclick: () => toggle(name) }, 'Items') : null),
      track(name, st)];
      if (summary && open.has(name)) row.push(items(name, summary));
      return row;
    });
    put(grid, rows);
  };
  const items = (name, summary) => {
    const shown = open.get(name);
    const list = summary.ordered.slice(0, shown);
    return h('div', { class: 'items', id: `items-${name}`, role: 'listitem', 'aria-label': `Items of ${name}, failed first` },
      h('ol', {}, list.map(({ name: item, st }) => {
        const s = displayStatus(st);
        return h('li', { 'data-item': item }, h('button', { type: 'button', class: 'step-name', 'data-focus-key': item, onclick: () => onSelect(item), 'aria-label': `${item}: ${statusWords(s)}` }, `${glyph(s)} ${item}`));
      })),
      summary.ordered.length > shown
        ? h('button', { type: 'button', class: 'small', 'data-focus-key': `more:${name}`, onclick: () => more(name) }, `Show ${Math.min(ITEMS_PAGE, summary.ordered.length - shown)} more of ${summary.ordered.length - shown}`)
        : null);
  };
  const rerender = () => last && render(...last);
  const toggle = (name) => {
    if (open.has(name)) open.delete(name);
    else open.set(name, ITEMS_PAGE);
    rerender();
    grid.querySelector(`[data-row="${CSS.escape(name)}"] button.small`)?.focus();
  };
  const more = (name) => {
    open.set(name, open.get(name) + ITEMS_PAGE);
    rerender();
  };
  return { element, render };
}

/** Per map step, its items' summary (see summariseMap). */
export function mapSummaries(groups) {
  return new Map([...groups.maps].map(([base, items]) => [base, summariseMap(items)]));
}
