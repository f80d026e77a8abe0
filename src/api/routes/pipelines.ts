import { paramsJsonSchema } from '../../dsl/params.ts';
import type { Pipeline } from '../../dsl/pipeline.ts';
import { NotFoundError } from '../../errors/conveyor-error.ts';
import type { ApiContext } from '../context.ts';
import { layoutPipeline } from '../layout.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import { errorSchema, graphSchema, pipelineDefinitionSchema, pipelineListSchema, pipelinePath } from '../schemas.ts';

export function findPipeline(ctx: ApiContext, id: string): Pipeline<any, any> {
  const pipeline = ctx.pipelines.get(id);
  if (!pipeline) throw new NotFoundError('pipeline', id, [...ctx.pipelines.keys()]);
  return pipeline;
}

const notFound = { description: 'no such pipeline', schema: errorSchema };

export function pipelineRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/pipelines',
      operationId: 'listPipelines',
      summary: 'Pipelines loaded by this server, with their steps, DAG hash and schedules',
      tag: 'pipelines',
      responses: { 200: { description: 'pipelines', schema: pipelineListSchema } },
      async handler() {
        const items = [...ctx.pipelines.values()].map((p) => ({
          id: p.id,
          description: p.spec.description,
          steps: p.spec.steps.map((s) => s.name),
          dagHash: ctx.runtime.engine.validate(p).hash,
          schedules: ctx.redact(p.spec.schedules),
        }));
        return { items: items.sort((a, b) => a.id.localeCompare(b.id)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/pipelines/:pipelineId',
      operationId: 'getPipeline',
      summary: 'A pipeline definition: its spec and the JSON Schema of its params',
      tag: 'pipelines',
      params: pipelinePath,
      responses: { 200: { description: 'definition', schema: pipelineDefinitionSchema }, 404: notFound },
      async handler({ params }) {
        const p = findPipeline(ctx, params.pipelineId);
        return {
          id: p.id,
          description: p.spec.description,
          dagHash: ctx.runtime.engine.validate(p).hash,
          spec: ctx.redact(p.spec),
          paramsSchema: paramsJsonSchema(p.paramsSchema),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/pipelines/:pipelineId/graph',
      operationId: 'getPipelineGraph',
      summary: 'The DAG as nodes and edges with a left-to-right layout (dagre), ready to draw',
      tag: 'pipelines',
      params: pipelinePath,
      responses: { 200: { description: 'graph', schema: graphSchema }, 404: notFound },
      async handler({ params }) {
        return layoutPipeline(findPipeline(ctx, params.pipelineId).spec);
      },
    }),
  ];
}
