import { attemptsOf, displayStatus, foldFrames, logsOfAttempt, parseInstance, statusWords, summariseMap } from './run-model.js';
import { badge, fmtDuration, fmtTime, h, pretty, put } from './util.js';

/**
 * The selected step: why it is in its state (waiting for a worker, skipped because of which upstream
 * and rule), then every attempt with its worker, code version, error (user frames first, internal
 * frames folded) and its log lines. The error is shown once, under the attempt that raised it.
 */
export function renderStepPanel(detail, { run, selected, logs, live }) {
  const st = selected && run.steps[selected];
  if (!st) {
    put(detail, h('h2', {}, 'Step'), h('p', { class: 'muted' }, 'Select a step in the graph or timeline.'));
    return;
  }
  const shown = displayStatus(st);
  const attempts = attemptsOf(st);
  const now = Date.now();
  const mine = logs.filter((l) => l.step === selected);
  // With several attempts each lists its own log lines; the Logs block keeps the rest (or all of one attempt's).
  const multi = attempts.length > 1;
  const claimed = new Set();
  // The latest error keeps id step-error (what links and tests look for); earlier ones are numbered.
  const lastFailed = attempts.map((a) => Boolean(a.error)).lastIndexOf(true);
  const attemptItems = attempts.map((a, i) => {
    const lines = multi ? logsOfAttempt(mine, selected, a, now) : [];
    for (const l of lines) claimed.add(l);
    return h('li', { 'data-attempt': a.attempt, 'data-generation': a.generation },
      h('h4', {}, `Attempt ${a.attempt}`, run.generation > 0 ? ` · gen ${a.generation}` : '', ' ', badge(a.outcome)),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(a.startedAt)),
        h('dt', {}, 'Ended'), h('dd', {}, a.finishedAt ? fmtTime(a.finishedAt) : a.outcome === 'running' ? 'still running' : '—'),
        h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(a.durationMs ?? (a.finishedAt ? Date.parse(a.finishedAt) - Date.parse(a.startedAt) : undefined))),
        h('dt', {}, 'Worker'), h('dd', { class: 'attempt-worker' }, a.worker || '—'),
        h('dt', {}, 'Code version'), h('dd', { class: 'attempt-code' }, a.codeVersion || '—')),
      a.error ? errorBlock(a.error, i === lastFailed ? 'step-error' : `step-error-${i}`) : null,
      logBlock(lines, `Logs of attempt ${a.attempt}`, i === attempts.length - 1));
  });
  // An error no attempt carries (a map step failed by its items, a job that died for good) is still shown once.
  const loose = st.error && !attempts.some((a) => a.error?.message === st.error.message) ? st.error : undefined;
  const unclaimed = mine.filter((l) => !claimed.has(l));
  const instance = parseInstance(selected);
  const items = Object.keys(run.steps).filter((n) => parseInstance(n)?.base === selected);
  put(detail,
    h('h2', {}, 'Step ', h('span', { id: 'detail-step' }, selected), ' ', badge(shown)),
    instance ? h('p', {}, 'Item ', String(instance.index), ' of map step ', h('button', { type: 'button', class: 'small', 'data-select': instance.base, 'data-focus-key': `select:${instance.base}` }, instance.base)) : null,
    st.waiting ? h('p', { class: 'waiting-note', id: 'step-waiting' }, `⌛ ${st.waiting}`, st.waitingSince ? ` since ${fmtTime(st.waitingSince)}` : '') : null,
    st.status === 'skipped' ? skipWhy(st) : null,
    h('dl', { class: 'kv' },
      h('dt', {}, 'Status'), h('dd', {}, statusWords(shown)),
      h('dt', {}, 'Queue'), h('dd', {}, st.queue ?? '—'),
      h('dt', {}, 'Attempts'), h('dd', {}, String(st.attempts), st.handBacks ? ` (handed back ${st.handBacks}×)` : ''),
      h('dt', {}, 'Started'), h('dd', {}, fmtTime(st.startedAt)),
      h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(st.durationMs)),
      items.length ? [h('dt', {}, 'Items'), h('dd', {}, summariseMap(items.map((n) => ({ name: n, index: parseInstance(n).index, st: run.steps[n] }))).words)] : null,
      st.resources ? [h('dt', {}, 'CPU / RSS'), h('dd', {}, `${fmtDuration(st.resources.cpuMs)} / ${(st.resources.rssBytes / 1048576).toFixed(0)} MiB`)] : null),
    loose ? [h('h3', {}, 'Error'), errorBlock(loose, lastFailed < 0 ? 'step-error' : 'step-error-step')] : null,
    st.output !== undefined ? [h('h3', {}, 'Output'), h('pre', { id: 'step-output', tabindex: '0', 'aria-label': 'Step output' }, pretty(st.output))] : null,
    h('h3', {}, `Attempts (${attempts.length})`),
    attempts.length ? h('ol', { class: 'attempts', id: 'step-attempts' }, attemptItems) : h('p', { class: 'muted' }, 'Not started.'),
    h('h3', {}, multi ? 'Other log lines ' : 'Logs ', h('span', { class: 'muted' }, live ? '(live)' : '')),
    h('pre', { class: 'logs', id: 'step-logs', tabindex: '0', 'aria-label': 'Step logs' }, unclaimed.length ? unclaimed.map(logLine) : multi && mine.length ? 'All lines are listed under their attempt.' : 'No log lines.'),
  );
}

const logLine = (l) => h('div', { class: `log-${l.level}` }, `${new Date(l.t).toISOString().slice(11, 23)} ${l.level.padEnd(5)} ${l.msg}${l.fields ? ` ${JSON.stringify(l.fields)}` : ''}`);

function logBlock(lines, label, open) {
  if (!lines.length) return null;
  return h('details', { class: 'frames', open }, h('summary', {}, `${label} (${lines.length} lines)`), h('pre', { class: 'logs', tabindex: '0', 'aria-label': label }, lines.map(logLine)));
}

/** name: message and the user's frames; Node, dependencies and Conveyor's own frames folded. */
function errorBlock(error, id) {
  const { head, user, internal } = foldFrames(error.stack || '');
  const title = `${error.name ?? 'Error'}: ${error.message}`;
  const first = head && head.includes(error.message) ? head : title;
  return h('div', { class: 'step-error' },
    h('pre', { id, class: 'error-text', tabindex: '0', 'aria-label': 'Error' }, [first, ...user].join('\n')),
    internal.length
      ? h('details', { class: 'frames' }, h('summary', {}, `${internal.length} internal frames (Node, dependencies, Conveyor)`), h('pre', { tabindex: '0', 'aria-label': 'Internal frames' }, internal.join('\n')))
      : null);
}

/** Which kind of skip, under which rule, and how each upstream step stood. */
function skipWhy(st) {
  const kinds = {
    condition: 'its own `if` condition returned false',
    'upstream-failed': 'an upstream step failed',
    'upstream-skipped': 'an upstream step was skipped',
    'trigger-rule': 'its trigger rule was not met',
  };
  const culprit = (u) => (st.skip === 'upstream-failed' ? u.status === 'failed' || u.status === 'skipped-by-failure' : st.skip === 'upstream-skipped' ? u.status === 'skipped' : false);
  return h('div', { class: 'skip-why', id: 'skip-why' },
    h('p', {}, h('strong', {}, 'Skipped: '), kinds[st.skip] ?? st.reason ?? 'skipped',
      st.reason && st.reason !== kinds[st.skip] ? ` — ${st.reason}` : '',
      st.runWhen ? ` (runWhen: ${st.runWhen})` : ''),
    st.upstream?.length
      ? h('ul', { 'aria-label': 'Upstream steps' }, st.upstream.map((u) => h('li', { 'data-upstream': u.step },
        h('button', { type: 'button', class: 'small', 'data-select': u.step, 'data-focus-key': `select:${u.step}` }, u.step), ' ', u.status, culprit(u) ? ' ← cause' : '')))
      : null);
}
