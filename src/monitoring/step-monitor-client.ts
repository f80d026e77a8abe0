import { ValidationError } from '../errors/conveyor-error.ts';
import type { MonitoringEvent, ReportFigure } from './events.ts';

export interface MonitorPoint {
  at: number;
  version: string;
  value: number;
}

/** What the client needs from storage (implemented by redis/ModelMetricsStore). */
export interface MonitorStore {
  record(model: string, version: string | number, metric: string, value: number, at?: number): Promise<MonitorPoint>;
  series(model: string, metric: string, range?: { from?: number; to?: number; limit?: number }): Promise<MonitorPoint[]>;
  putDataQuality(figures: readonly ReportFigure[], at?: number): Promise<string[]>;
}

/**
 * What a step sees as `ctx.monitor`: records model performance over time (a Redis time series per
 * model and metric) and data-quality figures, and tells this process's metrics hub at once.
 */
export interface StepMonitorClient {
  /** Stores one point; `at` defaults to now (Date, ms or ISO-8601). */
  recordModelMetric(model: string, version: string | number, metric: string, value: number, at?: Date | number | string): Promise<MonitorPoint>;
  /** Points of a series between `from` and `to` (oldest first). */
  series(model: string, metric: string, range?: { from?: Date | number | string; to?: Date | number | string; limit?: number }): Promise<MonitorPoint[]>;
  /** Stores the latest figures of each dataset (use `reportFigures(report)` of the data step). */
  recordDataQuality(figures: readonly ReportFigure[]): Promise<{ datasets: string[] }>;
}

// Types `ctx.monitor` in step handlers (see StepMonitorApi in dsl/context.ts).
declare module '../dsl/context.ts' {
  interface StepMonitorApi extends Partial<StepMonitorClient> {}
}

const BRAND = Symbol.for('conveyor.stepMonitorClient');

function toMs(value: Date | number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ValidationError(`monitor: expected a Date, ms or ISO-8601 time, found ${JSON.stringify(value)}`);
  return ms;
}

export function createStepMonitorClient(store: MonitorStore, options: { onEvent?: (event: MonitoringEvent) => void; now?: () => number } = {}): StepMonitorClient {
  const now = options.now ?? Date.now;
  const emit = (event: MonitoringEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // Metrics must never fail a step.
    }
  };
  const client: StepMonitorClient & { [BRAND]: true } = {
    [BRAND]: true,
    async recordModelMetric(model, version, metric, value, at) {
      const point = await store.record(model, version, metric, value, toMs(at) ?? now());
      emit({ type: 'model-metric', model, metric, version: point.version, value: point.value, at: point.at });
      return point;
    },
    series: (model, metric, range = {}) => store.series(model, metric, { from: toMs(range.from), to: toMs(range.to), limit: range.limit }),
    async recordDataQuality(figures) {
      const datasets = await store.putDataQuality(figures, now());
      emit({ type: 'data-quality', figures });
      return { datasets };
    },
  };
  return Object.freeze(client);
}

/** True for clients made by createStepMonitorClient (ctx.monitor is typed `unknown` in the DSL). */
export function isStepMonitorClient(value: unknown): value is StepMonitorClient {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
