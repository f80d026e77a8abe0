// A run's artifacts on its page: a list with View (as plain text, never parsed as HTML) and Download.
import { ApiError, api, h, put, token } from './util.js';

/** Fetches an artifact's bytes with the session's token (a plain link could not send it). */
async function fetchArtifact(runId, name, download) {
  const headers = {};
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  const response = await fetch(`/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(name)}${download ? '?download=1' : ''}`, { headers });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => undefined));
  return response;
}

const TEXT = /^(text\/|application\/json)/;

function fmtBytes(n) {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

/** The panel; `refresh()` re-reads the list (after the run's steps finish, new artifacts may exist). */
export function artifactsPanel(runId) {
  const list = h('ul', { class: 'artifacts', id: 'artifacts' });
  const viewer = h('div', { id: 'artifact-viewer', 'aria-live': 'polite' });
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'artifacts-title' }, h('h2', { id: 'artifacts-title' }, 'Artifacts'), list, viewer);
  let shown = '';
  const view = async (item) => {
    try {
      const text = await (await fetchArtifact(runId, item.name, false)).text();
      // Set as text: markup in a report (HTML in Markdown) is shown, never run.
      put(viewer, h('h3', {}, item.name), h('pre', { class: 'artifact-view', id: 'artifact-text', tabindex: '0', 'aria-label': `Contents of ${item.name}` }, text));
      viewer.querySelector('pre').focus();
    } catch (error) {
      put(viewer, h('p', { class: 'form-error', role: 'alert' }, error.message));
    }
  };
  const download = async (item) => {
    try {
      const blob = await (await fetchArtifact(runId, item.name, true)).blob();
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: item.name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      put(viewer, h('p', { class: 'form-error', role: 'alert' }, error.message));
    }
  };
  const refresh = async () => {
    const { items } = await api('GET', `/runs/${encodeURIComponent(runId)}/artifacts`);
    const sig = JSON.stringify(items);
    if (sig === shown) return; // unchanged: keep the elements (and keyboard focus) as they are
    shown = sig;
    if (!items.length) return put(list, h('li', { class: 'muted' }, 'No artifacts.'));
    put(list, items.map((item) => h('li', { 'data-artifact': item.name },
      h('strong', {}, item.name), ' ', h('span', { class: 'muted' }, `${item.step} · ${fmtBytes(item.bytes)}`), ' ',
      TEXT.test(item.contentType) ? h('button', { type: 'button', 'aria-label': `View ${item.name}`, onclick: () => view(item) }, 'View') : null, ' ',
      h('button', { type: 'button', 'aria-label': `Download ${item.name}`, onclick: () => download(item) }, 'Download'))));
  };
  return { panel, refresh };
}
