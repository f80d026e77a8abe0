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

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** A short, readable summary of a finished or running run. */
export function describeRun(view: RunView): string {
  const lines = [`run ${bold(view.id)}  ${view.pipeline}  ${colorStatus(view.status)}${view.durationMs !== undefined ? `  ${formatMs(view.durationMs)}` : ''}`];
  for (const [name, step] of Object.entries(view.steps)) {
    const extra = step.error ? red(`  ${step.error.message}`) : step.reason ? dim(`  (${step.reason})`) : step.waiting ? yellow(`  (${step.waiting})`) : '';
    const output = step.output !== undefined ? dim(`  → ${truncate(JSON.stringify(step.output), 100)}`) : '';
    const attempts = step.attempts > 1 ? dim(` ×${step.attempts}`) : '';
    lines.push(`  ${statusMark(step.status)} ${name}${attempts}${step.durationMs !== undefined ? dim(` ${formatMs(step.durationMs)}`) : ''}${output}${extra}`);
  }
  return lines.join('\n');
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
