import type { EngineEvent } from '../engine/engine.ts';
import type { AliasMovedEvent } from '../registry/types.ts';
import type { SchedulerEvent } from '../scheduler/events.ts';
import type { ReportFigure } from '../steps/data/report.ts';
import type { WorkerEvent } from '../worker/worker.ts';

/** One model metric recorded by a step (`ctx.monitor.recordModelMetric`). */
export interface ModelMetricEvent {
  type: 'model-metric';
  model: string;
  version: string;
  metric: string;
  value: number;
  /** ms since the epoch. */
  at: number;
}

/** A data-quality report as flat figures (`reportFigures(report)` of steps/data). */
export interface DataQualityEvent {
  type: 'data-quality';
  figures: readonly ReportFigure[];
}

/** A registry alias moved (set, rollback, delete). */
export interface AliasMovedMetricEvent {
  type: 'alias-moved';
  event: AliasMovedEvent;
}

/**
 * Everything the metrics hub records. Only the types of other modules' events are imported here:
 * monitoring depends on what happened, never on the code that made it happen.
 */
export type MonitoringEvent = EngineEvent | WorkerEvent | SchedulerEvent | ModelMetricEvent | DataQualityEvent | AliasMovedMetricEvent;

export type { EngineEvent, WorkerEvent, SchedulerEvent, ReportFigure, AliasMovedEvent };
