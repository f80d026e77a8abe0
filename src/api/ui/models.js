import { api, confirmDialog, fmtTime, h, s, toast, put } from './util.js';

export async function modelsList(main) {
  const models = await api('GET', '/models');
  put(main, 
    h('h1', {}, 'Models'),
    h('div', { class: 'panel table-wrap' }, models.items.length ? h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Model'), h('th', {}, 'Latest'), h('th', {}, 'Aliases'), h('th', { class: 'hide-narrow' }, 'Updated'))),
      h('tbody', {}, models.items.map((m) => h('tr', {},
        h('td', {}, h('a', { href: `#/models/${m.name}` }, m.name)),
        h('td', {}, `v${m.latestVersion}`),
        h('td', {}, Object.entries(m.aliases).map(([a, v]) => `${a} → v${v}`).join(', ') || '—'),
        h('td', { class: 'hide-narrow' }, fmtTime(m.updatedAt))))))
      : h('p', { class: 'muted' }, 'No models registered yet.')),
  );
}

export async function modelPage(main, name) {
  const [model, versions, history] = await Promise.all([
    api('GET', `/models/${name}`),
    api('GET', `/models/${name}/versions?limit=200`),
    api('GET', `/models/${name}/history?limit=100`),
  ]);
  const metricNames = [...new Set(versions.items.flatMap((v) => Object.keys(v.metrics)))].sort();
  const chartBox = h('div');
  const metricSelect = h('select', { id: 'metric', onchange: () => drawChart() }, metricNames.map((m) => h('option', { value: m }, m)));
  const drawChart = () => put(chartBox, metricChart(versions.items, metricSelect.value, model.aliases));
  const byVersion = new Map();
  for (const [alias, v] of Object.entries(model.aliases)) byVersion.set(v, [...(byVersion.get(v) ?? []), alias]);

  const promote = async (version) => {
    const values = await confirmDialog({
      title: `Promote ${name} v${version}`,
      text: 'Moves the alias to this version; the move and its reason go to the audit log.',
      fields: [
        { name: 'alias', label: 'Alias', value: 'production', required: true },
        { name: 'reason', label: 'Reason', type: 'textarea', required: true },
      ],
      confirm: 'Promote',
    });
    if (!values) return;
    try {
      await api('POST', `/models/${name}/aliases/${values.alias}`, { version, reason: values.reason, expectedVersion: model.aliases[values.alias] ?? null });
      toast(`${values.alias} → v${version}`);
      await modelPage(main, name);
      refocus(main, `promote-${version}`);
    } catch (error) {
      toast(error.message);
    }
  };
  const rollback = async (alias) => {
    const values = await confirmDialog({
      title: `Roll back ${name}@${alias}`,
      text: 'Moves the alias back to where it pointed before its last move.',
      fields: [{ name: 'reason', label: 'Reason', type: 'textarea', required: true }],
      confirm: 'Roll back',
      danger: true,
    });
    if (!values) return;
    try {
      const entry = await api('POST', `/models/${name}/aliases/${alias}/rollback`, { reason: values.reason });
      toast(`${alias} → ${entry.to === null ? 'unset' : `v${entry.to}`}`);
      await modelPage(main, name);
      refocus(main, `rollback-${alias}`);
    } catch (error) {
      toast(error.message);
    }
  };

  put(main, 
    h('h1', {}, 'Model ', name),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', {}, 'Aliases'),
        Object.keys(model.aliases).length ? h('table', { id: 'aliases' }, h('tbody', {}, Object.entries(model.aliases).map(([alias, v]) => h('tr', { 'data-alias': alias },
          h('td', {}, h('strong', {}, alias)), h('td', { class: 'alias-version' }, `v${v}`),
          h('td', {}, h('button', { type: 'button', 'data-focus-key': `rollback-${alias}`, 'aria-label': `Roll back ${name}@${alias} (now v${v})`, onclick: () => rollback(alias) }, 'Roll back'))))))
          : h('p', { class: 'muted' }, 'No aliases set.')),
      h('section', { class: 'panel' }, h('h2', {}, 'Metric over versions'),
        metricNames.length ? h('div', {}, h('label', { for: 'metric' }, 'Metric'), metricSelect, chartBox) : h('p', { class: 'muted' }, 'No metrics recorded.'))),
    h('section', { class: 'panel table-wrap' }, h('h2', {}, 'Versions'), h('table', { id: 'versions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Metrics'), h('th', { class: 'hide-narrow' }, 'Lineage'), h('th', { class: 'hide-narrow' }, 'Created'), h('th', {}, ''))),
      h('tbody', {}, versions.items.map((v) => h('tr', { 'data-version': v.version },
        h('td', {}, `v${v.version} `, (byVersion.get(v.version) ?? []).map((a) => h('span', { class: 'badge s-succeeded' }, a))),
        h('td', {}, Object.entries(v.metrics).map(([k, x]) => `${k} ${Number(x).toFixed(3)}`).join(', ')),
        h('td', { class: 'hide-narrow' }, v.lineage ? h('a', { href: `#/runs/${v.lineage.runId}` }, `${v.lineage.runId} / ${v.lineage.step}`) : '—'),
        h('td', { class: 'hide-narrow' }, fmtTime(v.createdAt)),
        h('td', {}, h('button', { type: 'button', class: 'promote', 'data-focus-key': `promote-${v.version}`, 'aria-label': `Promote ${name} v${v.version}…`, onclick: () => promote(v.version) }, 'Promote…'))))))),
    h('section', { class: 'panel table-wrap' }, h('h2', {}, 'Audit history'), h('table', { id: 'history' },
      h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Action'), h('th', {}, 'Alias'), h('th', {}, 'Move'), h('th', {}, 'Actor'), h('th', {}, 'Reason'))),
      h('tbody', {}, history.items.map((e) => h('tr', {},
        h('td', {}, fmtTime(e.at)), h('td', {}, e.action), h('td', {}, e.alias),
        h('td', {}, `${e.from === null ? '—' : `v${e.from}`} → ${e.to === null ? '—' : `v${e.to}`}`),
        h('td', {}, e.actor), h('td', {}, e.reason)))))),
  );
  if (metricNames.length) drawChart();
}

/** After the page is rebuilt, focus goes back to the button that was used (the dialog had it before). */
function refocus(main, key) {
  (main.querySelector(`[data-focus-key="${key}"]`) ?? main).focus();
}

/** A line chart of one metric across versions (x: version, oldest left), aliases marked. */
function metricChart(versions, metric, aliases) {
  const points = versions.filter((v) => typeof v.metrics[metric] === 'number').map((v) => ({ v: v.version, y: v.metrics[metric] })).sort((a, b) => a.v - b.v);
  const W = 420, H = 180, L = 44, R = 40, T = 20, B = 28;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${metric} by version` });
  if (!points.length) return svg;
  let lo = Math.min(...points.map((p) => p.y)), hi = Math.max(...points.map((p) => p.y));
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const vMin = points[0].v, vMax = Math.max(points.at(-1).v, vMin + 1);
  const x = (v) => L + ((v - vMin) / (vMax - vMin)) * (W - L - R);
  const y = (val) => T + (1 - (val - lo) / (hi - lo)) * (H - T - B);
  svg.append(
    s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
    s('text', { x: L - 4, y: y(hi) + 4, 'text-anchor': 'end' }, hi.toFixed(3)),
    s('text', { x: L - 4, y: y(lo) + 4, 'text-anchor': 'end' }, lo.toFixed(3)),
    s('polyline', { points: points.map((p) => `${x(p.v)},${y(p.y)}`).join(' ') }),
  );
  const aliasAt = new Map(Object.entries(aliases).map(([a, v]) => [v, a]));
  for (const p of points) {
    svg.append(s('circle', { cx: x(p.v), cy: y(p.y), r: 4 }, s('title', {}, `v${p.v}: ${p.y}`)),
      s('text', { x: x(p.v), y: H - B + 14, 'text-anchor': 'middle' }, `v${p.v}`));
    if (aliasAt.has(p.v)) svg.append(s('text', { x: x(p.v), y: y(p.y) - 8, 'text-anchor': 'middle' }, aliasAt.get(p.v)));
  }
  return svg;
}
