import type { ApiContext } from '../context.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import { emptyBody, errorSchema, pauseResultSchema, pipelinePath, scheduleListSchema } from '../schemas.ts';
import { findPipeline } from './pipelines.ts';

export function scheduleRoutes(ctx: ApiContext): RouteDef[] {
  const toggle = (paused: boolean) =>
    defineRoute({
      method: 'POST',
      path: `/api/v1/pipelines/:pipelineId/schedules/${paused ? 'pause' : 'resume'}`,
      operationId: paused ? 'pauseSchedules' : 'resumeSchedules',
      summary: paused
        ? 'Pauses every schedule of a pipeline (ticks due while paused are dropped, not replayed)'
        : 'Resumes the schedules of a pipeline',
      tag: 'schedules',
      params: pipelinePath,
      body: emptyBody,
      responses: { 200: { description: 'new state', schema: pauseResultSchema }, 404: { description: 'no such pipeline', schema: errorSchema } },
      async handler({ params }) {
        const pipeline = findPipeline(ctx, params.pipelineId);
        if (paused) await ctx.schedules.pause(pipeline.id);
        else await ctx.schedules.resume(pipeline.id);
        return { pipeline: pipeline.id, paused };
      },
    });
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/schedules',
      operationId: 'listSchedules',
      summary: 'Every cron schedule with its next ticks, last launched run and paused state',
      tag: 'schedules',
      responses: { 200: { description: 'schedules', schema: scheduleListSchema } },
      async handler() {
        return { items: await ctx.schedules.status() };
      },
    }),
    toggle(true),
    toggle(false),
  ];
}
