import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Every PromQL expression in the dashboard (panel targets and template variables). */
export function dashboardExprs(): Array<{ where: string; expr: string }> {
  const dash = JSON.parse(readFileSync('deploy/grafana/dashboards/conveyor.json', 'utf8')) as {
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; query: { query: string } }> };
  };
  return [
    ...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
    ...dash.templating.list.map((v) => ({ where: `variable $${v.name}`, expr: v.query.query })),
  ];
}

export function alertExprs(): Array<{ where: string; expr: string }> {
  const doc = parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
}

