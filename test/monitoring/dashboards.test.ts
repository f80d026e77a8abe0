import { readFileSync } from 'node:fs';
import test from 'ava';
import { MetricsHub } from '../../src/monitoring/metrics-hub.ts';
import { parseExposition } from './exposition.ts';
import { alertExprs, dashboardExprs } from './dashboard-exprs.ts';

const TARGET_LABELS = ['job', 'instance'];
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Metric names in an expression, and the label names its selectors filter on. */
function selectors(expr: string): Array<{ name: string; labels: string[] }> {
  const out: Array<{ name: string; labels: string[] }> = [];
  for (const m of expr.matchAll(/\b(conveyor_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    out.push({ name: m[1]!, labels });
  }
  return out;
}

async function exposedFamilies(): Promise<{ families: Map<string, string>; labelsOf: (name: string) => string[] }> {
  const hub = new MetricsHub({ sampleMemory: false });
  const text = await hub.metrics();
  const labelsOf = (name: string) => {
    const metric = hub.registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
    return metric?.labelNames ?? [];
  };
  hub.close();
  return { families: parseExposition(text).families, labelsOf };
}

for (const [source, exprs] of [['Grafana dashboard', dashboardExprs], ['Prometheus alert rules', alertExprs]] as const) {
  test(`every metric and label the ${source} queries exists in the exposition`, async (t) => {
    const { families, labelsOf } = await exposedFamilies();
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const { where, expr } of exprs()) {
      const found = selectors(expr);
      if (found.length === 0) problems.push(`${where}: no conveyor_ metric in "${expr}"`);
      for (const { name, labels } of found) {
        seen.add(name);
        const family = families.has(name) ? name : name.replace(HISTOGRAM_SUFFIX, '');
        const type = families.get(family);
        if (!type) {
          problems.push(`${where}: ${name} is not exposed`);
          continue;
        }
        if (family !== name && type !== 'histogram') problems.push(`${where}: ${name} used as a histogram series but ${family} is a ${type}`);
        const known = labelsOf(family);
        // job and instance are target labels Prometheus adds to every series it scrapes.
        for (const label of labels) if (!known.includes(label) && !TARGET_LABELS.includes(label)) problems.push(`${where}: ${family} has no label "${label}" (has: ${known.join(', ') || 'none'})`);
      }
    }
    t.deepEqual(problems, []);
    t.true(seen.size >= (source === 'Grafana dashboard' ? 25 : 6), `only ${seen.size} metrics found: the extractor is broken`);
  });
}

test('the checker catches a dangling metric and a wrong label', async (t) => {
  const { families, labelsOf } = await exposedFamilies();
  const [bad] = selectors('sum(rate(conveyor_runs_finishd_total[5m]))');
  t.false(families.has(bad!.name));
  const [wrongLabel] = selectors('conveyor_queue_jobs{queu="default"}');
  t.false(labelsOf(wrongLabel!.name).includes(wrongLabel!.labels[0]!));
});

test('the dashboard has the panels the README describes', (t) => {
  const dash = JSON.parse(readFileSync('deploy/grafana/dashboards/conveyor.json', 'utf8')) as { panels: Array<{ title: string; type: string; gridPos: { y: number } }> };
  const rows = dash.panels.filter((p) => p.type === 'row').map((p) => p.title);
  t.deepEqual(rows, ['Runs', 'Steps', 'Queues and workers', 'Resources', 'Models', 'Data quality']);
  const titles = dash.panels.map((p) => p.title);
  for (const title of ['Model accuracy over time', 'Drift (PSI) per feature', 'Worker CPU', 'Worker memory (RSS)', 'Queue depth (waiting)', 'Live workers']) t.true(titles.includes(title), title);
});

test('declared pipelines start their labelled counters at 0 (panels show 0, not "No data")', async (t) => {
  const hub = new MetricsHub({ sampleMemory: false, defaultMetrics: false });
  hub.declarePipelines([{ id: 'etl', steps: ['load', 'fit'], schedules: ['nightly'] }]);
  const exp = parseExposition(await hub.metrics());
  hub.close();
  const value = (name: string, labels: Record<string, string>) => exp.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  t.is(value('conveyor_runs_finished_total', { pipeline: 'etl', status: 'failed' }), 0);
  t.is(value('conveyor_runs_started_total', { pipeline: 'etl', trigger: 'manual' }), 0);
  t.is(value('conveyor_step_retries_total', { pipeline: 'etl', step: 'fit' }), 0);
  t.is(value('conveyor_scheduler_ticks_skipped_total', { pipeline: 'etl', schedule: 'nightly', reason: 'overlap' }), 0);
  t.is(value('conveyor_scheduler_errors_total', { kind: 'tick' }), 0);
});
