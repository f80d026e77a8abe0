import Fastify, { type FastifyInstance } from 'fastify';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import { allowEmptyJsonBody, installAccessControl } from './access.ts';
import { TokenAuth, type AuthConfig } from './auth.ts';
import type { ApiContext, ApiRuntime, ScheduleService } from './context.ts';
import { buildOpenApi } from './openapi.ts';
import { redactSecrets } from './redact.ts';
import { clientError, errorBody, frameworkError, installErrorEnvelope, MAX_PARAM_LENGTH } from './errors.ts';
import { registerRoute, type RouteDef } from './route.ts';
import { logRoutes } from './routes/logs.ts';
import { modelRoutes } from './routes/models.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import { historyRoutes } from './routes/history.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { systemRoutes } from './routes/system.ts';
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
  /** Local mode only: `host[:port]` values accepted in the Host header besides loopback on the server's port. */
  allowedHosts?: readonly string[];
}

export interface RegisteredRoute {
  method: string;
  url: string;
  public: boolean;
}

export interface ApiServer {
  app: FastifyInstance;
  routes: readonly RouteDef[];
  /** Every method + path fastify registered (API, UI, health, HEAD twins), as the router sees them. */
  registeredRoutes: readonly RegisteredRoute[];
  /** Starts listening; resolves to the bound address, e.g. `http://127.0.0.1:8080`. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

/** Builds the HTTP API and UI on fastify. Nothing listens until `listen()`. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { runtime } = options;
  const known = options.knownSecrets ?? [];
  const pipelines = new Map(options.pipelines.map((p) => [p.id, p]));
  const ctx: ApiContext = {
    runtime,
    pipelines,
    registry: options.registry,
    schedules: options.schedules,
    events: runtime.events,
    redact: (value) => redactSecrets(value, known),
    knownQueues: () => [...new Set(['default', ...options.pipelines.flatMap((p) => p.spec.steps.map((s) => s.queue))])],
  };
  const auth = new TokenAuth(options.auth);
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 2 * 1024 * 1024, return503OnClosing: true, forceCloseConnections: true, routerOptions: { maxParamLength: MAX_PARAM_LENGTH }, frameworkErrors: frameworkError, clientErrorHandler: clientError });
  allowEmptyJsonBody(app);

  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push({ method, url: route.url, public: route.config?.public === true });
  });
  installAccessControl(app, auth, options.auth.insecureLocal ? { allowedHosts: options.allowedHosts } : undefined);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });

  installErrorEnvelope(app, runtime.logger, ctx.redact);

  const routes: RouteDef[] = [
    ...pipelineRoutes(ctx),
    ...historyRoutes(ctx),
    ...runRoutes(ctx),
    ...artifactRoutes(ctx),
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

  app.get('/healthz', { config: { public: true } }, async (_request, reply) => {
    try {
      await runtime.ping();
      return { status: 'ok' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', error: error instanceof Error ? error.message : String(error) });
    }
  });
  // Public like /healthz: Prometheus scrapes without a token (the numbers carry no params or outputs).
  app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
    if (!options.metrics) return reply.code(404).send(errorBody('NOT_FOUND', 'metrics are not enabled in this process'));
    const { contentType, body } = await options.metrics();
    return reply.type(contentType).send(body);
  });
  registerUi(app);
  registerCompression(app);

  return {
    app,
    routes,
    registeredRoutes: registered,
    async listen(port, host) {
      return app.listen({ port, host });
    },
    async close() {
      // The event feed's subscriber belongs to the runtime and closes with it.
      await app.close();
    },
  };
}
