import { paramsForm } from './form.js';
import { dagView } from './graph.js';
import { api, ApiError, fmtTime, h, toast, put } from './util.js';

export async function pipelinesList(main) {
  const [pipelines, schedules] = await Promise.all([api('GET', '/pipelines'), api('GET', '/schedules')]);
  put(main, 
    h('h1', {}, 'Pipelines'),
    h('div', { class: 'panel table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Pipeline'), h('th', {}, 'Steps'), h('th', { class: 'hide-narrow' }, 'DAG hash'), h('th', {}, 'Schedules'))),
      h('tbody', {}, pipelines.items.map((p) => h('tr', {},
        h('td', {}, h('a', { href: `#/pipelines/${p.id}` }, p.id), h('div', { class: 'muted' }, p.description)),
        h('td', {}, String(p.steps.length)),
        h('td', { class: 'hide-narrow' }, h('code', {}, p.dagHash.slice(0, 12))),
        h('td', {}, schedules.items.filter((sc) => sc.pipeline === p.id).map((sc) => h('div', {}, `${sc.description}${sc.paused ? ' (paused)' : ''}`)))))))),
  );
}

export async function pipelinePage(main, id) {
  const [def, graph, schedules] = await Promise.all([api('GET', `/pipelines/${id}`), api('GET', `/pipelines/${id}/graph`), api('GET', '/schedules')]);
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
    h('div', { class: 'grid2' },
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, 'Graph'), dag.svg),
        h('section', { class: 'panel' }, h('h2', {}, 'Schedules'), scheduleBox)),
      h('section', { class: 'panel' }, h('h2', {}, 'Trigger a run'), form,
        h('p', {}, h('a', { href: `#/runs?pipeline=${id}` }, 'Runs of this pipeline')))),
  );
}
