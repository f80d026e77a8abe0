import type { ApiContext } from '../context.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import {
  aliasPath,
  auditEntrySchema,
  auditPageSchema,
  errorSchema,
  historyQuery,
  modelPageSchema,
  modelPath,
  modelSummarySchema,
  pageQuery,
  promoteBody,
  rollbackBody,
  versionPageSchema,
} from '../schemas.ts';

const errors = {
  404: { description: 'no such model, version or alias', schema: errorSchema },
  409: { description: 'the alias moved concurrently (expectedVersion did not match) or there is nothing to roll back', schema: errorSchema },
  422: { description: 'rejected by the registry (e.g. the version failed its evaluation gates and force was not set)', schema: errorSchema },
};

/** Who moved an alias, for the audit log: the caller's claim, or the role of the token used. */
const actorOf = (given: string | undefined, role: string) => given ?? `api:${role}`;

export function modelRoutes(ctx: ApiContext): RouteDef[] {
  const { registry } = ctx;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/models',
      operationId: 'listModels',
      summary: 'Registered models with their latest version and aliases',
      tag: 'models',
      query: pageQuery,
      responses: { 200: { description: 'a page of models', schema: modelPageSchema } },
      async handler({ query }) {
        return ctx.redact(await registry.listModels(query));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/models/:model',
      operationId: 'getModel',
      summary: 'One model: latest version and aliases',
      tag: 'models',
      params: modelPath,
      responses: { 200: { description: 'the model', schema: modelSummarySchema }, 404: errors[404] },
      async handler({ params }) {
        return ctx.redact(await registry.getModel(params.model));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/models/:model/versions',
      operationId: 'listModelVersions',
      summary: 'Versions of a model, newest first, with metrics, lineage and data fingerprint',
      tag: 'models',
      params: modelPath,
      query: pageQuery,
      responses: { 200: { description: 'a page of versions', schema: versionPageSchema }, 404: errors[404] },
      async handler({ params, query }) {
        return ctx.redact(await registry.listVersions(params.model, query));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/models/:model/history',
      operationId: 'getModelHistory',
      summary: 'Audit log of alias moves and deployments, newest first',
      tag: 'models',
      params: modelPath,
      query: historyQuery,
      responses: { 200: { description: 'a page of audit entries', schema: auditPageSchema }, 404: errors[404] },
      async handler({ params, query }) {
        return ctx.redact(await registry.history(params.model, query));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/models/:model/aliases/:alias',
      operationId: 'promoteModel',
      summary: 'Points an alias (e.g. production) at a version, with a reason in the audit log; a version whose evaluation gates failed is refused (422) unless force',
      tag: 'models',
      params: aliasPath,
      body: promoteBody,
      responses: { 200: { description: 'the audit entry of the move', schema: auditEntrySchema }, ...errors },
      async handler({ params, body, role }) {
        return registry.promote(params.model, params.alias, body.version, {
          actor: actorOf(body.actor, role),
          reason: body.reason,
          force: body.force,
          ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion } : {}),
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/models/:model/aliases/:alias/rollback',
      operationId: 'rollbackModel',
      summary: 'Undoes the newest alias move not yet rolled back; a second call goes one move further back',
      tag: 'models',
      params: aliasPath,
      body: rollbackBody,
      responses: { 200: { description: 'the audit entry of the move', schema: auditEntrySchema }, ...errors },
      async handler({ params, body, role }) {
        return registry.rollback(params.model, params.alias, actorOf(body.actor, role), body.reason);
      },
    }),
  ];
}
