import { modelPage, modelsList } from './models.js';
import { pipelinePage, pipelinesList } from './pipelines.js';
import { queuesPage } from './queues.js';
import { runPage, runsList } from './runs.js';
import { api, ApiError, h, token, put, setTimeZoneMode, timeZoneMode } from './util.js';

const root = document.getElementById('main');
let cleanup = () => {};
let generation = 0;

// Times in UTC or the browser's zone; switching re-renders the current view.
const zoneButton = document.getElementById('time-zone');
const showZone = () => {
  const mode = timeZoneMode();
  zoneButton.textContent = mode === 'utc' ? 'Times: UTC (switch to local)' : 'Times: local (switch to UTC)';
};
showZone();
zoneButton.addEventListener('click', () => {
  setTimeZoneMode(timeZoneMode() === 'utc' ? 'local' : 'utc');
  showZone();
  route();
});

/** Hash routes: #/runs, #/runs/<id>, #/pipelines, #/pipelines/<id>, #/models, #/models/<name>, #/queues */
async function route() {
  cleanup();
  cleanup = () => {};
  // Each route renders into its own container: a slower earlier route (a run page still waiting for
  // its stream) then writes into a detached one instead of over the page the user moved on to.
  const mine = ++generation;
  const main = document.createElement('div');
  main.className = 'view';
  main.append(h('p', { class: 'muted' }, 'Loading…'));
  root.replaceChildren(main);
  const [path, queryString] = (location.hash.slice(1) || '/runs').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(queryString ?? '');
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === parts[0]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    let done;
    if (parts[0] === 'runs' && parts[1]) done = await runPage(main, parts[1], query);
    else if (parts[0] === 'pipelines' && parts[1]) done = await pipelinePage(main, parts[1]);
    else if (parts[0] === 'pipelines') done = await pipelinesList(main);
    else if (parts[0] === 'models' && parts[1]) done = await modelPage(main, parts[1]);
    else if (parts[0] === 'models') done = await modelsList(main);
    else if (parts[0] === 'queues') done = await queuesPage(main);
    else done = await runsList(main, query);
    if (mine !== generation) {
      if (typeof done === 'function') done();
      return;
    }
    if (typeof done === 'function') cleanup = done;
    document.title = `Conveyor · ${parts.join(' / ') || 'runs'}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    if (mine !== generation) return;
    put(main, h('h1', {}, 'Something went wrong'), h('p', { class: 'form-error', role: 'alert' }, error.message));
  }
}

function signIn(message) {
  cleanup();
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, size: 40 });
  const form = h('form', { class: 'panel', onsubmit: (e) => {
    e.preventDefault();
    token.set(input.value.trim());
    document.getElementById('signout').hidden = false;
    void route();
  } },
  h('h1', {}, 'Sign in'),
  h('p', {}, message),
  h('div', { class: 'field' }, h('label', { for: 'token' }, 'API token'), input),
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  generation++;
  put(root, form);
  input.focus();
}

window.addEventListener('conveyor:unauthorized', () => {
  const had = token.get();
  token.clear();
  signIn(had ? 'That token was not accepted. Enter an admin or read-only API token.' : 'Enter your Conveyor API token (CONVEYOR_API_TOKEN or a read-only token).');
});
window.addEventListener('hashchange', () => {
  void route();
  root.focus({ preventScroll: true });
});
document.getElementById('signout').addEventListener('click', () => {
  token.clear();
  location.reload();
});
document.getElementById('signout').hidden = !token.get();
// A probe first: with --insecure-local no token is needed and the sign-in form never shows.
api('GET', '/pipelines').then(
  () => route(),
  (error) => {
    if (!(error instanceof ApiError && error.status === 401)) void route();
  },
);
