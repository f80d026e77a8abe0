import type { RunView } from '../app/index.ts';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

const STATUS_MARK: Record<string, string> = {
  succeeded: green('✓'),
  failed: red('✗'),
  skipped: dim('↷'),
  cancelled: yellow('⊘'),
  running: yellow('▶'),
  queued: dim('…'),
  pending: dim('·'),
};

export function statusMark(status: string): string {
  return STATUS_MARK[status] ?? '?';
}

export function colorStatus(status: string): string {
  if (status === 'succeeded') return green(status);
  if (status === 'failed') return red(status);
  if (status === 'cancelled' || status === 'running') return yellow(status);
  return status;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Lays out rows as aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const visible = (s: string) => s.replace(/\u001b\[\d+m/g, '').length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i] - visible(c))).join('  ').trimEnd();
  return [bold(line(header)), ...rows.map(line)].join('\n');
}

/**
 * The one time format of CLI tables and summaries: UTC to the second with the zone marked,
 * `2026-03-01 10:00:05 UTC` (`minutes` drops the seconds, for fire times). `--json` keeps ISO-8601.
 */
export function formatTime(at: number | string | undefined, options: { minutes?: boolean } = {}): string {
  if (at === undefined || at === '') return '';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, options.minutes ? 16 : 19)} UTC`;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** A short, readable summary of a finished or running run. */
const MAP_ITEM = /^(.+)\[(\d+)\]$/;
/** Failed items a summary names (with their error) before "…". */
const FAILED_ITEMS_SHOWN = 3;

/**
 * The run and its steps, one line each. A map step's items fold into one line with counts
 * (`items 312/500 ✓ 3 ✗`), failed items named first; `all` lists every item instead.
 */
export function describeRun(view: RunView, options: { all?: boolean } = {}): string {
  const lines = [`run ${bold(view.id)}  ${view.pipeline}  ${colorStatus(view.status)}${view.durationMs !== undefined ? `  ${formatMs(view.durationMs)}` : ''}`];
  const items = new Map<string, Array<[string, RunView['steps'][string]]>>();
  for (const [name, step] of Object.entries(view.steps)) {
    const base = MAP_ITEM.exec(name)?.[1];
    if (!options.all && base !== undefined && base in view.steps) {
      items.set(base, [...(items.get(base) ?? []), [name, step]]);
      continue;
    }
    const extra = step.error ? red(`  ${step.error.message}`) : step.reason ? dim(`  (${step.reason})`) : step.waiting ? yellow(`  (${step.waiting})`) : '';
    const output = step.output !== undefined ? dim(`  → ${truncate(JSON.stringify(step.output), 100)}`) : '';
    const attempts = step.attempts > 1 ? dim(` ×${step.attempts}`) : '';
    lines.push(`  ${statusMark(step.status)} ${name}${attempts}${step.durationMs !== undefined ? dim(` ${formatMs(step.durationMs)}`) : ''}${output}${extra}`);
  }
  for (const [base, list] of items) {
    const at = lines.findIndex((l) => l.includes(` ${base}`) && !l.includes(`${base}[`));
    lines.splice(at < 0 ? lines.length : at + 1, 0, ...mapItemLines(list));
  }
  return lines.join('\n');
}

function mapItemLines(list: Array<[string, RunView['steps'][string]]>): string[] {
  const count = (status: string) => list.filter(([, s]) => s.status === status).length;
  const done = list.filter(([, s]) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped' || s.status === 'cancelled').length;
  const failed = list.filter(([, s]) => s.status === 'failed');
  const parts = [`items ${done}/${list.length}`, `${count('succeeded')} ✓`, `${failed.length} ✗`];
  if (count('running')) parts.push(`${count('running')} running`);
  if (count('skipped')) parts.push(`${count('skipped')} skipped`);
  const out = [`      ${parts.join('  ')}${dim('  (--all lists every item)')}`];
  for (const [name, step] of failed.slice(0, FAILED_ITEMS_SHOWN)) out.push(`      ${statusMark('failed')} ${name}${step.error ? red(`  ${truncate(step.error.message, 100)}`) : ''}`);
  if (failed.length > FAILED_ITEMS_SHOWN) out.push(dim(`      … ${failed.length - FAILED_ITEMS_SHOWN} more failed`));
  return out;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
