import { dagView } from './graph.js';
import { api, badge, fmtDuration, fmtTime, h, pretty, stream, toast, put } from './util.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const PAGE = 25;

export async function runsList(main, query) {
  const pipeline = query.get('pipeline') ?? '';
  const status = query.get('status') ?? '';
  const offset = Number(query.get('offset') ?? 0);
  const pipelines = (await api('GET', '/pipelines')).items;
  const go = (changes) => {
    const next = new URLSearchParams({ pipeline, status, offset: String(offset), ...changes });
    for (const [k, v] of [...next]) if (!v || v === '0') next.delete(k);
    location.hash = `#/runs${next.size ? `?${next}` : ''}`;
  };
  const pipelineSelect = h('select', { id: 'filter-pipeline', onchange: (e) => go({ pipeline: e.target.value, offset: '0' }) },
    h('option', { value: '' }, 'all pipelines'), pipelines.map((p) => h('option', { value: p.id, selected: p.id === pipeline }, p.id)));
  const statusSelect = h('select', { id: 'filter-status', onchange: (e) => go({ status: e.target.value, offset: '0' }) },
    h('option', { value: '' }, 'any status'), STATUSES.map((st) => h('option', { value: st, selected: st === status }, st)));
  const body = h('tbody');
  const prev = h('button', { type: 'button', disabled: offset === 0, onclick: () => go({ offset: String(Math.max(0, offset - PAGE)) }) }, '← Newer');
  const next = h('button', { type: 'button', onclick: () => go({ offset: String(offset + PAGE) }) }, 'Older →');
  put(main, 
    h('h1', {}, 'Runs'),
    h('div', { class: 'panel row' },
      h('label', { for: 'filter-pipeline' }, 'Pipeline'), pipelineSelect,
      h('label', { for: 'filter-status' }, 'Status'), statusSelect),
    h('div', { class: 'panel table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ['Run', 'Pipeline', 'Status', 'Trigger', 'Created', 'Duration'].map((c, i) => h('th', { class: i === 4 ? 'hide-narrow' : undefined }, c)))), body),
      h('div', { class: 'row', style: 'margin-top:8px' }, prev, next)),
  );
  const load = async () => {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (pipeline) params.set('pipeline', pipeline);
    if (status) params.set('status', status);
    const page = await api('GET', `/runs?${params}`);
    next.disabled = page.nextOffset === null && page.items.length < PAGE;
    put(body, ...(page.items.length ? page.items.map((run) => h('tr', { 'data-run': run.id },
      h('td', {}, h('a', { href: `#/runs/${run.id}` }, run.id)),
      h('td', {}, run.pipeline),
      h('td', {}, badge(run.status)),
      h('td', {}, run.trigger?.type ?? '—'),
      h('td', { class: 'hide-narrow' }, fmtTime(run.createdAt)),
      h('td', {}, fmtDuration(run.durationMs)))) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No runs match.'))]));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}

export async function runPage(main, runId) {
  let run = await api('GET', `/runs/${encodeURIComponent(runId)}`);
  const graph = await api('GET', `/runs/${encodeURIComponent(runId)}/graph`);
  let selected = Object.entries(run.steps).find(([, st]) => st.status === 'failed')?.[0] ?? null;
  const logs = [];
  const dag = dagView(graph, { onSelect: (step) => select(step) });
  const title = h('div', { class: 'row' });
  const actions = h('div', { class: 'row' });
  const facts = h('dl', { class: 'kv' });
  const gantt = h('div', { class: 'gantt', role: 'list', 'aria-label': 'Step timeline' });
  const detail = h('section', { class: 'panel', id: 'step-detail', 'aria-live': 'polite' });
  put(main, 
    h('h1', {}, 'Run ', runId),
    h('div', { class: 'panel' }, title, facts, actions),
    h('div', { class: 'grid2' },
      h('div', {}, h('section', { class: 'panel' }, h('h2', {}, 'Graph'), dag.svg), h('section', { class: 'panel' }, h('h2', {}, 'Timeline'), gantt)),
      detail),
  );

  const renderHeader = () => {
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
      active ? h('button', { type: 'button', class: 'danger', onclick: () => act('cancel') }, 'Cancel run') : null,
      run.status === 'failed' || run.status === 'cancelled' ? h('button', { type: 'button', onclick: () => act('retry') }, 'Retry failed steps') : null,
      h('a', { href: `#/pipelines/${run.pipeline}` }, 'Pipeline'));
  };
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
  const renderGantt = () => {
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
      return [h('button', { type: 'button', class: 'link-step', role: 'listitem', onclick: () => select(name), style: 'text-align:left;padding:2px 6px' }, name), h('div', { class: 'track' }, bar)];
    }));
  };
  const renderDetail = () => {
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
      st.error ? [h('h3', {}, 'Error'), h('pre', { id: 'step-error' }, `${st.error.name ?? 'Error'}: ${st.error.message}${st.error.stack ? `\n\n${st.error.stack}` : ''}`)] : null,
      st.output !== undefined ? [h('h3', {}, 'Output'), h('pre', { id: 'step-output' }, pretty(st.output))] : null,
      h('h3', {}, 'Logs ', h('span', { class: 'muted' }, run.status === 'running' || run.status === 'queued' ? '(live)' : '')),
      h('pre', { class: 'logs', id: 'step-logs' }, lines.length
        ? lines.map((l) => h('div', { class: `log-${l.level}` }, `${new Date(l.t).toISOString().slice(11, 23)} ${l.level.padEnd(5)} ${l.msg}${l.fields ? ` ${JSON.stringify(l.fields)}` : ''}`))
        : 'No log lines.'),
    );
  };
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
  let close = () => {};
  const connect = () => {
    close();
    logs.length = 0;
    close = stream(`/runs/${encodeURIComponent(runId)}/events`, (event, data) => {
      if (event === 'run') {
        run = data;
        refresh();
      } else if (event === 'log') {
        logs.push(...data.entries);
        renderDetail();
      }
    });
  };
  refresh();
  if (selected) dag.select(selected);
  connect();
  const tick = setInterval(() => {
    if (run.status === 'running') renderGantt();
  }, 1000);
  return () => {
    close();
    clearInterval(tick);
  };
}
