import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { isConveyorError, type ErrorCode } from '../errors/conveyor-error.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import { TokenAuth, type AuthConfig, type Role } from './auth.ts';
import type { ApiContext, ApiRuntime, ScheduleService } from './context.ts';
import { buildOpenApi } from './openapi.ts';
import { redactSecrets } from './redact.ts';
import { BadRequest, registerRoute, type RouteDef } from './route.ts';
import { logRoutes } from './routes/logs.ts';
import { modelRoutes } from './routes/models.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { systemRoutes } from './routes/system.ts';
import { RunEvents } from './run-events.ts';
import { registerUi } from './ui-routes.ts';
import { registerCompression } from './compression.ts';

export interface ApiServerOptions {
  runtime: ApiRuntime;
  pipelines: readonly Pipeline<any, any>[];
  registry: ModelRegistry;
  schedules: ScheduleService;
  auth: AuthConfig;
  /** Largest request body in bytes (413 beyond). Default 2 MiB: params may be up to 1 MiB of JSON. */
  bodyLimit?: number;
  /** Secret values (from the secrets file) masked wherever they would appear. */
  knownSecrets?: readonly string[];
  /** Prometheus exposition for GET /metrics (the monitoring module's registry); 404 when absent. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Answer 500 when a response does not match its declared schema (tests). */
  strictResponses?: boolean;
  version?: string;
}

export interface ApiServer {
  app: FastifyInstance;
  routes: readonly RouteDef[];
  /** Starts listening; resolves to the bound address, e.g. `http://127.0.0.1:8080`. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  VALIDATION: 422,
  CYCLE: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TIMEOUT: 504,
  REDIS_UNAVAILABLE: 503,
  OUTPUT_TOO_LARGE: 422,
};

const errorBody = (code: string, message: string, details?: Record<string, unknown>) => ({ error: { code, message, ...(details ? { details } : {}) } });

/** Builds the HTTP API and UI on fastify. Nothing listens until `listen()`. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { runtime } = options;
  const known = options.knownSecrets ?? [];
  const subscriber = runtime.extraClient();
  const pipelines = new Map(options.pipelines.map((p) => [p.id, p]));
  const ctx: ApiContext = {
    runtime,
    pipelines,
    registry: options.registry,
    schedules: options.schedules,
    events: new RunEvents(subscriber, runtime.keys.eventsChannel, runtime.logger),
    redact: (value) => redactSecrets(value, known),
    knownQueues: () => [...new Set(['default', ...options.pipelines.flatMap((p) => p.spec.steps.map((s) => s.queue))])],
  };
  const auth = new TokenAuth(options.auth);
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 2 * 1024 * 1024, return503OnClosing: true, forceCloseConnections: true });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const result = auth.check(request.method, request.headers.authorization);
    if (!result.ok) {
      if (result.status === 401) reply.header('www-authenticate', 'Bearer realm="conveyor"');
      return reply.code(result.status).send(errorBody(result.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', result.message));
    }
    (request as FastifyRequest & { role?: Role }).role = result.role;
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof BadRequest) return reply.code(400).send(errorBody('BAD_REQUEST', error.message, { issues: error.issues }));
    if (isConveyorError(error)) {
      const status = STATUS_OF[error.code] ?? 500;
      if (status === 500) runtime.logger.error('api request failed', { url: request.url, code: error.code, error: error.message });
      return reply.code(status).send(ctx.redact(errorBody(error.code, error.message, error.details)));
    }
    const statusCode = (error as FastifyError).statusCode;
    if (statusCode === 413) return reply.code(413).send(errorBody('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`));
    if (statusCode && statusCode >= 400 && statusCode < 500) {
      return reply.code(statusCode).send(errorBody('BAD_REQUEST', `invalid request: ${error.message}`));
    }
    runtime.logger.error('api request failed', { url: request.url, error: error instanceof Error ? error.stack : String(error) });
    return reply.code(500).send(errorBody('INTERNAL', 'internal error (see the server log)'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  const routes: RouteDef[] = [
    ...pipelineRoutes(ctx),
    ...runRoutes(ctx),
    ...logRoutes(ctx),
    ...scheduleRoutes(ctx),
    ...modelRoutes(ctx),
    ...systemRoutes(ctx),
  ];
  // Built once all routes (itself included) are known; the document describes every registered route.
  let openapi: Record<string, unknown> = {};
  routes.push({
    method: 'GET',
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document (OpenAPI 3.1, generated from the zod schemas the routes validate with)',
    tag: 'meta',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    async handler() {
      return openapi;
    },
  });
  openapi = buildOpenApi(routes, { version: options.version ?? '0.1.0' });
  const registerOptions = {
    strictResponses: options.strictResponses ?? false,
    onResponseMismatch: (route: RouteDef, issues: string[]) => runtime.logger.error('api response does not match its schema', { operation: route.operationId, issues }),
  };
  for (const route of routes) registerRoute(app, route, registerOptions);

  app.get('/healthz', async (_request, reply) => {
    try {
      await runtime.redis.ping();
      return { status: 'ok' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', error: error instanceof Error ? error.message : String(error) });
    }
  });
  app.get('/metrics', async (_request, reply) => {
    if (!options.metrics) return reply.code(404).send(errorBody('NOT_FOUND', 'metrics are not enabled in this process'));
    const { contentType, body } = await options.metrics();
    return reply.type(contentType).send(body);
  });
  registerUi(app);
  registerCompression(app);

  return {
    app,
    routes,
    async listen(port, host) {
      return app.listen({ port, host });
    },
    async close() {
      await app.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
