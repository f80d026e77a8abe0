import test from 'ava';
import { createServer, type Server } from 'node:http';
import { postWebhook, WebhookDeliveryError } from '../../src/registry/index.ts';

/** A real HTTP server on 127.0.0.1 that answers each request with the next status in `statuses`. */
async function server(statuses: number[]): Promise<{ url: string; bodies: string[]; close: () => void }> {
  const bodies: string[] = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      res.statusCode = statuses[Math.min(bodies.length - 1, statuses.length - 1)];
      res.end(res.statusCode >= 400 ? 'boom' : 'ok');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook?token=secret`, bodies, close: () => srv.close() };
}

test('retries a server that fails twice, then succeeds; every attempt carries the same JSON', async (t) => {
  const s = await server([500, 503, 200]);
  t.teardown(s.close);
  const result = await postWebhook(s.url, { model: 'churn', version: 3 }, { retries: 3, backoffMs: 5 });
  t.deepEqual(result, { status: 200, attempts: 3 });
  t.is(s.bodies.length, 3);
  for (const body of s.bodies) t.deepEqual(JSON.parse(body), { model: 'churn', version: 3 });
});

test('gives up after the last retry with the last answer, without leaking the query string', async (t) => {
  const s = await server([500]);
  t.teardown(s.close);
  const err = await t.throwsAsync(postWebhook(s.url, {}, { retries: 2, backoffMs: 1 }), { instanceOf: WebhookDeliveryError });
  t.is(s.bodies.length, 3);
  t.regex(err!.message, /after 3 attempt\(s\): HTTP 500: boom/);
  t.false(err!.message.includes('secret'));
});

test('a 4xx rejection is not retried', async (t) => {
  const s = await server([400, 200]);
  t.teardown(s.close);
  await t.throwsAsync(postWebhook(s.url, {}, { retries: 5, backoffMs: 1 }), { instanceOf: WebhookDeliveryError, message: /HTTP 400/ });
  t.is(s.bodies.length, 1);
});
