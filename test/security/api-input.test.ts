import test from 'ava';
import { request as httpRequest } from 'node:http';
import { definePipeline } from '../../src/dsl/pipeline.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, client, diamond, startApiFixture, type ApiFixture } from '../api/api-fixture.ts';

/** Hostile request bodies and paths: each answers a 4xx in the API's one error envelope, nothing is created. */

let redis: TestRedis;
let api: ApiFixture;
let admin: ReturnType<typeof client>;
const free = definePipeline({ id: 'free', description: 'no params schema' }).step('only', async ({ params }) => ({ params }));

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(), free]);
  admin = client(api.url);
});
test.after.always(async () => {
  await api?.close();
  await redis?.destroy();
});

const runCount = async () => (await api.runtime.engine.listRuns({ limit: 100, offset: 0 })).length;

/** The envelope and nothing else: `{ error: { code, message, details? } }`. */
function assertEnvelope(t: import('ava').ExecutionContext, json: any, code: string | RegExp): void {
  t.deepEqual(Object.keys(json), ['error']);
  t.true(Object.keys(json.error).every((k) => ['code', 'message', 'details'].includes(k)), JSON.stringify(json));
  if (typeof code === 'string') t.is(json.error.code, code);
  else t.regex(json.error.code, code);
  t.is(typeof json.error.message, 'string');
}

test.serial('params nested 5,000 levels deep → 422 naming the depth limit; nothing created', async (t) => {
  const before = await runCount();
  const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  for (const pipeline of ['free', 'diamond']) {
    const res = await admin('POST', `/api/v1/pipelines/${pipeline}/runs`, `{"params":${deep}}`);
    t.is(res.status, 422, res.text.slice(0, 300));
    assertEnvelope(t, res.json, 'VALIDATION');
    t.regex(res.json.error.message, /params nest deeper than the limit of 64 levels/);
  }
  t.is(await runCount(), before);
});

test.serial('a non-finite number in params → 422 naming the field; nothing created', async (t) => {
  const before = await runCount();
  for (const [body, field] of [
    ['{"params": {"a": 1e999}}', 'params.a'],
    ['{"params": {"list": [1, {"b": -1e999}]}}', 'params.list[1].b'],
  ]) {
    const res = await admin('POST', '/api/v1/pipelines/free/runs', body);
    t.is(res.status, 422, body);
    assertEnvelope(t, res.json, 'VALIDATION');
    t.true(res.json.error.message.includes(`${field} must be a finite number`), res.json.error.message);
  }
  t.is(await runCount(), before);
});

function rawGet(path: string): Promise<{ status: number; json: any; length: number }> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { authorization: `Bearer ${ADMIN}` }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), length: text.length }));
    });
    req.on('error', reject);
    req.end();
  });
}

test.serial('a 10 KB run id, a malformed URL, bad JSON, a wrong media type: all in the envelope', async (t) => {
  const longId = 'r'.repeat(10_240);
  for (const [method, path] of [
    ['GET', `/api/v1/runs/${longId}`],
    ['GET', `/api/v1/runs/${longId}/logs`],
    ['POST', `/api/v1/runs/${longId}/cancel`],
  ]) {
    const res = await admin(method, path, method === 'POST' ? {} : undefined);
    t.is(res.status, 414, path.slice(0, 40));
    assertEnvelope(t, res.json, 'URI_TOO_LONG');
    t.true(res.text.length < 500, 'the path is not echoed back');
  }
  const malformed = await rawGet('/api/v1/runs/%E0%A4%A');
  t.is(malformed.status, 400);
  assertEnvelope(t, malformed.json, 'BAD_REQUEST');
  const badJson = await admin('POST', '/api/v1/pipelines/free/runs', '{"params": ');
  t.is(badJson.status, 400);
  assertEnvelope(t, badJson.json, 'BAD_REQUEST');
  const wrongType = await admin('POST', '/api/v1/pipelines/free/runs', 'params=1', { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(wrongType.status, 415);
  assertEnvelope(t, wrongType.json, 'UNSUPPORTED_MEDIA_TYPE');
  const tooBig = await admin('POST', '/api/v1/pipelines/free/runs', JSON.stringify({ params: { s: 'x'.repeat(3 * 1024 * 1024) } }));
  t.is(tooBig.status, 413);
  assertEnvelope(t, tooBig.json, 'PAYLOAD_TOO_LARGE');
});

test.serial('the OpenAPI document gives every operation the Error envelope for its error answers', async (t) => {
  const doc = (await admin('GET', '/api/v1/openapi.json')).json;
  for (const [path, operations] of Object.entries<any>(doc.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      t.deepEqual(operation.responses.default?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${method} ${path}`);
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (Number(status) >= 400) t.deepEqual(response.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${method} ${path} ${status}`);
      }
    }
  }
});
