/**
 * The run event stream (SSE, GET /api/v1/runs/:id/events) under the two ways the attacker pass broke
 * it: log lines read twice at once (duplicates and gaps) and clients gone before the stream was set up
 * (subscriptions and polls left running).
 */
import test from 'ava';
import { connect } from 'node:net';
import { definePipeline } from '../../src/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../fixtures/procs.ts';
import { ADMIN, startApiFixture, type ApiFixture } from './api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
let releaseHeld!: () => void;
const held = new Promise<void>((resolve) => (releaseHeld = resolve));

const ITEMS = 200;
const LINES = 5;
const chatty = definePipeline({ id: 'chatty', description: 'a map whose items log several lines each' })
  .map('items', { over: () => Array.from({ length: ITEMS }, (_, i) => i) }, async ({ log }, item: number) => {
    for (let l = 0; l < LINES; l++) log.info(`item ${item} line ${l}`);
    return item;
  });
const waiting = definePipeline({ id: 'waiting', description: 'runs until the test ends' }).step('hold', async () => {
  await held;
  return 1;
});

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [chatty, waiting]);
});
test.after.always(async () => {
  releaseHeld();
  await api?.close();
  await redis?.destroy();
});

/** Reads a run's SSE stream until `end`; returns the index of every log entry received, in order. */
async function logIndexes(runId: string): Promise<number[]> {
  const res = await fetch(`${api.url}/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: AbortSignal.timeout(60_000) });
  const decoder = new TextDecoder();
  let buffer = '';
  const indexes: number[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event === 'log') indexes.push(...(JSON.parse(data!).entries as Array<{ index: number }>).map((e) => e.index));
      if (event === 'end') return indexes;
    }
  }
  return indexes;
}

test('every log line reaches a stream exactly once, in order, while steps keep announcing changes', async (t) => {
  const { runId } = await api.runtime.engine.trigger(chatty, {});
  // Several streams at once, opened while the run goes: each step event and the 1 s poll both read logs.
  const streams = await Promise.all([1, 2, 3].map(() => logIndexes(runId)));
  const total = ITEMS * LINES;
  for (const indexes of streams) {
    // Before the fix: 30–65 indexes repeated and as many missing per stream.
    t.deepEqual(indexes, Array.from({ length: total }, (_, i) => i));
  }
});

test('a client gone before its stream was set up leaves no subscription or poll behind', async (t) => {
  const { runId } = await api.runtime.engine.trigger(waiting, {});
  await waitFor(async () => (await api.runtime.engine.getRun(runId)).steps.hold.status === 'running', 20_000, 'the held step running');
  const { port } = new URL(api.url);
  // Count the streams the server set up (the real feed, counted on its way in): the check below means
  // something only if the requests reached the handler.
  const feed = api.apiRuntime.events;
  const subscribe = feed.subscribe.bind(feed);
  let subscribed = 0;
  feed.subscribe = async (...args) => {
    subscribed++;
    return subscribe(...args);
  };
  t.teardown(() => {
    feed.subscribe = subscribe;
  });
  // 50 clients that send the request and hang up at once.
  await Promise.all(
    Array.from({ length: 50 }, () =>
      new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET /api/v1/runs/${runId}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', () => resolve());
      }),
    ),
  );
  // Before the fix the streams whose client left during setup stayed subscribed until the run ended.
  await waitFor(() => subscribed > 0, 10_000, 'the requests to reach the stream handler');
  await waitFor(() => api.apiRuntime.events.openStreams === 0, 10_000, 'every stream closed');
  t.is(api.apiRuntime.events.openStreams, 0);
});

test('GET /runs/:id/logs?step=<map> returns its items’ lines as `conveyor logs --step` does; an empty parameter means not given', async (t) => {
  const { runId } = await api.runtime.engine.trigger(chatty, {});
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  const get = async (query: string) => {
    const res = await fetch(`${api.url}/api/v1/runs/${runId}/logs?${query}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return { status: res.status, body: (await res.json()) as { entries: Array<{ step: string }> } };
  };
  // Before the fix: 0 lines (the filter matched `items` exactly; the lines belong to `items[0]`…).
  const items = await get('step=items&limit=5000');
  t.is(items.status, 200);
  t.is(items.body.entries.length, ITEMS * LINES);
  t.true(items.body.entries.every((e) => e.step.startsWith('items[')));
  t.is((await get('step=items[3]&limit=5000')).body.entries.length, LINES);
  // Before the fix: 400 ("expected >= 1") for `limit=` and for `step=`.
  const blank = await get('limit=&step=');
  t.is(blank.status, 200);
  t.is(blank.body.entries.length, 500, 'the default page size');
});
