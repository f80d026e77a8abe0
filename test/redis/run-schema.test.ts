import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { RUN_TRANSITIONS, STEP_INITIAL_LETTERS, STEP_TRANSITIONS, type RunStatus, type StepLetter } from '../../src/domain/run-state.ts';
import { storedRunKeysSchema } from '../../src/redis/run-schema.ts';
import { decodeStepState } from '../../src/redis/run-records.ts';
import { testRuntime } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

/**
 * The run-state schema (src/redis/run-schema.ts) and transition tables (src/domain/run-state.ts)
 * against the real scripts: every script is driven through the store on a private Redis, after each
 * call every key of the run is parsed strictly (an unknown field fails), and every status change seen
 * must be listed in the tables. The tables' entries must all be seen too, so neither can drift.
 */

let redis: TestRedis;
let rt: Runtime;
test.before(async () => {
  redis = await startTestRedis();
  rt = await testRuntime(redis);
});
test.after.always(async () => {
  await rt?.close();
  await redis?.destroy();
});

const pipeline = definePipeline({ id: 'schema', defaults: { retries: 2, backoff: { type: 'fixed' as const, delayMs: 10 } } })
  .step('a', () => 1)
  .step('b', { needs: ['a'] }, () => 1)
  .step('c', { needs: ['b'] }, () => 1)
  .map('m', { needs: ['a'], over: () => [1, 2] }, () => 1);

const seenStep = new Set<string>();
const seenRun = new Set<string>();
const problems: string[] = [];
/** Step records seen in the compact form of a finished step (src/redis/step-info-codec.ts). */
let compactSeen = 0;
const errorJson = JSON.stringify({ message: 'boom', name: 'Error', stack: 'Error: boom' });
const resources = { wallMs: 5, cpuMs: 3.25, rssBytes: 1_000_000 };

async function read(runId: string) {
  const k = rt.keys.run(runId);
  const [run, def, status, pending, bad, condSkip, output, info, items] = await Promise.all(
    [k.run, k.def, k.status, k.pending, k.bad, k.condSkip, k.output, k.info, k.items].map((key) => rt.redis.hgetall(key)),
  );
  return { run, def, status, pending, bad, condSkip, output, info, items };
}

/** Runs one script call, then parses the whole run and records the transitions it made. */
async function drive(runId: string, what: string, call: () => Promise<unknown>): Promise<void> {
  const before = await read(runId);
  await call();
  const after = await read(runId);
  const parsed = storedRunKeysSchema.safeParse(after);
  compactSeen += Object.values(after.info).filter((record) => !record.startsWith('{')).length;
  if (!parsed.success) problems.push(`${what}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  for (const [step, letter] of Object.entries(after.status)) {
    const was = before.status[step] as StepLetter | undefined;
    if (was === letter) continue;
    const ok = was ? STEP_TRANSITIONS[was]?.includes(letter as StepLetter) : STEP_INITIAL_LETTERS.includes(letter as StepLetter);
    if (!ok) problems.push(`${what}: step ${step} ${was ?? '(new)'} → ${letter} is not in STEP_TRANSITIONS`);
    if (was) seenStep.add(`${was}>${letter}`);
  }
  const [from, to] = [before.run.status as RunStatus | undefined, after.run.status as RunStatus];
  if (from && from !== to) {
    if (!RUN_TRANSITIONS[from].includes(to)) problems.push(`${what}: run ${from} → ${to} is not in RUN_TRANSITIONS`);
    seenRun.add(`${from}>${to}`);
  }
}

let tokens = 0;
async function start(runId: string, step: string, needs: string[] = [], isMapItem = false): Promise<string> {
  const token = `t${++tokens}`;
  await drive(runId, `start ${step}`, async () => {
    const started = await rt.store.startStep(runId, step, token, 'w1', 1, needs, Date.now(), { isMapItem, withFixed: true, codeVersion: 'v1' });
    if (!started.ok) throw new Error(`start ${step}: ${started.reason}`);
  });
  return token;
}
async function complete(runId: string, step: string, token: string, outcome: 's' | 'f' | 'k', force = false): Promise<void> {
  const payload = outcome === 's' ? '{"json":1}' : outcome === 'f' ? errorJson : 'condition was false';
  await drive(runId, `complete ${step} ${outcome}`, () => rt.store.completeStep(runId, step, token, outcome, payload, Date.now(), { force, resources }));
}
const trigger = async () => (await rt.engine.trigger(pipeline)).runId;
const store = () => rt.store;

test.serial('every script writes only what the schema describes, and changes status only as the tables allow', async (t) => {
  // 1. A run that succeeds through retries, a hand-back, a park, a wait and a map.
  const r1 = await trigger();
  let tok = await start(r1, 'a');
  await drive(r1, 'retry a', () => store().recordRetry(r1, 'a', tok, errorJson, Date.now(), Date.now() + 10));
  tok = await start(r1, 'a');
  await drive(r1, 'hand back a', () => store().handBack(r1, 'a', tok, 'worker shutdown', Date.now()));
  await drive(r1, 'wait a', () => store().markWaiting(r1, 'a', { waitingFor: 'schema@v2', queue: 'default~schema~v2', jobId: `${r1}.a`, now: Date.now(), timeoutMs: 60_000 }));
  tok = await start(r1, 'a');
  await drive(r1, 'park a', () => store().parkStep(r1, 'a', tok, JSON.stringify({ cursor: 3 }), Date.now(), `${r1}.a.p1`));
  tok = await start(r1, 'a');
  await complete(r1, 'a', tok, 's');
  tok = await start(r1, 'm', ['a']);
  await drive(r1, 'expand m', () => store().expandMap(r1, 'm', tok, ['1', '2'], { maxParallel: 1, now: Date.now(), minSuccess: 1 }));
  for (const inst of ['m[0]', 'm[1]']) await complete(r1, inst, await start(r1, inst, [], true), 's');
  await complete(r1, 'b', await start(r1, 'b', ['a']), 'k');
  t.is((await store().getRun(r1))?.status, 'succeeded');

  // 2. A failure skips its dependents; a retry resets them; a cancel stops queued, pending and running steps.
  const r2 = await trigger();
  await complete(r2, 'a', await start(r2, 'a'), 'f');
  await drive(r2, 'retry run', () => store().retryRun(r2, { now: Date.now() }));
  await complete(r2, 'a', await start(r2, 'a'), 's');
  await start(r2, 'b', ['a']);
  await drive(r2, 'cancel run', () => store().cancelRun(r2, 'test', Date.now()));
  await drive(r2, 'retry run', () => store().retryRun(r2, { now: Date.now() }));

  // 3. The reconciler fails a queued step; a cancelled map; a map whose item fails.
  const r3 = await trigger();
  await complete(r3, 'a', '', 'f', true);
  await drive(r3, 'retry run', () => store().retryRun(r3, { now: Date.now() }));
  await complete(r3, 'a', await start(r3, 'a'), 's');
  tok = await start(r3, 'm', ['a']);
  await drive(r3, 'expand m', () => store().expandMap(r3, 'm', tok, ['1', '2'], { maxParallel: 0, now: Date.now() }));
  await drive(r3, 'cancel run', () => store().cancelRun(r3, 'test', Date.now()));
  await drive(r3, 'retry run', () => store().retryRun(r3, { now: Date.now() }));
  tok = await start(r3, 'm', ['a']);
  await drive(r3, 're-expand m', () => store().expandMap(r3, 'm', tok, ['1', '2'], { maxParallel: 1, now: Date.now() }));
  await complete(r3, 'm[0]', await start(r3, 'm[0]', [], true), 'f');
  await complete(r3, 'm[1]', await start(r3, 'm[1]', [], true), 's');

  // 5. Eager dispatch: completing a claims b for its worker (p → r, with a lease), the lease is renewed,
  // the claimed delivery hands b back, and a job delivery takes it over (clearing the lease).
  const r5 = await trigger();
  const claim = { steps: ['b'], token: 'eager-b', worker: 'w1', leaseDeadline: Date.now() + 30_000, codeVersion: 'v1', withFixed: true, needsOf: () => ['a'] };
  let claimed: unknown;
  tok = await start(r5, 'a');
  await drive(r5, 'complete a claiming b', async () => {
    const done = await store().completeStep(r5, 'a', tok, 's', '{"json":1}', Date.now(), { resources, claim });
    claimed = done.ok ? done.claimed?.step : undefined;
  });
  t.is(claimed, 'b', 'a also makes m ready: the offered b is claimed, m goes to its queue');
  const r6 = await trigger();
  tok = await start(r6, 'a');
  await complete(r6, 'a', tok, 's');
  await complete(r6, 'm', await start(r6, 'm', ['a']), 'k');
  tok = await start(r6, 'b', ['a']);
  await drive(r6, 'complete b claiming c', async () => {
    const done = await store().completeStep(r6, 'b', tok, 's', '{"json":1}', Date.now(), { claim: { ...claim, steps: ['c'], needsOf: () => ['b'] } });
    claimed = done.ok ? done.claimed?.step : undefined;
  });
  t.is(claimed, 'c');
  await drive(r6, 'renew c lease', () => store().renewLease(r6, 'c', 'eager-b', Date.now() + 60_000));
  await drive(r6, 'hand back c', () => store().handBack(r6, 'c', 'eager-b', 'worker shutdown', Date.now()));
  await complete(r6, 'c', await start(r6, 'c', ['b']), 's');
  t.is((await store().getRun(r6))?.status, 'succeeded');

  // 4. Cancelled before anything started; then retried and its steps skipped by condition, retried again.
  const r4 = await trigger();
  await drive(r4, 'cancel run', () => store().cancelRun(r4, 'test', Date.now()));
  await drive(r4, 'retry run', () => store().retryRun(r4, { now: Date.now() }));
  await complete(r4, 'a', await start(r4, 'a'), 's');
  await complete(r4, 'b', await start(r4, 'b', ['a']), 'k');
  await drive(r4, 'cancel run', () => store().cancelRun(r4, 'test', Date.now()));
  await drive(r4, 'retry run', () => store().retryRun(r4, { now: Date.now() }));

  t.deepEqual(problems, []);
  t.true(compactSeen > 0, 'the compact form of finished steps was written, and parsed strictly');
  const listedStep = Object.entries(STEP_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`));
  const listedRun = Object.entries(RUN_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`));
  t.deepEqual(listedStep.filter((x) => !seenStep.has(x)), [], 'step transitions listed but never driven');
  t.deepEqual(listedRun.filter((x) => !seenRun.has(x)), [], 'run transitions listed but never driven');
});

test.serial('the schema is strict: a field no script writes fails', async (t) => {
  const runId = await trigger();
  const k = rt.keys.run(runId);
  t.true(storedRunKeysSchema.safeParse(await read(runId)).success);
  await rt.redis.hset(k.info, 'a', JSON.stringify({ a: 1, zz: 2 }));
  await rt.redis.hset(k.info, 'b', '1|1|17');
  await rt.redis.hset(k.run, 'extra', '1');
  const result = storedRunKeysSchema.safeParse(await read(runId));
  t.false(result.success);
  const paths = result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
  t.true(paths.some((p) => p.startsWith('run ') && p.includes('extra')), paths.join('\n'));
  t.true(paths.some((p) => p.startsWith('info.a ') && p.includes('zz')), paths.join('\n'));
  t.true(paths.some((p) => p.startsWith('info.b ')), paths.join('\n'));
});

test.serial('a finished step reads alike from its compact record and from the JSON record earlier versions stored', async (t) => {
  const runId = await trigger();
  const k = rt.keys.run(runId);
  const token = await start(runId, 'a');
  const running = JSON.parse((await rt.redis.hget(k.info, 'a'))!) as Record<string, unknown>;
  t.is(running.t, token, 'a running step keeps its JSON record with the fence token');
  await complete(runId, 'a', token, 's');
  const compact = (await rt.redis.hget(k.info, 'a'))!;
  t.regex(compact, /^1\|1\|[0-9a-z]{8}\|\d+\|0\|5\|3\.25\|lfls\|[0-9a-f]{6}\|v1\|w1$/);
  const finishedAt = storedRunKeysSchema.shape.info.parse({ a: compact }).a!.fa;
  // What step-complete stored before the compact form: the running record plus fa and res.
  const legacy = JSON.stringify({ ...running, fa: finishedAt, res: JSON.stringify(resources) });
  t.true(storedRunKeysSchema.shape.info.safeParse({ a: legacy, b: compact }).success);
  const fromCompact = decodeStepState('a', 's', compact, '{"json":1}');
  t.deepEqual(fromCompact, decodeStepState('a', 's', legacy, '{"json":1}'));
  t.like(fromCompact, { attempts: 1, deliveries: 1, worker: 'w1', codeVersion: 'v1', finishedAt, resources });
  await rt.engine.cancel(runId, 'test');
});
