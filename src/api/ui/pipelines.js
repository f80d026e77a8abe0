import { paramsForm } from './form.js';
import { dagView } from './graph.js';
import { historyGrid, loadHistory, summaryCells } from './history.js';
import { api, ApiError, fmtTime, h, toast, put } from './util.js';

export async function pipelinesList(main) {
  const [pipelines, schedules] = await Promise.all([api('GET', '/pipelines'), api('GET', '/schedules')]);
  // One bounded history read per pipeline (its newest runs), for the last-run / rate / trend columns.
  const histories = await Promise.all(pipelines.items.map((p) => loadHistory(p.id)));
  put(main, 
    h('h1', {}, 'Pipelines'),
    h('div', { class: 'panel table-wrap' }, h('table', { id: 'pipelines' },
      h('thead', {}, h('tr', {}, ['Pipeline', 'Last run', 'Success', 'Next run', 'Duration trend', 'Steps', 'Schedules'].map((c, i) => h('th', { class: i === 4 || i === 5 ? 'hide-narrow' : undefined }, c)))),
      h('tbody', {}, pipelines.items.map((p, i) => h('tr', { 'data-pipeline': p.id },
        h('td', {}, h('a', { href: `#/pipelines/${p.id}` }, p.id), h('div', { class: 'muted' }, p.description)),
        summaryCells(histories[i]),
        h('td', { class: 'hide-narrow' }, String(p.steps.length), ' ', h('code', { class: 'muted', title: 'DAG hash' }, p.dagHash.slice(0, 8))),
        h('td', {}, schedules.items.filter((sc) => sc.pipeline === p.id).map((sc) => h('div', {}, `${sc.description}${sc.paused ? ' (paused)' : ''}`)))))))),
  );
}

export async function pipelinePage(main, id) {
  const [def, graph, schedules, history] = await Promise.all([api('GET', `/pipelines/${id}`), api('GET', `/pipelines/${id}/graph`), api('GET', '/schedules'), loadHistory(id, 25)]);
  const mine = schedules.items.filter((sc) => sc.pipeline === id);
  const dag = dagView(graph);
  const scheduleBox = h('div');
  const renderSchedules = (paused) => {
    put(scheduleBox, mine.length
      ? h('div', {},
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Schedule'), h('th', {}, 'When'), h('th', { class: 'hide-narrow' }, 'Next'), h('th', {}, 'Last run'))),
          h('tbody', {}, mine.map((sc) => h('tr', {},
            h('td', {}, sc.schedule),
            h('td', {}, sc.description, h('div', { class: 'muted' }, `${sc.cron} (${sc.timezone})`)),
            h('td', { class: 'hide-narrow' }, sc.nextTicks.slice(0, 2).map((t) => h('div', {}, fmtTime(t)))),
            h('td', {}, sc.lastRunId ? h('a', { href: `#/runs/${sc.lastRunId}` }, sc.lastRunId) : '—')))))),
        h('p', {}, paused ? 'Schedules are paused. ' : 'Schedules are active. ',
          h('button', { type: 'button', id: 'toggle-schedules', onclick: () => toggle(!paused) }, paused ? 'Resume schedules' : 'Pause schedules')))
      : h('p', { class: 'muted' }, 'No schedules.'));
  };
  const toggle = async (pause) => {
    try {
      await api('POST', `/pipelines/${id}/schedules/${pause ? 'pause' : 'resume'}`, {});
      toast(pause ? 'Schedules paused' : 'Schedules resumed');
      renderSchedules(pause);
    } catch (error) {
      toast(error.message);
    }
  };
  renderSchedules(mine.some((sc) => sc.paused));
  const form = paramsForm(def.paramsSchema, {
    async onSubmit(params, showIssues) {
      try {
        const result = await api('POST', `/pipelines/${id}/runs`, { params });
        location.hash = `#/runs/${result.runId}`;
      } catch (error) {
        if (error instanceof ApiError && (error.status === 422 || error.status === 400)) {
          showIssues(error.body?.error?.details?.issues ?? [], error.message);
        } else showIssues([], error.message);
      }
    },
  });
  put(main, 
    h('h1', {}, 'Pipeline ', id),
    h('p', { class: 'muted' }, def.description),
    h('section', { class: 'panel', 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'Recent runs'), historyGrid(history)),
    h('div', { class: 'grid2' },
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Graph'), dag.svg),
        h('section', { class: 'panel' }, h('h2', {}, 'Schedules'), scheduleBox)),
      h('section', { class: 'panel' }, h('h2', {}, 'Trigger a run'), form,
        h('p', {}, h('a', { href: `#/runs?pipeline=${id}` }, 'Runs of this pipeline')))),
  );
}
