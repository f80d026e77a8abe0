import test from 'ava';
import { definePipeline, NonRetriableError } from '../../src/index.ts';
import type { Pipeline } from '../../src/dsl/index.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

/**
 * The patterns trigger rules exist for, on real workers: branch and join, first source wins, alert
 * early, and the fallback (which leaves the run succeeded: its state comes from its leaf steps).
 * Early firing is shown without timing: the slow sibling waits until the early step has run, so a
 * rule that waited for every upstream step would never finish (the run would time out).
 */

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const fast = { retries: 0, backoff: { type: 'fixed' as const, delayMs: 10 }, timeoutMs: 20_000 };

async function run(pipeline: Pipeline<any, any>, params?: Record<string, unknown>) {
  const rt: Runtime = await testRuntime(redis);
  const host = await withWorker(rt, [pipeline]);
  try {
    const { runId } = await rt.engine.trigger(pipeline, { params });
    return await rt.engine.waitForRun(runId, { timeoutMs: 30_000, pollMs: 50 });
  } finally {
    await host.stop(1_000);
    await rt.close();
  }
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

function branchAndJoin(retrainFails: boolean) {
  const seen: unknown[] = [];
  const pipeline = definePipeline({ id: `branch-join-${retrainFails ? 'fail' : 'ok'}`, defaults: fast })
    .step('check', () => ({ changed: true }))
    .step('retrain', { needs: ['check'], if: ({ upstream }) => upstream.check.changed }, () => {
      if (retrainFails) throw new NonRetriableError('trainer out of memory');
      return { model: 'new' };
    })
    .step('reuse', { needs: ['check'], if: ({ upstream }) => !upstream.check.changed }, () => ({ model: 'old' }))
    .step('publish', { needs: ['retrain', 'reuse'], runWhen: 'none-failed-min-one-succeeded' }, ({ upstream, upstreamStatus }) => {
      seen.push(upstreamStatus);
      return upstream.retrain?.model ?? upstream.reuse?.model;
    });
  return { pipeline, seen };
}

test('branch and join: the join runs after the taken branch, sees the other as skipped, and the run succeeds', async (t) => {
  const { pipeline, seen } = branchAndJoin(false);
  const view = await run(pipeline);
  t.is(view.status, 'succeeded');
  t.is(view.steps.publish.output, 'new');
  t.is(view.steps.reuse.skip, 'condition');
  t.deepEqual(seen, [{ retrain: 'succeeded', reuse: 'skipped' }]);
});

test('branch and join: a failed branch is not a skipped one — the join is skipped by the failure and the run fails', async (t) => {
  const { pipeline, seen } = branchAndJoin(true);
  const view = await run(pipeline);
  t.is(view.status, 'failed');
  t.is(view.steps.publish.status, 'skipped');
  t.is(view.steps.publish.skip, 'upstream-failed');
  t.is(view.steps.publish.reason, 'an upstream step failed (runWhen: none-failed-min-one-succeeded)');
  t.deepEqual(seen, []);
});

test('first source wins: one-succeeded runs on the first source, and the late one never runs it twice', async (t) => {
  const joined = gate();
  let joins = 0;
  const pipeline = definePipeline({ id: 'first-source', defaults: fast })
    .step('mirror', () => 'mirror data')
    .step('origin', async () => {
      await joined.opened; // finishes only after the join ran
      return 'origin data';
    })
    .step('use', { needs: ['mirror', 'origin'], runWhen: 'one-succeeded' }, ({ upstream, upstreamStatus }) => {
      joins++;
      joined.open();
      return { from: upstream.mirror, origin: upstreamStatus.origin };
    });
  const view = await run(pipeline);
  t.is(view.status, 'succeeded');
  t.deepEqual(view.steps.use.output, { from: 'mirror data', origin: 'pending' });
  t.is(view.steps.origin.status, 'succeeded');
  t.is(joins, 1);
});

test('alert early: one-failed runs on the first failure without waiting for a long sibling; with runOutcome any-failure the run fails', async (t) => {
  const alerted = gate();
  const pipeline = definePipeline({ id: 'alert-early', defaults: fast, runOutcome: 'any-failure' })
    .step('validate', () => {
      throw new NonRetriableError('schema drift');
    })
    .step('train', async () => {
      await alerted.opened; // a long training step: ends only after the alert went out
      return 'model';
    })
    .step('alert', { needs: ['validate', 'train'], runWhen: 'one-failed' }, ({ upstreamStatus }) => {
      alerted.open();
      return upstreamStatus;
    });
  const view = await run(pipeline);
  t.deepEqual(view.steps.alert.output, { validate: 'failed', train: 'pending' });
  t.is(view.steps.train.status, 'succeeded');
  t.is(view.status, 'failed', 'any-failure: a failed step fails the run even when handled');
});

function fallback(primaryFails: boolean) {
  const ran: string[] = [];
  const pipeline = definePipeline({ id: `fallback-${primaryFails ? 'used' : 'unused'}`, defaults: fast })
    .step('primary', () => {
      ran.push('primary');
      if (primaryFails) throw new NonRetriableError('primary feature store down');
      return { rows: 100, source: 'primary' };
    })
    .step('backup', { needs: ['primary'], runWhen: 'one-failed' }, () => {
      ran.push('backup');
      return { rows: 90, source: 'backup' };
    })
    .step('join', { needs: ['primary', 'backup'], runWhen: 'one-succeeded' }, ({ upstream }) => {
      ran.push('join');
      return (upstream.primary ?? upstream.backup)!.source;
    });
  return { pipeline, ran };
}

test('fallback: primary fails → backup runs → join runs → the run succeeded (state from the leaves)', async (t) => {
  const { pipeline, ran } = fallback(true);
  const view = await run(pipeline);
  t.is(view.steps.primary.status, 'failed');
  t.is(view.steps.backup.status, 'succeeded');
  t.is(view.steps.join.output, 'backup');
  t.is(view.status, 'succeeded');
  t.deepEqual(ran, ['primary', 'backup', 'join']);
});

test('fallback unused: the backup is skipped by its rule and the join runs once on the primary', async (t) => {
  const { pipeline, ran } = fallback(false);
  const view = await run(pipeline);
  t.is(view.status, 'succeeded');
  t.is(view.steps.backup.status, 'skipped');
  t.is(view.steps.backup.skip, 'trigger-rule');
  t.is(view.steps.backup.reason, 'no upstream step failed (runWhen: one-failed)');
  t.is(view.steps.join.output, 'primary');
  t.deepEqual(ran, ['primary', 'join']);
});
