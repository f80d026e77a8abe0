import { IDEMPOTENCY_KEY, idempotentRunId } from '../../core/ids.ts';
import type { RunRecord } from '../../domain/run-state.ts';
import { specOfSnapshot } from '../../engine/snapshot.ts';
import type { ApiContext } from '../context.ts';
import { layoutPipeline } from '../layout.ts';
import { BadRequest, defineRoute, type RouteDef } from '../route.ts';
import {
  cancelResultSchema,
  emptyBody,
  errorSchema,
  graphSchema,
  listRunsQuery,
  pipelinePath,
  retryResultSchema,
  runListSchema,
  runPath,
  runViewSchema,
  triggerBody,
  triggerResultSchema,
} from '../schemas.ts';
import { findPipeline } from './pipelines.ts';

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

export function runSummary(run: RunRecord, redact: <T>(v: T) => T) {
  return {
    id: run.id,
    pipeline: run.pipeline,
    status: run.status,
    trigger: redact(run.trigger),
    createdAt: iso(run.createdAt)!,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.finishedAt && run.startedAt ? run.finishedAt - run.startedAt : undefined,
  };
}


const errors = {
  404: { description: 'no such run or pipeline', schema: errorSchema },
  409: { description: 'the run is not in a state that allows this', schema: errorSchema },
};

export function runRoutes(ctx: ApiContext): RouteDef[] {
  const { engine } = ctx.runtime;
  const view = async (runId: string) => ctx.redact(await engine.getRun(runId));
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs',
      operationId: 'listRuns',
      summary: 'Runs, newest first, filtered by id, pipeline, status, trigger and creation date; page with nextOffset',
      tag: 'runs',
      query: listRunsQuery,
      responses: { 200: { description: 'a page of runs', schema: runListSchema } },
      async handler({ query }) {
        const page = await engine.findRuns(query);
        return {
          items: page.runs.map((r) => runSummary(r, ctx.redact)),
          limit: query.limit,
          offset: query.offset,
          // A position in the index the filters picked: pass it back as `offset` (filters checked per
          // record may return a short page that still has a nextOffset).
          nextOffset: page.nextOffset,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/pipelines/:pipelineId/runs',
      operationId: 'triggerRun',
      summary: 'Triggers a run; with an Idempotency-Key header a repeat returns the same run (200)',
      tag: 'runs',
      params: pipelinePath,
      body: triggerBody,
      headers: [{ name: 'Idempotency-Key', description: 'same key (per pipeline) → same run; up to 255 printable ASCII characters' }],
      responses: {
        201: { description: 'run created', schema: triggerResultSchema },
        200: { description: 'the run created earlier with this Idempotency-Key', schema: triggerResultSchema },
        400: { description: 'malformed JSON or body shape', schema: errorSchema },
        404: errors[404],
        413: { description: 'body larger than the limit', schema: errorSchema },
        422: { description: 'params rejected by the pipeline params schema', schema: errorSchema },
      },
      async handler({ params, body, request, reply }) {
        const pipeline = findPipeline(ctx, params.pipelineId);
        const rawKey = request.headers['idempotency-key'];
        const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
        if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
          throw new BadRequest('invalid Idempotency-Key header', ['headers.idempotency-key: expected 1-255 printable ASCII characters']);
        }
        const { runId, created } = await engine.trigger(pipeline, {
          params: body.params ?? {},
          trigger: { type: 'manual', via: 'api' },
          ...(key ? { runId: idempotentRunId(pipeline.id, key) } : {}),
        });
        reply.code(created ? 201 : 200).header('location', `/api/v1/runs/${runId}`);
        return { runId, created, run: await view(runId) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs/:runId',
      operationId: 'getRun',
      summary: 'A run with the state, attempts, output and error of each step',
      tag: 'runs',
      params: runPath,
      responses: { 200: { description: 'the run', schema: runViewSchema }, 404: errors[404] },
      async handler({ params }) {
        return view(params.runId);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs/:runId/graph',
      operationId: 'getRunGraph',
      summary: 'Layout of the DAG this run was started with (its snapshot, not the current file)',
      tag: 'runs',
      params: runPath,
      responses: { 200: { description: 'graph', schema: graphSchema }, 404: errors[404] },
      async handler({ params }) {
        return layoutPipeline(specOfSnapshot(await engine.snapshot(params.runId)));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/runs/:runId/cancel',
      operationId: 'cancelRun',
      summary: 'Cancels a queued or running run; running steps see ctx.signal aborted',
      tag: 'runs',
      params: runPath,
      body: emptyBody,
      responses: { 200: { description: 'cancelled', schema: cancelResultSchema }, ...errors },
      async handler({ params }) {
        const { cancelledSteps } = await engine.cancel(params.runId, 'api');
        return { runId: params.runId, cancelledSteps };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/runs/:runId/retry',
      operationId: 'retryRun',
      summary: 'Re-runs the failed, cancelled and skipped steps of a finished run; succeeded steps keep their outputs',
      tag: 'runs',
      params: runPath,
      body: emptyBody,
      responses: { 200: { description: 'requeued', schema: retryResultSchema }, ...errors },
      async handler({ params }) {
        const { requeued } = await engine.retry(params.runId);
        return { runId: params.runId, requeued };
      },
    }),
  ];
}
