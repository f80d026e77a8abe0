/**
 * A delivery that lost its step to a newer one (its worker was paused past its lock) may end either
 * way once it resumes: its handler returns (a completion) or the lost-lock abort fires first (a
 * hand-back). Both are refused and both are reported the same way, as a stale completion.
 */
import test from 'ava';
import { definePipeline } from '../../src/index.ts';
import { StepLifecycle, type StepEvent } from '../../src/engine/step-lifecycle.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime } from '../helpers/harness.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

const single = definePipeline({ id: 'late-end' }).step('only', async () => 1);

for (const kind of ['infrastructure', 'worker-shutdown'] as const) {
  test(`a late ${kind} hand-back of a step another delivery finished is refused and reported as stale`, async (t) => {
    const rt = await testRuntime(redis);
    try {
      const events: StepEvent[] = [];
      const lifecycle = new StepLifecycle({ engine: rt.engine, store: rt.store, clock: rt.clock, logger: rt.logger, onEvent: (e) => events.push(e) });
      const { runId } = await rt.engine.trigger(single);
      // The old delivery started, then a newer one took the step over and finished it.
      t.true((await rt.store.startStep(runId, 'only', 'old-token', 'w-paused', 1, [], Date.now())).ok);
      t.true((await rt.store.startStep(runId, 'only', 'new-token', 'w-other', 1, [], Date.now())).ok);
      t.true((await rt.store.completeStep(runId, 'only', 'new-token', 's', '1', Date.now())).ok);
      const reason = kind === 'infrastructure' ? { kind, error: new Error('lost lock') } : { kind };
      const ended = await lifecycle.end({ runId, step: 'only', token: 'old-token', worker: 'w-paused', attempt: 1, maxAttempts: 1, backoffMs: 0, reason, errorJson: '{}' });
      t.is(ended.decision, 'stale');
      // Before: the refusal was silent — no event, nothing in the log.
      t.deepEqual(events.filter((e) => e.type === 'stale-completion'), [{ type: 'stale-completion', runId, step: 'only' }]);
      t.is((await rt.engine.getRun(runId)).steps.only.status, 'succeeded');
    } finally {
      await rt.close();
    }
  });
}
