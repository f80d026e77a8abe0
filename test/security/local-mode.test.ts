import test from 'ava';
import { request as httpRequest } from 'node:http';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, diamond, startApiFixture, type ApiFixture } from '../api/api-fixture.ts';

/**
 * Token-less local mode (`conveyor dev`, `serve --insecure-local`): what a page on another site can
 * make a browser send — a "simple" POST (no JSON type, no custom header, so no CORS preflight), a
 * foreign Origin, a rebound DNS name in Host — is refused; the server's own pages and clients work.
 */

let redis: TestRedis;
let local: ApiFixture;
let secured: ApiFixture;
let port: number;

test.before(async () => {
  redis = await startTestRedis();
  local = await startApiFixture(redis, [diamond()], { insecureLocal: true, allowedHosts: ['conveyor.proxy.example:443'] });
  secured = await startApiFixture(redis, [diamond()]);
  port = Number(new URL(local.url).port);
});
test.after.always(async () => {
  await local?.close();
  await secured?.close();
  await redis?.destroy();
});

interface Sent {
  status: number;
  json: any;
}

function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Sent> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const runCount = async () => (await local.runtime.engine.listRuns({ limit: 100, offset: 0 })).length;
const json = { 'content-type': 'application/json' };

test.serial('a write a page could send without a preflight is refused and creates nothing', async (t) => {
  const before = await runCount();
  const simple: Array<[string, Record<string, string>, string | undefined]> = [
    ['no content type, no body', {}, undefined],
    ['text/plain body', { 'content-type': 'text/plain' }, '{"params":{"n":1}}'],
    ['form body', { 'content-type': 'application/x-www-form-urlencoded' }, 'params=1'],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
    ['custom header but a text body', { 'content-type': 'text/plain', 'x-conveyor-client': 'ui' }, '{}'],
  ];
  for (const [name, headers, body] of simple) {
    const res = await send(local.url, 'POST', '/api/v1/pipelines/diamond/runs', headers, body);
    t.is(res.status, 403, name);
    t.is(res.json.error.code, 'FORBIDDEN', name);
    t.regex(res.json.error.message, /Content-Type: application\/json/, name);
  }
  t.is((await send(local.url, 'POST', '/api/v1/pipelines/diamond/schedules/pause')).status, 403);
  t.is((await send(local.url, 'POST', '/api/v1/runs/r-none/cancel')).status, 403);
  t.is(await runCount(), before, 'no run was created');
  t.false((await send(local.url, 'GET', '/api/v1/schedules')).json.items.some((s: { paused: boolean }) => s.paused), 'no schedule was paused');
});

test.serial('JSON writes, and body-less writes that carry JSON type or the UI header, are served', async (t) => {
  const created = await send(local.url, 'POST', '/api/v1/pipelines/diamond/runs', json, '{"params":{"n":1}}');
  t.is(created.status, 201);
  const paused = await send(local.url, 'POST', '/api/v1/pipelines/diamond/schedules/pause', json);
  t.is(paused.status, 200, 'empty body with application/json');
  const resumed = await send(local.url, 'POST', '/api/v1/pipelines/diamond/schedules/resume', { 'x-conveyor-client': 'ui' });
  t.is(resumed.status, 200, 'no body, the UI header');
  t.deepEqual(resumed.json, { pipeline: 'diamond', paused: false });
});

test.serial('a foreign or opaque Origin is refused; the own origin is served', async (t) => {
  for (const origin of ['http://attacker.example', 'null', `http://127.0.0.1:${port + 1}`, `http://localhost:${port}.attacker.example`]) {
    const res = await send(local.url, 'POST', '/api/v1/pipelines/diamond/runs', { ...json, origin }, '{}');
    t.is(res.status, 403, origin);
    t.regex(res.json.error.message, /Origin/, origin);
    t.is((await send(local.url, 'GET', '/api/v1/runs', { origin })).status, 403, `GET with ${origin}`);
  }
  const own = await send(local.url, 'POST', '/api/v1/pipelines/diamond/runs', { ...json, origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` }, '{}');
  t.is(own.status, 201);
});

test.serial('a Host that is not loopback on the server port is refused (DNS rebinding); the allow-list admits a proxy name', async (t) => {
  for (const host of ['attacker.example', `attacker.example:${port}`, `localhost:${port + 1}`, `127.0.0.2:${port}`, 'localhost']) {
    const res = await send(local.url, 'GET', '/api/v1/runs', { host });
    t.is(res.status, 403, `Host "${host}"`);
    t.regex(res.json.error.message, /Host/);
  }
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`, 'conveyor.proxy.example:443']) {
    t.is((await send(local.url, 'GET', '/api/v1/runs', { host })).status, 200, `Host "${host}"`);
  }
  t.is((await send(local.url, 'GET', '/', { host: 'attacker.example' })).status, 403, 'the UI shell too');
});

test.serial('with tokens the Host and Origin rules do not apply (the token is what protects)', async (t) => {
  const res = await send(secured.url, 'GET', '/api/v1/runs', { host: 'conveyor.internal.example', authorization: `Bearer ${ADMIN}` });
  t.is(res.status, 200);
});
