/**
 * The OpenAPI document matches behaviour: every operation is called for real (a success, and a
 * request with a bad path/query/body part), each answer's status must be documented for that
 * operation and its JSON body must validate against the documented schema (JSON Schema 2020-12,
 * as OpenAPI 3.1 uses). Bodies marked required answer 400 when missing; optional ones do not.
 */
import test from 'ava';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, diamond, failing, seedModel, startApiFixture, type ApiFixture } from './api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
let doc: any;
let runId = '';
let failedRunId = '';
let heldRunId = '';
let release: () => void = () => {};
const gates = new Map([['hold', new Promise<void>((resolve) => (release = resolve))]]);

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(gates), failing()]);
  await seedModel(api.registry);
  const res = await fetch(`${api.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${ADMIN}` } });
  doc = await SwaggerParser.dereference((await res.json()) as any);
  runId = (await api.runtime.engine.trigger(diamond(), { params: { n: 2 } })).runId;
  failedRunId = (await api.runtime.engine.trigger(failing(), {})).runId;
  await Promise.all([runId, failedRunId].map((id) => api.runtime.engine.waitForRun(id, { timeoutMs: 20_000 })));
  heldRunId = (await api.runtime.engine.trigger(diamond(gates), { params: { gate: 'hold' } })).runId;
});

test.after.always(async () => {
  release();
  await api?.close();
  await redis?.destroy();
});

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** A request per operation that should succeed, and one with a bad path, query or body part. */
function calls(): Array<{ template: string; ok: Call; bad?: Call }> {
  return [
    { template: '/api/v1/pipelines', ok: { method: 'GET', path: '/api/v1/pipelines' } },
    { template: '/api/v1/pipelines/{pipelineId}', ok: { method: 'GET', path: '/api/v1/pipelines/diamond' }, bad: { method: 'GET', path: '/api/v1/pipelines/bad%20name' } },
    { template: '/api/v1/pipelines/{pipelineId}/graph', ok: { method: 'GET', path: '/api/v1/pipelines/diamond/graph' }, bad: { method: 'GET', path: '/api/v1/pipelines/bad%20name/graph' } },
    { template: '/api/v1/pipelines/{pipelineId}/history', ok: { method: 'GET', path: '/api/v1/pipelines/diamond/history?limit=5' }, bad: { method: 'GET', path: '/api/v1/pipelines/diamond/history?limit=0' } },
    { template: '/api/v1/pipelines/{pipelineId}/runs', ok: { method: 'POST', path: '/api/v1/pipelines/diamond/runs', body: { params: { n: 3 } } }, bad: { method: 'POST', path: '/api/v1/pipelines/diamond/runs', body: { nope: 1 } } },
    { template: '/api/v1/pipelines/{pipelineId}/schedules/pause', ok: { method: 'POST', path: '/api/v1/pipelines/diamond/schedules/pause', body: {} }, bad: { method: 'POST', path: '/api/v1/pipelines/diamond/schedules/pause', body: { x: 1 } } },
    { template: '/api/v1/pipelines/{pipelineId}/schedules/resume', ok: { method: 'POST', path: '/api/v1/pipelines/diamond/schedules/resume', body: {} }, bad: { method: 'POST', path: '/api/v1/pipelines/bad%20name/schedules/resume', body: {} } },
    { template: '/api/v1/runs', ok: { method: 'GET', path: '/api/v1/runs?status=failed&idPrefix=r&limit=5' }, bad: { method: 'GET', path: '/api/v1/runs?limit=0' } },
    { template: '/api/v1/runs/{runId}', ok: { method: 'GET', path: `/api/v1/runs/${runId}` }, bad: { method: 'GET', path: '/api/v1/runs/bad%20id' } },
    { template: '/api/v1/runs/{runId}/graph', ok: { method: 'GET', path: `/api/v1/runs/${runId}/graph` }, bad: { method: 'GET', path: '/api/v1/runs/bad%20id/graph' } },
    { template: '/api/v1/runs/{runId}/artifacts', ok: { method: 'GET', path: `/api/v1/runs/${failedRunId}/artifacts` }, bad: { method: 'GET', path: '/api/v1/runs/bad%20id/artifacts' } },
    { template: '/api/v1/runs/{runId}/artifacts/{name}', ok: { method: 'GET', path: `/api/v1/runs/${failedRunId}/artifacts/report.md` }, bad: { method: 'GET', path: `/api/v1/runs/${failedRunId}/artifacts/..%2Fx` } },
    { template: '/api/v1/runs/{runId}/logs', ok: { method: 'GET', path: `/api/v1/runs/${runId}/logs?limit=10` }, bad: { method: 'GET', path: `/api/v1/runs/${runId}/logs?limit=-1` } },
    { template: '/api/v1/runs/{runId}/retry', ok: { method: 'POST', path: `/api/v1/runs/${failedRunId}/retry`, body: {} }, bad: { method: 'POST', path: '/api/v1/runs/bad%20id/retry', body: {} } },
    { template: '/api/v1/runs/{runId}/cancel', ok: { method: 'POST', path: `/api/v1/runs/${heldRunId}/cancel`, body: {} }, bad: { method: 'POST', path: '/api/v1/runs/bad%20id/cancel', body: {} } },
    { template: '/api/v1/models', ok: { method: 'GET', path: '/api/v1/models' } },
    { template: '/api/v1/models/{model}', ok: { method: 'GET', path: '/api/v1/models/churn' }, bad: { method: 'GET', path: '/api/v1/models/bad%20name' } },
    { template: '/api/v1/models/{model}/versions', ok: { method: 'GET', path: '/api/v1/models/churn/versions' }, bad: { method: 'GET', path: '/api/v1/models/churn/versions?limit=0' } },
    { template: '/api/v1/models/{model}/history', ok: { method: 'GET', path: '/api/v1/models/churn/history' }, bad: { method: 'GET', path: '/api/v1/models/churn/history?offset=-1' } },
    { template: '/api/v1/models/{model}/aliases/{alias}', ok: { method: 'POST', path: '/api/v1/models/churn/aliases/production', body: { version: 2, reason: 'conformance' } }, bad: { method: 'POST', path: '/api/v1/models/churn/aliases/production', body: { version: 'two' } } },
    { template: '/api/v1/models/{model}/aliases/{alias}/rollback', ok: { method: 'POST', path: '/api/v1/models/churn/aliases/production/rollback', body: { reason: 'conformance' } }, bad: { method: 'POST', path: '/api/v1/models/churn/aliases/production/rollback', body: {} } },
    { template: '/api/v1/schedules', ok: { method: 'GET', path: '/api/v1/schedules' } },
    { template: '/api/v1/queues', ok: { method: 'GET', path: '/api/v1/queues' } },
    { template: '/api/v1/workers', ok: { method: 'GET', path: '/api/v1/workers' } },
  ];
}

async function send(call: Call): Promise<{ status: number; type: string; body: unknown }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api.url}${call.path}`, { method: call.method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body: type.includes('json') ? await res.json() : await res.text() };
}

test.serial('every operation answers with a documented status and a body that validates against the document', async (t) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const problems: string[] = [];
  const exercised = new Set<string>();
  for (const { template, ok, bad } of calls()) {
    const operation = doc.paths[template]?.[ok.method.toLowerCase()];
    if (!operation) {
      problems.push(`${ok.method} ${template} is not in the document`);
      continue;
    }
    exercised.add(`${ok.method} ${template}`);
    for (const [kind, call] of [['ok', ok], ['bad', bad]] as const) {
      if (!call) continue;
      const res = await send(call);
      const where = `${call.method} ${call.path} (${operation.operationId}, ${kind})`;
      if (kind === 'ok' && res.status >= 300) problems.push(`${where}: expected success, got ${res.status} ${JSON.stringify(res.body)}`);
      if (kind === 'bad' && res.status !== 400) problems.push(`${where}: expected 400, got ${res.status}`);
      const documented = operation.responses[String(res.status)];
      if (!documented) {
        problems.push(`${where}: status ${res.status} is not documented (has ${Object.keys(operation.responses).join(', ')})`);
        continue;
      }
      const schema = documented.content?.['application/json']?.schema;
      if (schema && res.type.includes('json') && !ajv.validate(schema, res.body)) problems.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
    }
  }
  const documentedOps = Object.entries(doc.paths).flatMap(([path, ops]: [string, any]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  const skipped = new Set(['GET /api/v1/runs/{runId}/events', 'GET /api/v1/openapi.json']);
  for (const op of documentedOps) if (!exercised.has(op) && !skipped.has(op)) problems.push(`${op} is documented but not exercised by this test`);
  t.deepEqual(problems, []);
});

test.serial('every operation with path, query or body parameters documents 400; required bodies are enforced', async (t) => {
  const problems: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths) as Array<[string, Record<string, any>]>) {
    for (const [method, op] of Object.entries(ops)) {
      const hasInput = (op.parameters ?? []).some((p: any) => p.in === 'path' || p.in === 'query') || op.requestBody;
      if (hasInput && !op.responses['400']) problems.push(`${method.toUpperCase()} ${path}: no 400 documented`);
      if (!op.requestBody) continue;
      const concrete = path.replace('{pipelineId}', 'diamond').replace('{model}', 'churn').replace('{alias}', 'staging').replace('{runId}', runId);
      const res = await fetch(`${api.url}${concrete}`, { method: method.toUpperCase(), headers: { authorization: `Bearer ${ADMIN}` } });
      if (op.requestBody.required && res.status !== 400) problems.push(`${method.toUpperCase()} ${path}: body required but a request without one got ${res.status}`);
      if (!op.requestBody.required && res.status === 400) problems.push(`${method.toUpperCase()} ${path}: body optional but a request without one got 400 ${await res.text()}`);
    }
  }
  t.deepEqual(problems, []);
});
