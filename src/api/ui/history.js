// A pipeline's recent runs: the runs × steps grid (pipeline page) and the summary cells of the
// pipelines list. Status is always an icon and a word besides its colour.
import { api, fmtDuration, fmtTime, h, s, statusIcon } from './util.js';

export const HISTORY_RUNS = 20;

export function loadHistory(pipelineId, limit = HISTORY_RUNS) {
  return api('GET', `/pipelines/${encodeURIComponent(pipelineId)}/history?limit=${limit}`);
}

/**
 * Rows are steps, columns are runs (oldest left, newest right, as in Airflow's grid). Each cell links
 * to that run with the step selected; its name says step, run and status.
 */
export function historyGrid(history) {
  if (!history.runs.length) return h('p', { class: 'muted', id: 'history-grid' }, 'No runs yet.');
  const runs = [...history.runs].reverse();
  const runHeader = (run) => h('th', { scope: 'col', class: 'hist-run' },
    h('a', { href: `#/runs/${run.id}`, class: `hist-cell s-${run.status}`, 'aria-label': `run ${run.id}: ${run.status}, ${fmtTime(run.createdAt)}`, title: `${run.id} · ${run.status} · ${fmtTime(run.createdAt)}` },
      h('span', { 'aria-hidden': 'true' }, statusIcon(run.status))));
  const cell = (run, step) => {
    const status = run.steps[step];
    if (!status) return h('td', { class: 'hist-none' }, h('span', { class: 'visually-hidden' }, `${step} not in run ${run.id}`), h('span', { 'aria-hidden': 'true' }, '·'));
    return h('td', {},
      h('a', { href: `#/runs/${run.id}?step=${encodeURIComponent(step)}`, class: `hist-cell s-${status}`, 'data-run': run.id, 'data-step': step, 'data-status': status, 'aria-label': `${step} in run ${run.id}: ${status}`, title: `${step} · ${status} · ${run.id}` },
        h('span', { 'aria-hidden': 'true' }, statusIcon(status))));
  };
  return h('div', { class: 'table-wrap', id: 'history-grid' },
    h('table', { class: 'hist' },
      h('caption', { class: 'muted' }, `Last ${runs.length} runs, oldest left. Each cell opens that step of that run.`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'), runs.map(runHeader))),
      h('tbody', {}, history.steps.map((step) => h('tr', {}, h('th', { scope: 'row' }, step), runs.map((run) => cell(run, step)))))),
    historyLegend());
}

function historyLegend() {
  return h('p', { class: 'hist-legend muted' }, ['succeeded', 'failed', 'running', 'queued', 'skipped', 'cancelled', 'pending'].map((st) =>
    h('span', {}, h('span', { class: `hist-cell s-${st}`, 'aria-hidden': 'true' }, statusIcon(st)), ` ${st} `)));
}

/** Cells of one pipeline's row in the pipelines list: last run, success rate, next run, duration trend. */
export function summaryCells(history) {
  const { summary, nextRun } = history;
  const rate = summary.successRate === null ? '—' : `${Math.round(summary.successRate * 100)}%`;
  return [
    h('td', { class: 'hist-last' }, summary.lastRun
      ? h('a', { href: `#/runs/${summary.lastRun.id}`, class: `badge s-${summary.lastRun.status}` }, `${statusIcon(summary.lastRun.status)} ${summary.lastRun.status}`)
      : h('span', { class: 'muted' }, 'never run')),
    h('td', { class: 'hist-rate' }, rate, summary.finished ? h('div', { class: 'muted' }, `of last ${summary.finished} finished`) : null),
    h('td', { class: 'hist-next' }, nextRun
      ? [fmtTime(nextRun.at, nextRun.timezone), h('div', { class: 'muted' }, `${nextRun.schedule}, zone ${nextRun.timezone}`)]
      : h('span', { class: 'muted' }, 'not scheduled')),
    h('td', { class: 'hide-narrow hist-trend' }, durationTrend(summary.durationsMs)),
  ];
}

/** A small line of the finished runs' durations, oldest left; its text alternative lists them. */
function durationTrend(durations) {
  if (!durations.length) return h('span', { class: 'muted' }, '—');
  const W = 100, H = 24, max = Math.max(...durations, 1);
  const x = (i) => (durations.length === 1 ? W / 2 : (i / (durations.length - 1)) * (W - 4) + 2);
  const y = (d) => H - 2 - (d / max) * (H - 4);
  const label = `durations of the last ${durations.length} finished runs, oldest first: ${durations.map(fmtDuration).join(', ')}`;
  return h('span', { class: 'row' },
    s('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label },
      s('title', {}, label),
      s('polyline', { points: durations.map((d, i) => `${x(i)},${y(d)}`).join(' ') })),
    h('span', { class: 'muted' }, `last ${fmtDuration(durations.at(-1))}`));
}
