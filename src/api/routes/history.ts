import { z } from 'zod';
import type { HistoryRun } from '../../engine/run-history.ts';
import { MAX_HISTORY_RUNS } from '../../engine/run-history.ts';
import { TERMINAL_RUN_STATUSES } from '../../domain/run-state.ts';
import type { ApiContext } from '../context.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import { errorSchema, iso, named, pipelinePath, RUN_STATUSES, runSummarySchema } from '../schemas.ts';
import { findPipeline } from './pipelines.ts';
import { runSummary } from './runs.ts';

export const historyRunsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_RUNS).default(25).describe(`newest runs to return (at most ${MAX_HISTORY_RUNS})`),
});

const historySchema = named(
  'PipelineHistory',
  z.object({
    pipeline: z.string(),
    steps: z.array(z.string()).describe("the grid's columns: the current definition's steps, then steps only older runs had"),
    runs: z.array(runSummarySchema.extend({ steps: z.record(z.string(), z.string()).describe('step → status (pending, queued, running, succeeded, failed, skipped, cancelled)') })),
    summary: z.object({
      runs: z.number().describe('runs in this answer'),
      finished: z.number(),
      succeeded: z.number(),
      successRate: z.number().nullable().describe('succeeded / finished over these runs; null when none finished'),
      lastRun: z.object({ id: z.string(), status: z.enum(RUN_STATUSES), createdAt: iso }).nullable(),
      durationsMs: z.array(z.number()).describe('durations of the finished runs among these, oldest first (a trend)'),
    }),
    nextRun: z
      .object({ at: iso, schedule: z.string(), timezone: z.string().describe("the schedule's IANA zone") })
      .nullable()
      .describe('the earliest next tick of its active schedules; null when it has none or all are paused'),
  }),
);

export function historyRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/pipelines/:pipelineId/history',
      operationId: 'getPipelineHistory',
      summary: "A pipeline's newest runs × steps (the UI's history grid) with success rate, duration trend and next scheduled run; reads the pipeline's run index, not every run",
      tag: 'pipelines',
      params: pipelinePath,
      query: historyRunsQuery,
      responses: { 200: { description: 'history', schema: historySchema }, 404: { description: 'no such pipeline', schema: errorSchema } },
      async handler({ params, query }) {
        const pipeline = findPipeline(ctx, params.pipelineId);
        const [runs, schedules] = await Promise.all([ctx.runtime.engine.history(pipeline.id, query.limit), ctx.schedules.status()]);
        const declared = pipeline.spec.steps.map((s) => s.name);
        const older = [...new Set(runs.flatMap((r) => Object.keys(r.steps)))].filter((name) => !declared.includes(name));
        const next = schedules
          .filter((sc) => sc.pipeline === pipeline.id && !sc.paused && sc.nextTicks.length > 0)
          .map((sc) => ({ at: sc.nextTicks[0], schedule: sc.schedule, timezone: sc.timezone }))
          .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
        return {
          pipeline: pipeline.id,
          steps: [...declared, ...older.sort()],
          runs: runs.map((r) => ({ ...runSummary(r.record, ctx.redact), steps: r.steps })),
          summary: summarize(runs),
          nextRun: next ?? null,
        };
      },
    }),
  ];
}


function summarize(runs: HistoryRun[]) {
  const finished = runs.filter((r) => TERMINAL_RUN_STATUSES.has(r.record.status));
  const succeeded = finished.filter((r) => r.record.status === 'succeeded').length;
  const last = runs[0]?.record;
  return {
    runs: runs.length,
    finished: finished.length,
    succeeded,
    successRate: finished.length ? succeeded / finished.length : null,
    lastRun: last ? { id: last.id, status: last.status, createdAt: new Date(last.createdAt).toISOString() } : null,
    durationsMs: finished
      .filter((r) => r.record.startedAt && r.record.finishedAt)
      .map((r) => r.record.finishedAt! - r.record.startedAt!)
      .reverse(),
  };
}
