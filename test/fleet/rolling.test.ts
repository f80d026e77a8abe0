/**
 * Rolling deploys with real `conveyor worker` processes: v1 workers are replaced by v2 workers
 * (SIGTERM, 1 s drain) while runs are in flight. Counts are kept small for CI time (12 runs of a
 * 5-step chain instead of 40, 100 ms steps): runs held by a gate in their first step make the
 * hand-backs certain instead of depending on timing.
 */
import test from 'ava';
import { waitFor, type WorkerProc } from '../fixtures/procs.ts';
import { FOLDER, startFleet, type Fleet } from './fleet-procs.ts';
import { openGate } from '../fixtures/fleet-gate.ts';
import { loadPipelines } from '../../src/app/pipeline-loader.ts';
import { codeVersionOf } from '../../src/dsl/code-version.ts';
import { waitingText, type RunView } from '../../src/engine/run-view.ts';
import type { Pipeline } from '../../src/dsl/pipeline.ts';
import type { Runtime } from '../../src/app/runtime.ts';

let fleet: Fleet;
const setup = () => fleet.setup();
const workers = (prefix: string, folder: string, count: number) => fleet.workers(prefix, folder, count, { CONVEYOR_DRAIN_TIMEOUT: '1s' });

test.before(async () => {
  fleet = await startFleet();
});

test.after.always(() => fleet?.close());

/** The pipeline of a fixture folder as a worker loads it (with its code version). */
async function load(folder: string): Promise<{ pipeline: Pipeline<any, any>; code: string }> {
  const loaded = await loadPipelines(FOLDER(folder));
  const pipeline = loaded.pipelines[0];
  return { pipeline, code: codeVersionOf(pipeline)! };
}

async function stop(group: WorkerProc[]): Promise<Array<{ code: number | null; signal: NodeJS.Signals | null }>> {
  for (const worker of group) worker.signal('SIGTERM');
  return Promise.all(group.map((w) => w.exited));
}

async function trigger(runtime: Runtime, pipeline: Pipeline<any, any>, count: number, gated: boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await runtime.engine.trigger(pipeline, { params: { gated } })).runId);
  return ids;
}

const waitAll = (runtime: Runtime, ids: string[]) => Promise.all(ids.map((id) => runtime.engine.waitForRun(id, { timeoutMs: 90_000, pollMs: 250 })));
const steps = (views: RunView[]) => views.flatMap((v) => Object.entries(v.steps).map(([name, s]) => ({ run: v.id, name, ...s })));
const views = (runtime: Runtime, ids: string[]) => Promise.all(ids.map((id) => runtime.engine.getRun(id)));
/** True once the first step of every run is running (held by its gate). */
const allHeld = async (runtime: Runtime, ids: string[], first: string) => (await views(runtime, ids)).every((v) => v.steps[first].status === 'running');

test.serial('rolling deploy, compatible: v1 → v2 with a 1 s drain: 0 runs failed, every attempt ran v1 or v2 code, hand-backs are not attempts', async (t) => {
  const { prefix, runtime } = await setup();
  const [v1, v2] = [await load('roll-v1'), await load('roll-v2')];
  t.not(v1.code, v2.code, 'different step code, different code version');
  const old = await workers(prefix, 'roll-v1', 2);
  // 6 runs flow freely on v1; 6 are held in their first step until after the deploy.
  const free = await trigger(runtime, v1.pipeline, 6, false);
  const held = await trigger(runtime, v1.pipeline, 6, true);
  await waitFor(async () => (await allHeld(runtime, held, 's1')) && (await views(runtime, free)).every((v) => v.steps.s1.status === 'succeeded'), 30_000, 'v1 to run free steps and hold the gated ones');
  await workers(prefix, 'roll-v2', 2);
  t.deepEqual(await stop(old), old.map(() => ({ code: 0, signal: null })));
  for (const id of held) await openGate(fleet.journal, id);
  const done = await waitAll(runtime, [...free, ...held]);
  t.deepEqual(done.filter((v) => v.status !== 'succeeded').map((v) => v.id), [], 'no run failed');
  const all = steps(done);
  for (const step of all) {
    t.true([v1.code, v2.code].includes(step.codeVersion!), `${step.run} ${step.name} ran code ${step.codeVersion}`);
    t.is(step.attempts, 1, `${step.run} ${step.name}: a hand-back is not an attempt`);
  }
  const handedBack = all.filter((s) => s.name === 's1' && held.includes(s.run));
  t.true(handedBack.every((s) => s.handBacks === 1 && s.codeVersion === v2.code), 'each held step was handed back once by the draining v1 worker and ran on v2');
  t.true(all.some((s) => s.codeVersion === v1.code), 'v1 ran steps before it left');
});

/**
 * v1 runs in flight (held in their first step), the v1 worker replaced by a v2 one: the v1 runs'
 * steps wait (visibly) while v2 runs run on v2 only; a v1 worker started again finishes them on v1 code.
 */
async function stranded(t: any, folders: [string, string], first: string, label: (v1: { code: string }, view: RunView) => string): Promise<void> {
  const { prefix, runtime } = await setup();
  const [v1, v2] = [await load(folders[0]), await load(folders[1])];
  const old = await workers(prefix, folders[0], 1);
  const oldRuns = await trigger(runtime, v1.pipeline, 3, true);
  await waitFor(() => allHeld(runtime, oldRuns, first), 30_000, 'the v1 worker to hold the first steps');
  await workers(prefix, folders[1], 1);
  t.deepEqual(await stop(old), [{ code: 0, signal: null }]);
  for (const id of oldRuns) await openGate(fleet.journal, id);
  const newRuns = await trigger(runtime, v2.pipeline, 2, false);
  for (const step of steps(await waitAll(runtime, newRuns))) t.is(step.codeVersion, v2.code, `v2 run ${step.run} ${step.name} ran on v2`);
  // The v1 runs cannot move on: their handed-back steps wait, visibly, for a worker with v1.
  await waitFor(async () => (await views(runtime, oldRuns)).every((v) => v.steps[first].waiting), 30_000, 'the v1 steps to wait for a v1 worker');
  for (const view of await views(runtime, oldRuns)) {
    t.is(view.steps[first].waiting, waitingText(label(v1, view)), view.id);
    t.is(view.steps[first].attempts, 1, 'handed back, then waiting: still the first attempt');
    t.is(view.status, 'running');
  }
  await workers(prefix, folders[0], 1);
  const done = await waitAll(runtime, oldRuns);
  t.deepEqual(done.filter((v) => v.status !== 'succeeded').map((v) => v.id), []);
  for (const step of steps(done)) {
    t.is(step.codeVersion, v1.code, `v1 run ${step.run} ${step.name} ran on v1`);
    t.is(step.attempts, 1);
  }
}

test.serial('rolling deploy, pinned: v1 runs wait for v1 code (visible), v2 runs run only on v2, a v1 worker started again finishes them', (t) =>
  stranded(t, ['pin-v1', 'pin-v2'], 's1', (v1) => `fl-pin@${v1.code}`));

test.serial('structure change: v2 adds a step; v1 runs continue only on v1 workers', (t) =>
  stranded(t, ['struct-v1', 'struct-v2'], 'a', (_v1, view) => `fl-struct@${view.dagHash}`));
