/** Requests Node's HTTP parser refuses before fastify routes them still get the API's one error envelope. */
import test from 'ava';
import { rawHttp } from '../helpers/raw-http.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, diamond, startApiFixture, type ApiFixture } from './api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond()]);
});
test.after.always(async () => {
  await api?.close();
  await redis?.destroy();
});

const raw = (request: string) => rawHttp(api.url, request);

const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

test('a URL over the header size limit: 431 with the error envelope (was fastify’s own {error, message, statusCode})', async (t) => {
  const res = await fetch(`${api.url}/api/v1/runs?pipeline=${'a'.repeat(20_000)}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.is(res.status, 431);
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.is(body.error.code, 'HEADERS_TOO_LARGE');
});

test('a malformed request (Transfer-Encoding with Content-Length): 400 with the error envelope', async (t) => {
  const response = await raw('POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n');
  t.regex(response, /^HTTP\/1\.1 400 /);
  t.is(bodyOf(response).error.code, 'BAD_REQUEST');
});
