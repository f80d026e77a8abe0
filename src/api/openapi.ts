import { z } from 'zod';
import type { RouteDef } from './route.ts';
import { components, errorSchema } from './schemas.ts';

type JsonObject = Record<string, unknown>;

const REF_PREFIX = '#/components/schemas/';

/** zod → JSON Schema 2020-12 (what OpenAPI 3.1 uses), with named schemas referenced, not inlined. */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const id = components.get(schema)?.id;
  if (id) return { $ref: `${REF_PREFIX}${id}` };
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return strip(out);
}

function strip(schema: JsonObject): JsonObject {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** Path and query parameters of an object schema, one OpenAPI parameter per property. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
    schema: prop,
  }));
}

function componentSchemas(): Record<string, JsonObject> {
  const all = z.toJSONSchema(components, { io: 'output', unrepresentable: 'any', uri: (ref) => `${REF_PREFIX}${ref}` }) as { schemas: Record<string, JsonObject> };
  return Object.fromEntries(Object.entries(all.schemas).map(([name, schema]) => [name, strip(schema)]));
}

/** The OpenAPI 3.1 document of the given routes. */
export function buildOpenApi(routes: readonly RouteDef[], info: { version: string }): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, JsonObject> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      const type = spec.contentType ?? 'application/json';
      responses[status] = {
        description: spec.description,
        ...(spec.schema ? { content: { [type]: { schema: toSchema(spec.schema, 'output') } } } : spec.contentType ? { content: { [type]: {} } } : {}),
      };
    }
    const errorContent = { content: { 'application/json': { schema: { $ref: `${REF_PREFIX}Error` } } } };
    // Every path, query and body part is parsed by zod (route.ts): a bad one answers 400 with the issues.
    if (route.params || route.query || route.body) responses['400'] ??= { description: 'invalid path, query or body parameters (details.issues name each)', ...errorContent };
    responses['401'] ??= { description: 'missing or unknown bearer token', ...errorContent };
    if (route.method !== 'GET') responses['403'] ??= { description: 'read-only token used for a write', ...errorContent };
    if (route.params) responses['414'] ??= { description: 'a path parameter is longer than the router accepts', ...errorContent };
    // Every error the server answers has this one shape (errors.ts), whatever its status.
    responses.default ??= { description: 'any other error (400 bad request, 413, 415, 422, 5xx): always the Error envelope', ...errorContent };
    const operation: JsonObject = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: [
        ...parameters(route.params, 'path'),
        ...parameters(route.query, 'query'),
        ...(route.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: false, description: h.description, schema: { type: 'string' } })),
      ],
      responses,
    };
    if (route.body) {
      // A missing body is parsed as {} (route.ts): it is required exactly when {} is rejected.
      operation.requestBody = { required: !route.body.safeParse({}).success, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  // Keeps the registry's Error schema referenced even if no route declares it explicitly.
  void errorSchema;
  return {
    openapi: '3.1.0',
    info: { title: 'Conveyor API', version: info.version, description: 'Pipelines, runs, logs, schedules, models, queues and workers of a Conveyor deployment.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'CONVEYOR_API_TOKEN (admin) or one of CONVEYOR_API_READ_TOKENS (GET only)' } },
      schemas: componentSchemas(),
    },
  };
}
