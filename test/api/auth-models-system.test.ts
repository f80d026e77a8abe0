import test from 'ava';
import SwaggerParser from '@apidevtools/swagger-parser';
import { checkAuthSetup, TokenAuth } from '../../src/api/auth.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, READER, client, diamond, failing, seedModel, startApiFixture, type ApiFixture } from './api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
let admin: ReturnType<typeof client>;
let reader: ReturnType<typeof client>;

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(), failing()]);
  admin = client(api.url);
  reader = client(api.url, READER);
  await seedModel(api.registry);
});
test.after.always(async () => {
  await api?.close();
  await redis?.destroy();
});

test.serial('auth: no token → 401 with a challenge, forged token → 401, on every API route', async (t) => {
  for (const route of api.server.routes) {
    const path = route.path.replace(':pipelineId', 'diamond').replace(':runId', 'r1').replace(':model', 'churn').replace(':alias', 'production');
    const none = await client(api.url, null)(route.method, path, route.method === 'GET' ? undefined : {});
    t.is(none.status, 401, `${route.method} ${path} without token`);
    const forged = await client(api.url, `${ADMIN}x`)(route.method, path, route.method === 'GET' ? undefined : {});
    t.is(forged.status, 401, `${route.method} ${path} with a forged token`);
  }
  const none = await client(api.url, null)('GET', '/api/v1/runs');
  t.is(none.headers.get('www-authenticate'), 'Bearer realm="conveyor"');
  t.is(none.json.error.code, 'UNAUTHORIZED');
  const basic = await fetch(`${api.url}/api/v1/runs`, { headers: { authorization: `Basic ${Buffer.from(`x:${ADMIN}`).toString('base64')}` } });
  t.is(basic.status, 401);
});

test.serial('auth: a read-only token may GET but gets 403 on every write', async (t) => {
  t.is((await reader('GET', '/api/v1/runs')).status, 200);
  t.is((await reader('GET', '/api/v1/models')).status, 200);
  const writes = api.server.routes.filter((r) => r.method !== 'GET');
  t.true(writes.length >= 7);
  for (const route of writes) {
    const path = route.path.replace(':pipelineId', 'diamond').replace(':runId', 'r1').replace(':model', 'churn').replace(':alias', 'production');
    const res = await reader(route.method, path, { version: 2, reason: 'x' });
    t.is(res.status, 403, `${route.method} ${path}`);
    t.is(res.json.error.code, 'FORBIDDEN');
  }
  t.is((await admin('GET', '/api/v1/runs')).status, 200);
  const aliases = (await admin('GET', '/api/v1/models/churn')).json.aliases;
  t.is(aliases.production, 1, 'the refused promote moved nothing');
});

test.serial('/healthz and / need no token; /metrics is 404 when no metrics provider is wired', async (t) => {
  const health = await fetch(`${api.url}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await health.json(), { status: 'ok' });
  t.is((await fetch(`${api.url}/metrics`)).status, 404);
});

test('TokenAuth: admin, read-only, forged and missing tokens; insecure-local only on loopback', (t) => {
  const auth = new TokenAuth({ adminTokens: [ADMIN], readTokens: [READER], insecureLocal: false });
  t.deepEqual(auth.check('POST', `Bearer ${ADMIN}`), { ok: true, role: 'admin' });
  t.deepEqual(auth.check('GET', `Bearer ${READER}`), { ok: true, role: 'read' });
  t.like(auth.check('DELETE', `Bearer ${READER}`), { ok: false, status: 403 });
  t.like(auth.check('GET', `Bearer ${ADMIN.slice(0, -1)}`), { ok: false, status: 401 });
  t.like(auth.check('GET', undefined), { ok: false, status: 401 });
  t.throws(() => checkAuthSetup({ adminTokens: [], readTokens: [], insecureLocal: false }, '0.0.0.0'), { message: /CONVEYOR_API_TOKEN.*--insecure-local/ });
  t.throws(() => checkAuthSetup({ adminTokens: [], readTokens: [], insecureLocal: true }, '0.0.0.0'), { message: /127\.0\.0\.1 only; found host "0\.0\.0\.0"/ });
  t.notThrows(() => checkAuthSetup({ adminTokens: [], readTokens: [], insecureLocal: true }, '127.0.0.1'));
  t.notThrows(() => checkAuthSetup({ adminTokens: [ADMIN], readTokens: [], insecureLocal: false }, '0.0.0.0'));
});

test.serial('models: list, versions with metrics (secrets masked), history', async (t) => {
  const models = await admin('GET', '/api/v1/models');
  t.is(models.status, 200);
  t.is(models.json.items[0].name, 'churn');
  t.is(models.json.items[0].latestVersion, 3);
  const versions = await admin('GET', '/api/v1/models/churn/versions');
  t.deepEqual(versions.json.items.map((v: any) => v.version), [3, 2, 1]);
  t.is(versions.json.items[2].metrics.accuracy, 0.8 + 0.03);
  t.is(versions.json.items[0].hyperparameters.db_password, '***');
  t.is(versions.json.items[0].hyperparameters.depth, 5);
  const history = await admin('GET', '/api/v1/models/churn/history');
  t.is(history.json.items[0].reason, 'first release');
  t.is((await admin('GET', '/api/v1/models/nope/versions')).status, 404);
});

test.serial('models: promote with a reason, rollback; audit log records actor and reason; bad input → 400/404/409', async (t) => {
  const promoted = await admin('POST', '/api/v1/models/churn/aliases/production', { version: 3, reason: 'better f1', actor: 'user:alice' });
  t.is(promoted.status, 200, promoted.text);
  t.like(promoted.json, { action: 'set', alias: 'production', from: 1, to: 3, actor: 'user:alice', reason: 'better f1' });
  t.is((await admin('GET', '/api/v1/models/churn')).json.aliases.production, 3);

  const rolled = await admin('POST', '/api/v1/models/churn/aliases/production/rollback', { reason: 'latency regression' });
  t.is(rolled.status, 200);
  t.like(rolled.json, { action: 'rollback', from: 3, to: 1, actor: 'api:admin' });
  const history = await admin('GET', '/api/v1/models/churn/history?alias=production');
  t.deepEqual(history.json.items.map((e: any) => e.reason), ['latency regression', 'better f1', 'first release']);

  t.is((await admin('POST', '/api/v1/models/churn/aliases/production', { version: 2 })).status, 400, 'reason is required');
  t.is((await admin('POST', '/api/v1/models/churn/aliases/production', { version: 99, reason: 'x' })).status, 404);
  const cas = await admin('POST', '/api/v1/models/churn/aliases/production', { version: 2, reason: 'x', expectedVersion: 3 });
  t.is(cas.status, 409);
  t.regex(cas.json.error.message, /expected it at version 3, found it at version 1/);
  t.is((await admin('POST', '/api/v1/models/churn/aliases/staging/rollback', { reason: 'x' })).status, 409);
});

test.serial('schedules: list with next ticks; pause and resume', async (t) => {
  const list = await admin('GET', '/api/v1/schedules');
  t.is(list.status, 200);
  const hourly = list.json.items.find((s: any) => s.pipeline === 'diamond');
  t.like(hourly, { schedule: 'hourly', cron: '0 * * * *', paused: false });
  t.is(hourly.nextTicks.length, 3);
  t.true(hourly.nextTicks.every((tick: string) => new Date(tick).getUTCMinutes() === 0));
  t.deepEqual((await admin('POST', '/api/v1/pipelines/diamond/schedules/pause', {})).json, { pipeline: 'diamond', paused: true });
  t.true((await admin('GET', '/api/v1/schedules')).json.items.find((s: any) => s.pipeline === 'diamond').paused);
  await admin('POST', '/api/v1/pipelines/diamond/schedules/resume', {});
  t.false((await admin('GET', '/api/v1/schedules')).json.items.find((s: any) => s.pipeline === 'diamond').paused);
  t.is((await admin('POST', '/api/v1/pipelines/nope/schedules/pause', {})).status, 404);
});

test.serial('queues and workers: the in-process worker is live and its queue is listed with depth', async (t) => {
  const workers = await admin('GET', '/api/v1/workers');
  t.is(workers.status, 200);
  t.is(workers.json.items.length, 1);
  t.deepEqual(workers.json.items[0].queues, ['default']);
  t.deepEqual(workers.json.items[0].pipelines.map((p: any) => p.id).sort(), ['diamond', 'fails']);
  const queues = await admin('GET', '/api/v1/queues');
  const q = queues.json.items.find((i: any) => i.name === 'default');
  t.like(q, { waiting: 0, oldestWaitingAgeMs: 0 });
  t.is(typeof q.active, 'number');
});

test.serial('openapi.json: a valid OpenAPI 3.1 document describing every route, with resolvable schemas', async (t) => {
  const { status, json } = await admin('GET', '/api/v1/openapi.json');
  t.is(status, 200);
  t.is(json.openapi, '3.1.0');
  for (const route of api.server.routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    t.truthy(json.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path} documented`);
  }
  t.is(json.paths['/api/v1/runs/{runId}'].get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/RunView');
  const trigger = json.paths['/api/v1/pipelines/{pipelineId}/runs'].post;
  t.truthy(trigger.responses['422']);
  t.true(trigger.parameters.some((p: any) => p.in === 'header' && p.name === 'Idempotency-Key'));
  // Validates against the OpenAPI 3.1 schema and resolves every $ref.
  const validated = (await SwaggerParser.validate(structuredClone(json))) as any;
  t.is(validated.openapi, '3.1.0');
  const dereferenced = (await SwaggerParser.dereference(structuredClone(json))) as any;
  t.is(dereferenced.paths['/api/v1/runs/{runId}'].get.responses['200'].content['application/json'].schema.properties.steps.additionalProperties.properties.attempts.type, 'number');
});
