import { api, fmtDuration, fmtTime, h, put } from './util.js';

export async function queuesPage(main) {
  const queuesBody = h('tbody');
  const workersBody = h('tbody');
  put(main, 
    h('h1', {}, 'Queues & workers'),
    h('section', { class: 'panel table-wrap' }, h('h2', {}, 'Queues'), h('table', { id: 'queues' },
      h('thead', {}, h('tr', {}, ['Queue', 'Waiting', 'Active', 'Delayed', 'Failed', 'Oldest waiting'].map((c) => h('th', {}, c)))), queuesBody)),
    h('section', { class: 'panel table-wrap' }, h('h2', {}, 'Live workers'), h('table', { id: 'workers' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Worker'), h('th', {}, 'Queues'), h('th', {}, 'Running'), h('th', { class: 'hide-narrow' }, 'Pipelines'), h('th', { class: 'hide-narrow' }, 'Last seen'))), workersBody)),
  );
  const load = async () => {
    const [queues, workers] = await Promise.all([api('GET', '/queues'), api('GET', '/workers')]);
    put(queuesBody, ...queues.items.map((q) => h('tr', {},
      h('td', {}, q.name), h('td', {}, String(q.waiting + q.prioritized)), h('td', {}, String(q.active)), h('td', {}, String(q.delayed)),
      h('td', {}, String(q.failed)), h('td', {}, q.oldestWaitingAgeMs ? fmtDuration(q.oldestWaitingAgeMs) : '—'))));
    put(workersBody, ...(workers.items.length ? workers.items.map((w) => h('tr', {},
      h('td', {}, w.id, h('div', { class: 'muted' }, `${w.host} pid ${w.pid}`)), h('td', {}, w.queues.join(', ')), h('td', {}, String(w.running)),
      h('td', { class: 'hide-narrow' }, w.pipelines.map((p) => `${p.id}@${p.hash.slice(0, 8)}`).join(', ')),
      h('td', { class: 'hide-narrow' }, fmtTime(new Date(w.lastSeen).toISOString())))) : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No live workers.'))]));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}
