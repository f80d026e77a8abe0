import test from 'ava';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, client, diamond, failing, startApiFixture, type ApiFixture } from './api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
let call: ReturnType<typeof client>;
const gates = new Map<string, Promise<void>>();
let release: () => void = () => {};
gates.set('held', new Promise<void>((resolve) => (release = resolve)));

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(gates), failing()], { bodyLimit: 64 * 1024 });
  call = client(api.url);
});
test.after.always(async () => {
  release();
  await api?.close();
  await redis?.destroy();
});

async function waitFor(runId: string, status: string) {
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
  const { json } = await call('GET', `/api/v1/runs/${runId}`);
  if (json.status !== status) throw new Error(`expected run ${runId} to be ${status}, found ${json.status}: ${JSON.stringify(json.steps)}`);
  return json;
}

test.serial('lists pipelines with steps, DAG hash and schedules; gets a definition with a params JSON schema', async (t) => {
  const list = await call('GET', '/api/v1/pipelines');
  t.is(list.status, 200);
  const d = list.json.items.find((p: any) => p.id === 'diamond');
  t.deepEqual(d.steps, ['a', 'b', 'c', 'd']);
  t.regex(d.dagHash, /^[0-9a-f]{8,}$/);
  t.is(d.schedules[0].cron, '0 * * * *');

  const def = await call('GET', '/api/v1/pipelines/diamond');
  t.is(def.status, 200);
  t.is(def.json.paramsSchema.properties.n.type, 'integer');
  t.is(def.json.paramsSchema.properties.n.maximum, 100);
  t.deepEqual(def.json.spec.steps.find((s: any) => s.name === 'd').needs, ['b', 'c']);

  const missing = await call('GET', '/api/v1/pipelines/nope');
  t.is(missing.status, 404);
  t.regex(missing.json.error.message, /pipeline "nope" not found \(known: .*diamond/);
});

test.serial('graph: every step is a node, every need an edge, laid out left to right', async (t) => {
  const { status, json } = await call('GET', '/api/v1/pipelines/diamond/graph');
  t.is(status, 200);
  const x = Object.fromEntries(json.nodes.map((n: any) => [n.id, n.x]));
  t.deepEqual(Object.keys(x).sort(), ['a', 'b', 'c', 'd']);
  t.true(x.a < x.b && x.b < x.d && x.a < x.c && x.c < x.d);
  t.deepEqual(json.edges.map((e: any) => `${e.from}>${e.to}`).sort(), ['a>b', 'a>c', 'b>d', 'c>d']);
  t.true(json.edges.every((e: any) => e.points.length >= 2));
});

test.serial('trigger → 201 with a run that succeeds; get shows each step output; secrets are masked', async (t) => {
  const created = await call('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 3, api_key: 'sk-live-123' } });
  t.is(created.status, 201, created.text);
  t.true(created.json.created);
  t.is(created.headers.get('location'), `/api/v1/runs/${created.json.runId}`);
  t.is(created.json.run.params.api_key, '***');
  const run = await waitFor(created.json.runId, 'succeeded');
  t.deepEqual(run.steps.d.output, { sum: 15 });
  t.is(run.steps.a.output.api_key, '***');
  t.is(run.params.n, 3);
  t.is(run.trigger.type, 'manual');
  t.false(JSON.stringify(run).includes('sk-live-123'));

  const logs = await call('GET', `/api/v1/runs/${run.id}/logs?offset=0&limit=10`);
  t.is(logs.status, 200);
  const line = logs.json.entries.find((e: any) => e.step === 'a');
  t.is(line.msg, 'connecting with password=***');
  t.is(line.fields.token, '***');
  t.is(line.fields.n, 3);
  t.false(logs.text.includes('hunter2'));
  t.false(logs.text.includes('tok-secret'));
});

test.serial('runs list filters by pipeline and status and pages with limit/offset', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await call('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 1 } })).json.runId);
  const failed = (await call('POST', '/api/v1/pipelines/fails/runs', {})).json.runId;
  for (const id of ids) await waitFor(id, 'succeeded');
  await waitFor(failed, 'failed');

  const first = await call('GET', '/api/v1/runs?pipeline=diamond&limit=2');
  t.is(first.status, 200);
  t.is(first.json.items.length, 2);
  t.deepEqual(first.json.items.map((r: any) => r.id), [ids[2], ids[1]]);
  t.is(first.json.nextOffset, 2);
  const second = await call('GET', '/api/v1/runs?pipeline=diamond&limit=2&offset=2');
  t.is(second.json.items[0].id, ids[0]);

  const onlyFailed = await call('GET', '/api/v1/runs?status=failed');
  t.deepEqual(onlyFailed.json.items.map((r: any) => r.id), [failed]);
  t.true(onlyFailed.json.items.every((r: any) => r.pipeline === 'fails'));

  const bad = await call('GET', '/api/v1/runs?status=exploded&limit=0');
  t.is(bad.status, 400);
  t.regex(bad.json.error.message, /query\.status/);
  t.regex(bad.json.error.message, /query\.limit/);
});

test.serial('a failed step shows its error; retry re-runs it (409 for a run that is not finished)', async (t) => {
  const { runId } = (await call('POST', '/api/v1/pipelines/fails/runs', {})).json;
  const run = await waitFor(runId, 'failed');
  t.is(run.steps.load.status, 'succeeded');
  t.is(run.steps.validate.status, 'failed');
  t.regex(run.steps.validate.error.message, /expected column "age" to be numeric/);
  t.is(run.steps.publish.status, 'skipped');

  const retried = await call('POST', `/api/v1/runs/${runId}/retry`, {});
  t.is(retried.status, 200);
  t.deepEqual(retried.json.requeued, ['validate']);
  await waitFor(runId, 'failed');

  const notFound = await call('POST', '/api/v1/runs/r-none/retry', {});
  t.is(notFound.status, 404);
});

test.serial('cancel a running run → cancelled; cancelling again → 409', async (t) => {
  const { runId } = (await call('POST', '/api/v1/pipelines/diamond/runs', { params: { gate: 'held' } })).json;
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 500 }).catch(() => {});
  const cancelled = await call('POST', `/api/v1/runs/${runId}/cancel`, {});
  t.is(cancelled.status, 200);
  t.is((await call('GET', `/api/v1/runs/${runId}`)).json.status, 'cancelled');
  const again = await call('POST', `/api/v1/runs/${runId}/cancel`, {});
  t.is(again.status, 409);
  t.is(again.json.error.code, 'CONFLICT');
});

test.serial('Idempotency-Key: same key → same run and 200; another key → another run', async (t) => {
  const first = await call('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 4 } }, { 'idempotency-key': 'deploy-2026-03-01' });
  t.is(first.status, 201);
  const repeat = await call('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 4 } }, { 'idempotency-key': 'deploy-2026-03-01' });
  t.is(repeat.status, 200);
  t.false(repeat.json.created);
  t.is(repeat.json.runId, first.json.runId);
  const other = await call('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 4 } }, { 'idempotency-key': 'deploy-2026-03-02' });
  t.is(other.status, 201);
  t.not(other.json.runId, first.json.runId);
  const list = await call('GET', '/api/v1/runs?pipeline=diamond&limit=200');
  t.is(list.json.items.filter((r: any) => r.id === first.json.runId).length, 1);
  const badKey = await call('POST', '/api/v1/pipelines/diamond/runs', {}, { 'idempotency-key': 'has space' });
  t.is(badKey.status, 400);
});

test.serial('validation: malformed JSON and wrong shapes → 400; params the pipeline rejects → 422 naming the field', async (t) => {
  const before = (await call('GET', '/api/v1/runs?limit=200')).json.items.length;
  const malformed = await call('POST', '/api/v1/pipelines/diamond/runs', '{"params": {', {});
  t.is(malformed.status, 400);
  t.is(malformed.json.error.code, 'BAD_REQUEST');
  const shape = await call('POST', '/api/v1/pipelines/diamond/runs', { params: [1, 2], extra: true });
  t.is(shape.status, 400);
  t.regex(shape.json.error.message, /body\.params/);
  const semantic = await call('POST', '/api/v1/pipelines/diamond/runs', { params: { n: 1000 } });
  t.is(semantic.status, 422);
  t.is(semantic.json.error.code, 'VALIDATION');
  t.true(semantic.json.error.details.issues.some((i: string) => /params\.n: .*100/.test(i)), JSON.stringify(semantic.json));
  const badPath = await call('GET', '/api/v1/runs/has:colon');
  t.is(badPath.status, 400);
  const after = (await call('GET', '/api/v1/runs?limit=200')).json.items.length;
  t.is(after, before, 'rejected requests create no run');
});

test.serial('a body over the limit → 413', async (t) => {
  const big = await call('POST', '/api/v1/pipelines/diamond/runs', { params: { blob: 'x'.repeat(100 * 1024) } });
  t.is(big.status, 413);
  t.is(big.json.error.code, 'PAYLOAD_TOO_LARGE');
});

test.serial('SSE: a new client gets the run, then step events and log lines live, then end', async (t) => {
  let open: () => void = () => {};
  gates.set('sse', new Promise<void>((resolve) => (open = resolve)));
  const { runId } = (await call('POST', '/api/v1/pipelines/diamond/runs', { params: { gate: 'sse', n: 2 } })).json;
  const response = await fetch(`${api.url}/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: Array<{ event: string; data: any }> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  let opened = false;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    // Step b is held: release it only once the stream is open, so its events must arrive live.
    if (!opened && events.some((e) => e.event === 'run')) {
      opened = true;
      open();
    }
  }
  t.is(events[0].event, 'run');
  t.true(events.some((e) => e.event === 'step' && e.data.step === 'b' && e.data.status === 'succeeded'));
  t.true(events.some((e) => e.event === 'step' && e.data.step === 'd' && e.data.status === 'succeeded'));
  const logs = events.filter((e) => e.event === 'log').flatMap((e) => e.data.entries);
  t.true(logs.some((l: any) => l.step === 'a' && l.msg === 'connecting with password=***'));
  const last = events.at(-1)!;
  t.is(last.event, 'end');
  t.is(last.data.status, 'succeeded');
  const finalRun = events.filter((e) => e.event === 'run').at(-1)!;
  t.is(finalRun.data.steps.d.status, 'succeeded');
});
