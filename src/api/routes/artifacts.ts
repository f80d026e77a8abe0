import { z } from 'zod';
import { ARTIFACT_NAME_PATTERN, artifactNameProblem } from '../../core/artifact-name.ts';
import type { ApiContext } from '../context.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import { errorSchema, iso, named, runIdSchema, runPath } from '../schemas.ts';

const artifactName = z
  .string()
  .max(120)
  .superRefine((value, issue) => {
    const problem = artifactNameProblem(value);
    if (problem) issue.addIssue({ code: 'custom', message: problem });
  })
  .describe(`artifact file name (${ARTIFACT_NAME_PATTERN.source}, no "..")`);
const artifactPath = z.object({ runId: runIdSchema, name: artifactName });
const artifactQuery = z.object({
  download: z.enum(['0', '1', 'true', 'false']).optional().describe('1: sent as an attachment (Content-Disposition) for saving'),
});

const artifactListSchema = named(
  'ArtifactList',
  z.object({
    runId: z.string(),
    items: z.array(z.object({ name: z.string(), step: z.string(), contentType: z.string(), bytes: z.number(), sha256: z.string(), createdAt: iso })),
  }),
);

/** Types sent as themselves; anything else (HTML, SVG, unknown) goes out as bytes to save, never rendered by the browser. */
const INLINE_TYPES = new Set(['text/plain', 'text/markdown', 'text/csv', 'application/json', 'image/png']);

const notFound = { description: 'no such run, or the run has no artifact of that name', schema: errorSchema };

export function artifactRoutes(ctx: ApiContext): RouteDef[] {
  const { artifacts } = ctx.runtime;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs/:runId/artifacts',
      operationId: 'listRunArtifacts',
      summary: 'Files the steps of a run kept with ctx.artifacts.put (reports, small plots)',
      tag: 'runs',
      params: runPath,
      responses: { 200: { description: 'artifacts by name', schema: artifactListSchema }, 404: notFound },
      async handler({ params }) {
        // A run that does not exist is a 404, not an empty list.
        await ctx.runtime.engine.getRun(params.runId);
        const items = await artifacts.list(params.runId);
        return { runId: params.runId, items: items.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() })) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs/:runId/artifacts/:name',
      operationId: 'getRunArtifact',
      summary: "One artifact's bytes. The name is a key of the run's artifacts, never a path: nothing outside the run can be read. Text types come as text; others as an attachment",
      tag: 'runs',
      params: artifactPath,
      query: artifactQuery,
      responses: {
        200: { description: 'the artifact bytes (its Content-Type: text/markdown, text/plain, … or application/octet-stream)', contentType: 'application/octet-stream' },
        400: { description: 'not an artifact name (a path, "..", …)', schema: errorSchema },
        404: notFound,
      },
      async handler({ params, query, reply }) {
        const { meta, content } = await artifacts.get(params.runId, params.name);
        const base = meta.contentType.split(';')[0]!.trim().toLowerCase();
        const inline = INLINE_TYPES.has(base) && query.download !== '1' && query.download !== 'true';
        reply
          .type(inline ? meta.contentType : 'application/octet-stream')
          .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${meta.name}"`)
          // Opened directly, an artifact can run nothing and load nothing.
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('x-artifact-sha256', meta.sha256);
        return content;
      },
    }),
  ];
}
