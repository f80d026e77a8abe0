import type { CheckResult } from './checks.ts';
import type { DriftMethod, FeatureDrift } from './feature-drift.ts';
import type { DataSource } from './rows.ts';

export interface InvalidExample {
  line: number;
  kind: 'parse' | 'schema';
  messages: string[];
}

export interface DriftReport {
  reference: { path: string; format: string; rows: number };
  features: FeatureDrift[];
  driftedFeatures: string[];
  /** drifted / features that had values on both sides. */
  driftedShare: number;
  /** The dataset counts as drifted when driftedShare ≥ this. */
  datasetThreshold: number;
  drifted: boolean;
  settings: { psiThreshold: number; ksPValue: number; bins: number; method: DriftMethod; sampleSize: number; seed: number; epsilon: number };
  /** True when any numeric feature had more values than `sampleSize`, so its KS figures come from a reservoir sample. */
  sampled: boolean;
}

export interface DataReport {
  /** A short name for figures and headings (option `dataset`, default the file's base name). */
  dataset: string;
  source: DataSource;
  /** 'failed' when an error-severity check failed, 'warned' when only warnings did. */
  status: 'passed' | 'warned' | 'failed';
  passed: boolean;
  rows: { read: number; valid: number; invalid: number };
  invalid: { count: number; parseErrors: number; schemaErrors: number; examples: InvalidExample[] };
  columns: { name: string; present: number; missing: number; nullRate: number }[];
  checks: CheckResult[];
  drift: DriftReport | null;
  notes: string[];
}

export type FigureMetric = 'null_rate' | 'drift_psi' | 'drift_ks' | 'check_passed';

export interface ReportFigure {
  metric: FigureMetric;
  dataset: string;
  feature?: string;
  check?: string;
  value: number;
}

/**
 * The report as flat figures for monitoring (one Prometheus gauge per metric, labelled by dataset and
 * feature/check): null rate per column, PSI and KS D per drift feature, 1/0 per check.
 */
export function reportFigures(report: DataReport): ReportFigure[] {
  const dataset = report.dataset;
  const out: ReportFigure[] = [];
  for (const c of report.columns) out.push({ metric: 'null_rate', dataset, feature: c.name, value: c.nullRate });
  for (const f of report.drift?.features ?? []) {
    if (f.psi !== null) out.push({ metric: 'drift_psi', dataset, feature: f.feature, value: f.psi });
    if (f.ks !== null) out.push({ metric: 'drift_ks', dataset, feature: f.feature, value: f.ks.d });
  }
  for (const c of report.checks) out.push({ metric: 'check_passed', dataset, check: c.name, value: c.passed ? 1 : 0 });
  return out;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const num = (x: number | null, digits = 4): string => (x === null || Number.isNaN(x) ? '—' : Number(x.toFixed(digits)).toString());

/** The readable artifact of a validation run: status first, then what failed and why, then the detail. */
export function renderReportMarkdown(report: DataReport): string {
  const icon = { passed: '✅', warned: '⚠️', failed: '❌' }[report.status];
  const lines: string[] = [];
  lines.push(`# Data validation: ${report.dataset} — ${icon} ${report.status}`, '');
  lines.push(`Source: \`${report.source.path}\` (${report.source.format})  `);
  lines.push(`Rows: ${report.rows.read} read, ${report.rows.valid} valid, ${report.rows.invalid} invalid`, '');

  const failing = report.checks.filter((c) => !c.passed);
  if (failing.length) {
    lines.push('## Failed checks', '');
    for (const c of failing) lines.push(`- **${c.severity}** \`${c.name}\`: ${cell(c.message)}`);
    lines.push('');
  }

  lines.push('## Checks', '', '| check | severity | result | observed | expected |', '| --- | --- | --- | --- | --- |');
  for (const c of report.checks) {
    const observed = typeof c.observed === 'number' ? num(c.observed) : (c.observed ?? '—');
    lines.push(`| ${cell(c.name)} | ${c.severity} | ${c.passed ? 'pass' : 'FAIL'} | ${cell(String(observed))} | ${cell(c.expected)} |`);
  }
  lines.push('');

  if (report.invalid.count) {
    lines.push(`## Invalid records (${report.invalid.count}: ${report.invalid.parseErrors} unparsable, ${report.invalid.schemaErrors} against the schema)`, '');
    for (const e of report.invalid.examples) lines.push(`- line ${e.line} (${e.kind}): ${cell(e.messages.join('; '))}`);
    if (report.invalid.count > report.invalid.examples.length) lines.push(`- … ${report.invalid.count - report.invalid.examples.length} more`);
    lines.push('');
  }

  if (report.drift) {
    const d = report.drift;
    lines.push(
      `## Drift against \`${d.reference.path}\` — ${d.drifted ? 'drifted' : 'no dataset drift'}`,
      '',
      `${d.driftedFeatures.length} of ${d.features.length} features drifted (share ${num(d.driftedShare, 3)}; dataset threshold ${d.datasetThreshold}). ` +
        `PSI threshold ${d.settings.psiThreshold}, KS p-value ${d.settings.ksPValue}, ${d.settings.bins} quantile bins, rule "${d.settings.method}".`,
      '',
      '| feature | type | PSI | KS D | KS p | drifted | verdict |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const f of d.features) {
      lines.push(
        `| ${cell(f.feature)} | ${f.type} | ${num(f.psi)} | ${num(f.ks?.d ?? null)} | ${f.ks ? f.ks.pValue.toPrecision(3) : '—'} | ${f.drifted ? 'yes' : 'no'} | ${cell(f.verdict)} |`,
      );
    }
    lines.push('');
  }

  lines.push('## Columns', '', '| column | present | missing | null rate |', '| --- | --- | --- | --- |');
  for (const c of report.columns) lines.push(`| ${cell(c.name)} | ${c.present} | ${c.missing} | ${num(c.nullRate)} |`);
  lines.push('');

  if (report.notes.length) {
    lines.push('## Notes', '');
    for (const n of report.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  return lines.join('\n');
}
