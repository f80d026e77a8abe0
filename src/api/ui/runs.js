import { artifactsPanel } from './artifacts.js';
import { dagView } from './graph.js';
import { api, badge, fmtDuration, fmtTime, h, keepFocus, pretty, stream, toast, put } from './util.js';

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

export async function runPage(main, runId, query = new URLSearchParams()) {
  // The run comes once, as the event stream's first `run` event (not also from GET /runs/:id):
  // events that arrive before the page is built wait in `early`.
  let onRunEvent = null;
  const early = [];
  let close = () => {};
  let run = await new Promise((resolve, reject) => {
    close = stream(`/runs/${encodeURIComponent(runId)}/events`, (event, data) => {
      if (onRunEvent) onRunEvent(event, data);
      else if (event === 'run' && early.length === 0) resolve(data);
      else early.push([event, data]);
    }, reject);
  });
  const graph = await api('GET', `/runs/${encodeURIComponent(runId)}/graph`).catch((error) => {
    close();
    throw error;
  });
  const asked = query.get('step');
  let selected = (asked && run.steps[asked] ? asked : null) ?? Object.entries(run.steps).find(([, st]) => st.status === 'failed')?.[0] ?? null;
  const logs = [];
  const dag = dagView(graph, { onSelect: (step) => select(step) });
  // Focus lands here when the action a keyboard user pressed is gone (a retried run has no Retry).
  const title = h('div', { class: 'row', tabindex: '-1', id: 'run-title' });
  const actions = h('div', { class: 'row' });
  const facts = h('dl', { class: 'kv' });
  const gantt = h('div', { class: 'gantt', role: 'list', 'aria-label': 'Step timeline' });
  const detail = h('section', { class: 'panel', id: 'step-detail', 'aria-live': 'polite' });
  const artifacts = artifactsPanel(runId);
  put(main, 
    h('h1', {}, 'Run ', runId),
    h('div', { class: 'panel' }, title, facts, actions),
    h('div', { class: 'grid2' },
      h('div', {}, h('section', { class: 'panel' }, h('h2', {}, 'Graph'), dag.svg), h('section', { class: 'panel' }, h('h2', {}, 'Timeline'), gantt)),
      detail),
    artifacts.panel,
  );
  void artifacts.refresh().catch(() => {});

  const renderHeader = () => keepFocus(actions, () => {
    put(title, h('strong', {}, run.pipeline), ' ', badge(run.status));
    title.querySelector('.badge').id = 'run-status';
    put(facts, 
      h('dt', {}, 'Trigger'), h('dd', {}, run.trigger?.type ?? '—', run.trigger?.by ? ` by ${run.trigger.by}` : ''),
      h('dt', {}, 'Created'), h('dd', {}, fmtTime(run.createdAt)),
      h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(run.durationMs)),
      h('dt', {}, 'Params'), h('dd', {}, h('code', {}, JSON.stringify(run.params))),
      h('dt', {}, 'DAG hash'), h('dd', {}, run.dagHash));
    const active = run.status === 'queued' || run.status === 'running';
    put(actions, 
      active ? h('button', { type: 'button', class: 'danger', 'data-focus-key': 'cancel', onclick: () => act('cancel') }, 'Cancel run') : null,
      run.status === 'failed' || run.status === 'cancelled' ? h('button', { type: 'button', 'data-focus-key': 'retry', onclick: () => act('retry') }, 'Retry failed steps') : null,
      h('a', { href: `#/pipelines/${run.pipeline}`, 'data-focus-key': 'pipeline' }, 'Pipeline'));
  }, title);
  const act = async (what) => {
    try {
      await api('POST', `/runs/${encodeURIComponent(runId)}/${what}`, {});
      toast(what === 'cancel' ? 'Run cancelled' : 'Failed steps re-queued');
      run = await api('GET', `/runs/${encodeURIComponent(runId)}`);
      refresh();
      if (what === 'retry') connect();
    } catch (error) {
      toast(error.message);
    }
  };
  const renderGantt = () => keepFocus(gantt, () => {
    const steps = Object.entries(run.steps);
    const start = Math.min(...steps.map(([, st]) => (st.startedAt ? Date.parse(st.startedAt) : Infinity)), Date.parse(run.createdAt));
    const end = Math.max(...steps.map(([, st]) => (st.finishedAt ? Date.parse(st.finishedAt) : st.startedAt ? Date.now() : 0)), start + 1);
    const span = end - start;
    put(gantt, ...steps.flatMap(([name, st]) => {
      const from = st.startedAt ? Date.parse(st.startedAt) : undefined;
      const to = st.finishedAt ? Date.parse(st.finishedAt) : from !== undefined ? Date.now() : undefined;
      const bar = from !== undefined
        ? h('div', { class: `bar s-${st.status}`, style: `left:${((from - start) / span) * 100}%;width:${(((to ?? from) - from) / span) * 100}%`, title: `${name}: ${fmtDuration(st.durationMs)}` })
        : null;
      return h('div', { role: 'listitem', class: 'gantt-row' },
        h('button', { type: 'button', class: 'link-step', 'data-focus-key': name, onclick: () => select(name), style: 'text-align:left;padding:2px 6px' }, name), h('div', { class: 'track' }, bar));
    }));
  });
  const renderDetail = () => keepFocus(detail, () => {
    if (!selected || !run.steps[selected]) {
      put(detail, h('h2', {}, 'Step'), h('p', { class: 'muted' }, 'Select a step in the graph or timeline.'));
      return;
    }
    const st = run.steps[selected];
    const lines = logs.filter((l) => l.step === selected || l.step.startsWith(`${selected}[`));
    put(detail, 
      h('h2', {}, 'Step ', h('span', { id: 'detail-step' }, selected), ' ', badge(st.status)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Attempts'), h('dd', {}, String(st.attempts)),
        h('dt', {}, 'Queue'), h('dd', {}, st.queue ?? '—'),
        h('dt', {}, 'Worker'), h('dd', {}, st.worker ?? '—'),
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(st.startedAt)),
        h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(st.durationMs)),
        st.reason ? [h('dt', {}, 'Reason'), h('dd', {}, st.reason)] : null),
      st.error ? [h('h3', {}, 'Error'), h('pre', { id: 'step-error', tabindex: '0', 'aria-label': 'Step error' }, `${st.error.name ?? 'Error'}: ${st.error.message}${st.error.stack ? `\n\n${st.error.stack}` : ''}`)] : null,
      st.output !== undefined ? [h('h3', {}, 'Output'), h('pre', { id: 'step-output', tabindex: '0', 'aria-label': 'Step output' }, pretty(st.output))] : null,
      h('h3', {}, 'Logs ', h('span', { class: 'muted' }, run.status === 'running' || run.status === 'queued' ? '(live)' : '')),
      h('pre', { class: 'logs', id: 'step-logs', tabindex: '0', 'aria-label': 'Step logs' }, lines.length
        ? lines.map((l) => h('div', { class: `log-${l.level}` }, `${new Date(l.t).toISOString().slice(11, 23)} ${l.level.padEnd(5)} ${l.msg}${l.fields ? ` ${JSON.stringify(l.fields)}` : ''}`))
        : 'No log lines.'),
    );
  });
  const refresh = () => {
    renderHeader();
    dag.update(run.steps);
    renderGantt();
    renderDetail();
  };
  function select(step) {
    selected = step;
    dag.select(step);
    renderDetail();
  }
  onRunEvent = (event, data) => {
    if (event === 'run') {
      const finished = data.status !== run.status && !['queued', 'running'].includes(data.status);
      run = data;
      refresh();
      if (finished) void artifacts.refresh().catch(() => {});
    } else if (event === 'log') {
      logs.push(...data.entries);
      renderDetail();
    }
  };
  // After a retry the finished run's stream has ended: open a new one (its first `run` is the retried run).
  const connect = () => {
    close();
    logs.length = 0;
    close = stream(`/runs/${encodeURIComponent(runId)}/events`, (event, data) => onRunEvent(event, data));
  };
  refresh();
  if (selected) dag.select(selected);
  for (const [event, data] of early.splice(0)) onRunEvent(event, data);
  const tick = setInterval(() => {
    if (run.status === 'running') renderGantt();
  }, 1000);
  return () => {
    close();
    clearInterval(tick);
  };
}
