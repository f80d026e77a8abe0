import test from 'ava';
import { request as httpRequest } from 'node:http';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, READER, client, diamond, seedModel, startApiFixture, type ApiFixture } from '../api/api-fixture.ts';

/**
 * Walks every route fastify registered (so a route added later is covered without editing this file)
 * with the plain path and spellings a router may normalise differently from a naive prefix check.
 * Nothing that is not declared public may answer 2xx without a token, nor a write with a read token.
 */

let redis: TestRedis;
let api: ApiFixture;
let runId: string;

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond()]);
  await seedModel(api.registry);
  const created = await client(api.url)('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 1 } });
  runId = created.json.runId;
  // So the artifact route has something to answer with when a request gets past auth.
  await api.runtime.store.artifacts.put(runId, 'a', 'report.md', '# report');
});
test.after.always(async () => {
  await api?.close();
  await redis?.destroy();
});

/** Real resources, so a request that got past auth would find data and answer 2xx. */
const concrete = (path: string) =>
  path.replace(/:([A-Za-z]+)/g, (_all, name: string) => ({ pipelineId: 'diamond', runId, model: 'churn', alias: 'production', file: 'app.js', name: 'report.md' })[name] ?? 'x');

const encodeChar = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
const mapSegments = (path: string, f: (segment: string, i: number) => string) => path.split('/').map((s, i) => (s ? f(s, i) : s)).join('/');

/** The plain path and odd spellings of it. */
export function variants(path: string): string[] {
  const out = new Set<string>([
    path,
    mapSegments(path, (s) => s.replace(/^[a-z]/i, encodeChar)), // /%61pi/%761/...
    mapSegments(path, (s) => s.replace(/^[a-z]/i, (c) => encodeChar(c).toUpperCase())), // %41 style hex case
    path.replace(/[a-z]/gi, encodeChar), // every letter encoded
    `/${path}`, // //api/...
    path.replace(/\//g, '//'),
    path.replace('/v1/', '/./v1/'),
    `/x/..${path}`,
    path.replace('/v1/', '/%2e/v1/'),
    path.replace('/v1/', '/v1/x/../'),
    path.replace(/\/(?!$)/g, (m, i: number) => (i === 0 ? m : '%2F')),
    `${path}/`,
    `${path}?`,
    `${path}#`,
    `${path}%20`,
    `${path};x`,
    `${path}.json`,
    `${path}%00`,
    `${path}%2F`,
    path.toUpperCase(),
    mapSegments(path, (s) => s[0].toUpperCase() + s.slice(1)),
    path.replace(/^\/api/, '/API'),
  ]);
  return [...out];
}

function send(method: string, path: string, token: string | null): Promise<number> {
  const url = new URL(api.url);
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent: false,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy(); // event streams would never end
      },
    );
    req.on('error', reject);
    req.end(hasBody ? '{}' : undefined);
  });
}

test('no protected route answers 2xx to any spelling of its path without a token, nor to a write with a read-only token', async (t) => {
  const protectedRoutes = api.server.registeredRoutes.filter((r) => !r.public);
  // The table really is the router's: every API operation, plus the HEAD twins of its GETs.
  t.true(api.server.routes.every((def) => protectedRoutes.some((r) => r.method === def.method && r.url === def.path)));
  t.true(protectedRoutes.some((r) => r.method === 'HEAD'));
  const admitted: string[] = [];
  for (const route of protectedRoutes) {
    const plain = concrete(route.url);
    for (const path of variants(plain)) {
      const anonymous = await send(route.method, path, null);
      if (anonymous >= 200 && anonymous < 300) admitted.push(`${route.method} ${path} without a token → ${anonymous}`);
      if (route.method !== 'GET' && route.method !== 'HEAD') {
        const reader = await send(route.method, path, READER);
        if (reader >= 200 && reader < 300) admitted.push(`${route.method} ${path} with a read-only token → ${reader}`);
      }
    }
  }
  t.deepEqual(admitted, []);
});

test('the walk can see a hole: with the admin token the plain GET paths answer 2xx', async (t) => {
  // Guards the test above against passing only because the concrete paths name nothing.
  const gets = api.server.registeredRoutes.filter((r) => !r.public && r.method === 'GET');
  for (const route of gets) t.is(Math.floor((await send('GET', concrete(route.url), ADMIN)) / 100), 2, route.url);
});

test('public routes are exactly health, metrics and the UI shell', (t) => {
  const open = [...new Set(api.server.registeredRoutes.filter((r) => r.public).map((r) => r.url))].sort();
  t.deepEqual(open, ['/', '/favicon.ico', '/healthz', '/metrics', '/ui/:file']);
});

test('an unmatched path answers the 404 envelope, with or without a token', async (t) => {
  for (const token of [null, ADMIN]) {
    const res = await client(api.url, token)('GET', '/api/v1/nothing-here');
    t.is(res.status, 404);
    t.is(res.json.error.code, 'NOT_FOUND');
  }
});
