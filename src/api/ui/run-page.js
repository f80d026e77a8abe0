import { artifactsPanel } from './artifacts.js';
import { dagView } from './graph.js';
import { groupSteps } from './run-model.js';
import { renderStepPanel } from './step-panel.js';
import { mapSummaries, timelineView } from './timeline.js';
import { api, badge, fmtDuration, fmtTime, h, keepFocus, put, stream, toast } from './util.js';

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
  // `?step=` (from the pipeline's history grid) opens that step; otherwise the first failed one.
  const asked = query.get('step');
  let selected = (asked && run.steps[asked] ? asked : null) ?? Object.entries(run.steps).find(([n, st]) => st.status === 'failed' && !n.includes('['))?.[0] ?? null;
  const logs = [];
  const dag = dagView(graph, { onSelect: (step) => select(step) });
  const timeline = timelineView({ onSelect: (step) => select(step) });
  // Focus lands here when the action a keyboard user pressed is gone (a retried run has no Retry).
  const title = h('div', { class: 'row', tabindex: '-1', id: 'run-title' });
  const waiting = h('div', { id: 'run-waiting' });
  const actions = h('div', { class: 'row' });
  const facts = h('dl', { class: 'kv' });
  const artifacts = artifactsPanel(runId);
  const detail = h('section', { class: 'panel', id: 'step-detail', 'aria-live': 'polite', 'aria-label': 'Selected step' });
  detail.addEventListener('click', (e) => {
    const target = e.target.closest?.('[data-select]');
    if (target) select(target.dataset.select);
  });
  put(main,
    h('h1', {}, 'Run ', runId),
    h('div', { class: 'panel' }, title, waiting, facts, actions),
    h('div', { class: 'grid2' },
      h('div', {}, h('section', { class: 'panel', 'aria-label': 'Graph' }, h('h2', {}, 'Graph'), dag.element),
        h('section', { class: 'panel', 'aria-label': 'Timeline' }, h('h2', {}, 'Timeline'), timeline.element)),
      detail),
    artifacts.panel,
  );
  void artifacts.refresh().catch(() => {});

  // Live updates rebuild these parts in place; keepFocus puts keyboard focus back where it was.
  const renderHeader = () => keepFocus(actions, () => {
    put(title, h('strong', {}, run.pipeline), ' ', badge(run.status));
    title.querySelector('.badge').id = 'run-status';
    // Steps that no live worker can run: the run's status alone would say "running" and hide why.
    const waits = Object.entries(run.steps).filter(([, st]) => st.waiting);
    const texts = [...new Set(waits.map(([, st]) => st.waiting))];
    put(waiting, waits.length
      ? h('p', { class: 'waiting-note', role: 'status' }, `⌛ ${waits.length} step${waits.length > 1 ? 's' : ''} ${texts.join('; ')}`)
      : null);
    put(facts,
      h('dt', {}, 'Trigger'), h('dd', {}, run.trigger?.type ?? '—', run.trigger?.by ? ` by ${run.trigger.by}` : ''),
      h('dt', {}, 'Created'), h('dd', {}, fmtTime(run.createdAt)),
      h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(run.durationMs)),
      h('dt', {}, 'Code version'), h('dd', { id: 'run-code-version' }, run.codeVersion || 'not known yet (no worker started it)', run.versioning === 'pinned' ? ' (pinned)' : ''),
      run.generation > 0 ? [h('dt', {}, 'Generation'), h('dd', {}, `${run.generation} (retried ${run.generation}×)`)] : null,
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
  let groups;
  let summaries;
  const renderDetail = () => keepFocus(detail, () => renderStepPanel(detail, { run, selected, logs, live: run.status === 'running' || run.status === 'queued' }));
  const renderTimeline = () => keepFocus(timeline.element, () => timeline.render(run, groups, summaries));
  const refresh = () => {
    groups = groupSteps(run.steps);
    summaries = mapSummaries(groups);
    renderHeader();
    dag.update(run.steps, summaries);
    renderTimeline();
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
    if (run.status === 'running') renderTimeline();
  }, 1000);
  return () => {
    close();
    clearInterval(tick);
  };
}
