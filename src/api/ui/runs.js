import { api, badge, fmtDuration, fmtTime, h, put } from './util.js';

// The run page lives in run-page.js (graph, timeline, step panel); app.js imports both from here.
export { runPage } from './run-page.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const PAGE = 25;

const TRIGGERS = ['manual', 'schedule', 'event', 'retry'];
const FILTERS = ['id', 'pipeline', 'status', 'trigger', 'from', 'to'];

export async function runsList(main, query) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? '']));
  const offset = Number(query.get('offset') ?? 0);
  const pipelines = (await api('GET', '/pipelines')).items;
  const go = (changes) => {
    const next = new URLSearchParams({ ...filters, offset: String(offset), ...changes });
    for (const [k, v] of [...next]) if (!v || v === '0') next.delete(k);
    location.hash = `#/runs${next.size ? `?${next}` : ''}`;
  };
  const field = (key, label, control) => h('span', { class: 'field' }, h('label', { for: `filter-${key}` }, label), control);
  const select = (key, any, values) => h('select', { id: `filter-${key}`, name: key },
    h('option', { value: '' }, any), values.map((v) => h('option', { value: v, selected: v === filters[key] }, v)));
  // Filters apply on submit (Enter or the button), not on every change: moving through a select with
  // the arrow keys must not navigate away (WCAG 3.2.2).
  const form = h('form', { class: 'panel row', role: 'search', 'aria-label': 'Filter runs', onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const values = Object.fromEntries(FILTERS.map((k) => [k, String(data.get(k) ?? '').trim()]));
    void openOrFilter(values.id, () => go({ ...values, offset: '0' }));
  } },
    field('id', 'Run id or its start', h('input', { id: 'filter-id', name: 'id', value: filters.id, size: 18, autocomplete: 'off', 'aria-describedby': 'filter-id-hint' }),
      h('div', { class: 'hint', id: 'filter-id-hint' }, 'one match opens the run')),
    field('pipeline', 'Pipeline', select('pipeline', 'all pipelines', pipelines.map((p) => p.id))),
    field('status', 'Status', select('status', 'any status', STATUSES)),
    field('trigger', 'Trigger', select('trigger', 'any trigger', TRIGGERS)),
    field('from', 'Created from (UTC)', h('input', { id: 'filter-from', name: 'from', type: 'date', value: filters.from })),
    field('to', 'to', h('input', { id: 'filter-to', name: 'to', type: 'date', value: filters.to })),
    h('button', { type: 'submit' }, 'Apply'));
  const body = h('tbody');
  let nextOffset = null;
  const prev = h('button', { type: 'button', disabled: offset === 0, onclick: () => go({ offset: String(Math.max(0, offset - PAGE)) }) }, '← Newer');
  const next = h('button', { type: 'button', onclick: () => go({ offset: String(nextOffset ?? offset + PAGE) }) }, 'Older →');
  put(main,
    h('h1', {}, 'Runs'),
    form,
    h('div', { class: 'panel table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['Run', 'Pipeline', 'Status', 'Trigger', 'Created', 'Duration'].map((c, i) => h('th', { class: i === 4 ? 'hide-narrow' : undefined }, c)))), body),
      h('div', { class: 'row', style: 'margin-top:8px' }, prev, next)),
  );
  const row = (run) => h('tr', { 'data-run': run.id },
    h('td', {}, h('a', { href: `#/runs/${run.id}` }, run.id)),
    h('td', {}, run.pipeline),
    h('td', {}, badge(run.status)),
    h('td', {}, run.trigger?.type ?? '—'),
    h('td', { class: 'hide-narrow' }, fmtTime(run.createdAt)),
    h('td', {}, fmtDuration(run.durationMs)));
  const load = async () => {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    for (const key of FILTERS) if (filters[key]) params.set(key === 'id' ? 'idPrefix' : key, key === 'to' ? `${filters.to}T23:59:59.999Z` : filters[key]);
    const page = await api('GET', `/runs?${params}`);
    nextOffset = page.nextOffset;
    next.disabled = page.nextOffset === null;
    if (!page.items.length) return put(body, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No runs match.')));
    patchRows(body, page.items.map((run) => ({ key: run.id, sig: JSON.stringify(run), make: () => row(run) })));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}

/** A run id (or the start of one) that names exactly one run opens it; anything else filters the list. */
async function openOrFilter(id, filter) {
  if (!id) return filter();
  const page = await api('GET', `/runs?${new URLSearchParams({ idPrefix: id, limit: '2' })}`).catch(() => null);
  const exact = page?.items.find((run) => run.id === id);
  if (exact || page?.items.length === 1) location.hash = `#/runs/${(exact ?? page.items[0]).id}`;
  else filter();
}

/**
 * Live refresh without rebuilding the table: rows whose data did not change stay the same elements
 * (keyboard focus on a link in them survives); changed rows are replaced, gone rows removed.
 */
function patchRows(body, rows) {
  const existing = new Map([...body.children].filter((tr) => tr.dataset.run).map((tr) => [tr.dataset.run, tr]));
  const wanted = rows.map(({ key, sig, make }) => {
    const old = existing.get(key);
    if (old && old.dataset.sig === sig) return old;
    const tr = make();
    tr.dataset.sig = sig;
    if (old && old.contains(document.activeElement)) {
      old.replaceWith(tr);
      tr.querySelector('a')?.focus();
    }
    return tr;
  });
  for (const child of [...body.children]) if (!wanted.includes(child)) child.remove();
  wanted.forEach((tr, i) => {
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null);
  });
}
