import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import type { Pipeline } from '../../src/dsl/pipeline.ts';
import { createModelRegistry } from '../../src/registry/create.ts';
import type { ModelRegistry } from '../../src/registry/model-registry.ts';
import { createApiServer, type ApiServer } from '../../src/api/server.ts';
import { scheduleService } from '../../src/app/schedule-service.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { apiRuntimeOf } from '../../src/app/api-runtime.ts';
import type { ApiRuntime } from '../../src/api/context.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import type { TestRedis } from '../helpers/redis-server.ts';

// Random like real tokens (`conveyor serve` refuses guessable ones); fixed so failures are reproducible.
export const ADMIN = 'adm-355b5020bfadb8f68ee7d07acd330584cd88b389';
export const READER = 'rd-e50117cc37095685fb461755766170d704b63061';

/** A diamond that logs a secret-looking line; its `gate` param lets a test hold step `b` until released. */
export function diamond(gates: Map<string, Promise<void>> = new Map()): Pipeline<any, any> {
  return definePipeline({
    id: 'diamond',
    description: 'a → (b, c) → d',
    params: z.object({ n: z.number().int().min(1).max(100).default(2), api_key: z.string().optional(), gate: z.string().optional() }),
    schedule: { cron: '0 * * * *', name: 'hourly' },
  })
    .step('a', async ({ log, params }) => {
      log.info('connecting with password=hunter2', { token: 'tok-secret', n: params.n });
      return { n: params.n, api_key: params.api_key ?? 'none' };
    })
    .step('b', { needs: ['a'] }, async ({ upstream, params }) => {
      if (params.gate) await gates.get(params.gate);
      return { doubled: upstream.a.n * 2 };
    })
    .step('c', { needs: ['a'] }, async ({ upstream }) => ({ squared: upstream.a.n ** 2 }))
    .step('d', { needs: ['b', 'c'] }, async ({ upstream }) => ({ sum: upstream.b.doubled + upstream.c.squared }));
}

/** The Markdown report `failing()`'s validate step keeps as an artifact: markup in it must never run in the UI. */
export const REPORT_MD = '# Validation report\n\n- age: **not numeric** in row 2\n\n<img src=x onerror="document.body.dataset.injected=1">\n';

export function failing(): Pipeline<any, any> {
  return definePipeline({ id: 'fails', description: 'load succeeds, validate fails (keeping a report)', defaults: { retries: 0 } })
    .step('load', async () => ({ rows: 3 }))
    .step('validate', { needs: ['load'] }, async ({ artifacts }) => {
      await artifacts.put('report.md', REPORT_MD);
      throw new Error('expected column "age" to be numeric, found "abc" in row 2');
    })
    .step('publish', { needs: ['validate'] }, async () => ({ ok: true }));
}

export interface ApiFixture {
  runtime: Runtime;
  worker: WorkerHost;
  registry: ModelRegistry;
  server: ApiServer;
  url: string;
  artifactDir: string;
  /** What the server was given (its run event feed counts open streams). */
  apiRuntime: ApiRuntime;
  close(): Promise<void>;
}

export async function startApiFixture(redis: TestRedis, pipelines: Pipeline<any, any>[], options: { bodyLimit?: number; insecureLocal?: boolean; allowedHosts?: string[] } = {}): Promise<ApiFixture> {
  const runtime = await testRuntime(redis);
  const artifactDir = mkdtempSync(join(tmpdir(), 'conveyor-api-artifacts-'));
  const registry = createModelRegistry({ redis: runtime.redis, config: runtime.config, artifactDir });
  const schedules = scheduleService({ redis: runtime.redis, keys: runtime.keys, engine: runtime.engine, pipelines, clock: systemClock, logger: runtime.logger });
  const apiRuntime = apiRuntimeOf(runtime);
  const server = createApiServer({
    runtime: apiRuntime,
    pipelines,
    registry,
    schedules,
    auth: { adminTokens: options.insecureLocal ? [] : [ADMIN], readTokens: options.insecureLocal ? [] : [READER], insecureLocal: options.insecureLocal ?? false },
    bodyLimit: options.bodyLimit,
    allowedHosts: options.allowedHosts,
    strictResponses: true,
  });
  const worker = await withWorker(runtime, pipelines);
  const url = await server.listen(0, '127.0.0.1');
  return {
    runtime,
    worker,
    registry,
    server,
    url,
    artifactDir,
    apiRuntime,
    async close() {
      await server.close();
      await worker.stop(0);
      await runtime.close();
      rmSync(artifactDir, { recursive: true, force: true });
    },
  };
}

/** Registers `count` versions of a model with an accuracy that rises, and points `production` at v1. */
export async function seedModel(registry: ModelRegistry, name = 'churn', count = 3): Promise<void> {
  for (let v = 1; v <= count; v++) {
    await registry.register({
      name,
      artifact: { content: Buffer.from(`model bytes ${v}`), filename: 'model.json' },
      framework: 'cart',
      format: 'json',
      metrics: { accuracy: 0.8 + v * 0.03, f1: 0.7 + v * 0.04 },
      hyperparameters: { depth: v + 2, db_password: 'pw-should-not-show' },
      description: `version ${v}`,
    });
  }
  await registry.setAlias(name, 'production', 1, { actor: 'user:seed', reason: 'first release' });
}

export function client(url: string, token: string | null = ADMIN) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  };
}
