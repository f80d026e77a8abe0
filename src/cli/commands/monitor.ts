import { Command } from 'commander';
import { withRuntime } from '../context.ts';
import { monitorSnapshot, type MonitorSnapshot } from '../../app/metrics-wiring.ts';
import { bold, colorStatus, dim, formatMs, formatTime, printJson, table, truncate } from '../output.ts';

const BARS = '▁▂▃▄▅▆▇█';

/** A unicode sparkline of `values` scaled between their min and max (a flat series is a flat line). */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (max === min) return BARS[3]!.repeat(values.length);
  return values.map((v) => BARS[Math.round(((v - min) / (max - min)) * (BARS.length - 1))]!).join('');
}

export function renderMonitorFrame(s: MonitorSnapshot, model?: string): string {
  const out: string[] = [];
  out.push(`${bold('conveyor monitor')} ${dim(formatTime(s.at))}`, '');
  out.push(bold(`Queues`));
  out.push(
    table(
      ['queue', 'waiting', 'active', 'delayed', 'failed', 'oldest waiting'],
      s.queues.map((q) => [q.queue, String((q.counts.wait ?? 0) + (q.counts.prioritized ?? 0)), String(q.counts.active ?? 0), String(q.counts.delayed ?? 0), String(q.counts.failed ?? 0), q.oldestWaitingAgeMs ? formatMs(q.oldestWaitingAgeMs) : '-']),
    ),
    '',
  );
  out.push(bold(`Workers (${s.workers.length} live)`));
  out.push(s.workers.length ? table(['worker', 'queues', 'running', 'seen'], s.workers.map((w) => [truncate(w.id, 40), w.queues.join(','), String(w.running), `${formatMs(w.lastSeenMsAgo)} ago`])) : dim('  no live workers'), '');
  out.push(bold('Recent runs'));
  out.push(s.runs.length ? table(['run', 'pipeline', 'status', 'duration'], s.runs.map((r) => [r.id, r.pipeline, colorStatus(r.status), r.durationMs === undefined ? '-' : formatMs(r.durationMs)])) : dim('  no runs'), '');
  out.push(bold(model ? `Model ${model}` : 'Models'));
  out.push(
    s.models.length
      ? table(['model', 'metric', 'version', 'latest', 'trend'], s.models.map((m) => [m.model, m.metric, m.version, String(Number(m.value.toFixed(4))), sparkline(m.trend)]))
      : dim(model ? `  no metrics recorded for ${model}` : '  no model metrics recorded (ctx.monitor.recordModelMetric)'),
  );
  return out.join('\n');
}

export function monitorCommand(): Command {
  return new Command('monitor')
    .description('live terminal view of queues, workers, recent runs and model metric trends (refreshes every 2 s)')
    .option('-m, --model <name>', 'only this model\'s metrics')
    .option('--once', 'print one frame and exit')
    .option('--json', 'print one snapshot as JSON and exit')
    .option('--interval <seconds>', 'refresh interval', Number, 2)
    .action(async (opts: { model?: string; once?: boolean; json?: boolean; interval: number }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const frame = () => monitorSnapshot(runtime, { model: opts.model });
        if (opts.json) return printJson(await frame());
        if (opts.once || !process.stdout.isTTY) return void process.stdout.write(`${renderMonitorFrame(await frame(), opts.model)}\n`);
        const intervalMs = Math.max(0.5, opts.interval || 2) * 1000;
        let stopped = false;
        const stop = () => (stopped = true);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        while (!stopped) {
          const text = renderMonitorFrame(await frame(), opts.model);
          process.stdout.write(`\x1b[2J\x1b[H${text}\n${dim('Ctrl-C to quit')}\n`);
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      });
    });
}
