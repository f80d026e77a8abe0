// Small DOM and API helpers. Every value from the API is set as text, never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** h('a', { href: '#/x', class: 'y', onclick }, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  return fill(el, attrs, children);
}
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}
function fill(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    // Through the CSSOM: the CSP forbids style attributes in markup, not styles set from script.
    else if (key === 'style') el.style.cssText = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const TOKEN_KEY = 'conveyor.token';
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** JSON call to /api/v1; a 401 sends the user to the token form. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (response.status === 401) window.dispatchEvent(new CustomEvent('conveyor:unauthorized'));
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

/**
 * Server-Sent Events over fetch (EventSource cannot send an Authorization header).
 * Returns a function that closes the stream.
 */
/**
 * Follows a server-sent event stream. A stream that breaks before its `end` event (a network drop,
 * an API restart, the server's `error` event) is opened again after a growing pause (1 s … 10 s),
 * from the last log line received (`logOffset`), so the page neither freezes nor repeats lines.
 * A refusal of the first request (401, 404) goes to `onError` and is not retried.
 */
export function stream(path, onEvent, onError = () => {}) {
  const controller = new AbortController();
  let logOffset;
  let ended = false;
  let first = true;
  const once = async () => {
    const headers = { accept: 'text/event-stream' };
    const t = token.get();
    if (t) headers.authorization = `Bearer ${t}`;
    const url = `/api/v1${path}${logOffset !== undefined ? `${path.includes('?') ? '&' : '?'}logOffset=${logOffset}` : ''}`;
    const response = await fetch(url, { headers, signal: controller.signal });
    if (!response.ok || !response.body) {
      if (first) {
        ended = true;
        onError(new ApiError(response.status, await response.json().catch(() => undefined)));
      }
      return;
    }
    first = false;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        if (event === 'log' && id !== undefined) logOffset = Number(id);
        if (event === 'end') ended = true;
        if (event === 'error') return; // the server gave up on this stream: open a new one
        if (event && data) onEvent(event, JSON.parse(data));
      }
    }
  };
  (async () => {
    for (let pause = 1000; !ended && !controller.signal.aborted; pause = Math.min(pause * 2, 10_000)) {
      await once().catch(() => {});
      if (ended || controller.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  })();
  return () => controller.abort();
}

// Keep in step with the .badge::before icons in styles.css.
const ICONS = { succeeded: '✓', failed: '✗', running: '▶', retrying: '↻', queued: '…', pending: '○', skipped: '⤼', cancelled: '⊘' };
/** A symbol per status, so status is never told by colour alone (shown beside or instead of the word). */
export function statusIcon(status) {
  return ICONS[status] ?? '•';
}

export function badge(status) {
  // The icon comes from styles.css (::before, empty alt text): the badge's text stays the status word.
  return h('span', { class: `badge s-${status}` }, status);
}

/**
 * Re-renders `container` with `render()` and puts keyboard focus back where it was: on the element
 * with the same `data-focus-key` (or id), so live updates never drop a keyboard user to <body>.
 * When that element is gone (the action was used up), focus goes to `fallback`. Scroll offsets of
 * scrollable children with an id are kept too.
 */
export function keepFocus(container, render, fallback) {
  const active = document.activeElement;
  const inside = active && active !== container && container.contains(active);
  const key = inside ? active.dataset?.focusKey ?? (active.id ? `#${active.id}` : null) : null;
  const scrolls = [...container.querySelectorAll('[id]')].filter((el) => el.scrollTop > 0).map((el) => [el.id, el.scrollTop]);
  render();
  for (const [id, top] of scrolls) {
    const el = document.getElementById(id);
    if (el) el.scrollTop = top;
  }
  if (!inside || container.contains(active)) return;
  const target = key?.startsWith('#') ? container.querySelector(`[id="${CSS.escape(key.slice(1))}"]`) : key ? container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`) : null;
  (target ?? fallback ?? container.closest('[tabindex]') ?? container).focus({ preventScroll: true });
}

export function fmtDuration(ms) {
  if (ms === undefined || ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  const sec = ms / 1000;
  if (sec < 60) return `${sec.toFixed(1)} s`;
  const min = Math.floor(sec / 60);
  return min < 60 ? `${min} min ${Math.round(sec % 60)} s` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** 'utc' or 'local' (the browser's zone); the header button switches it, the choice is remembered. */
export function timeZoneMode() {
  return localStorage.getItem('conveyor.tz') === 'utc' ? 'utc' : 'local';
}
export function setTimeZoneMode(mode) {
  localStorage.setItem('conveyor.tz', mode);
}

/** A time with its zone always written out (e.g. "3/1/26, 10:00:05 UTC" or "…GMT+1"). */
export function fmtTime(iso, zone) {
  if (!iso) return '—';
  const d = new Date(iso);
  const timeZone = zone ?? (timeZoneMode() === 'utc' ? 'UTC' : undefined);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone, timeZoneName: 'short' });
}

export function toast(message) {
  const box = document.getElementById('toast');
  const item = h('div', {}, message);
  box.append(item);
  setTimeout(() => item.remove(), 4000);
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/**
 * A modal confirmation with optional fields; resolves to the field values, or null when cancelled.
 * `fields`: [{ name, label, value, type: 'text'|'textarea'|'select', options, required }]
 */
export function confirmDialog({ title, text, fields = [], confirm = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const inputs = {};
    const form = h('form', { method: 'dialog' },
      h('h2', {}, title),
      text ? h('p', {}, text) : null,
      fields.map((f) => {
        const id = `dlg-${f.name}`;
        const input = f.type === 'textarea'
          ? h('textarea', { id, name: f.name, rows: 3, required: f.required, cols: 40 }, f.value ?? '')
          : f.type === 'select'
            ? h('select', { id, name: f.name }, f.options.map((o) => h('option', { value: o.value, selected: o.value === f.value }, o.label)))
            : h('input', { id, name: f.name, value: f.value ?? '', required: f.required });
        inputs[f.name] = input;
        return h('div', { class: 'field' }, h('label', { for: id }, f.label), input);
      }),
      h('div', { class: 'row' },
        h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirm),
        h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel')));
    const dialog = h('dialog', { 'aria-label': title }, form);
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      dialog.remove();
      resolve(ok ? Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value])) : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** replaceChildren that accepts nested arrays and skips null/false (conditional parts of a view). */
export function put(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
}
