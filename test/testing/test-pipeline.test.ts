import test from 'ava';
import { z } from 'zod';
import { definePipeline, NonRetriableError } from 'conveyor-mlops';
import { testPipeline } from 'conveyor-mlops/testing';

test('diamond: typed hand-off, outputs as handlers receive them, run succeeded', async (t) => {
  const pipeline = definePipeline({ id: 'diamond' })
    .step('a', () => ({ n: 2, at: new Date(0) }))
    .step('b', { needs: ['a'] }, ({ upstream }) => upstream.a.n * 10)
    .step('c', { needs: ['a'] }, ({ upstream }) => upstream.a.n + 1)
    .step('d', { needs: ['b', 'c'] }, ({ upstream }) => ({ sum: upstream.b + upstream.c }));
  const result = await testPipeline(pipeline);
  t.is(result.status, 'succeeded');
  const sum: number = result.outputs.d.sum; // typed: a compile error here would fail `tsc`
  t.is(sum, 23);
  t.deepEqual(result.outputs.a.at, new Date(0), 'a Date reaches consumers as a Date, as in workers');
  t.true(result.outputs.a.at instanceof Date);
  t.deepEqual(Object.keys(result.steps), ['a', 'b', 'c', 'd']);
  t.true(Object.values(result.steps).every((s) => s.status === 'succeeded' && s.attempts === 1));
});

test('if false skips the step and its default-runWhen dependents; the run still succeeds', async (t) => {
  const pipeline = definePipeline({ id: 'gate', params: z.object({ min: z.number().default(0.9) }) })
    .step('train', () => ({ accuracy: 0.5 }))
    .step('deploy', { needs: ['train'], if: ({ upstream, params }) => upstream.train.accuracy >= params.min }, () => ({ deployed: true }))
    .step('announce', { needs: ['deploy'] }, () => 'sent')
    .step('notify', { needs: ['deploy'], runWhen: 'upstream-done' }, ({ upstream }) => ({ deployed: upstream.deploy?.deployed === true }));
  const result = await testPipeline(pipeline);
  t.is(result.status, 'succeeded');
  t.deepEqual(result.steps.deploy, { status: 'skipped', attempts: 1, reason: 'condition was false', skip: 'condition' });
  t.deepEqual(result.steps.announce, { status: 'skipped', attempts: 0, reason: 'an upstream step was skipped', skip: 'upstream-skipped' });
  t.deepEqual(result.outputs.notify, { deployed: false });
  t.false('deploy' in result.outputs);

  const lowered = await testPipeline(pipeline, { params: { min: 0.4 } });
  t.is(lowered.steps.deploy.status, 'succeeded');
  t.deepEqual(lowered.outputs.notify, { deployed: true });
});

test('runWhen: a failure skips default dependents (counting against the run), runs upstream-done and upstream-failed steps', async (t) => {
  const pipeline = definePipeline({ id: 'when' })
    .step('boom', () => {
      throw new Error('disk full');
    })
    .step('after', { needs: ['boom'] }, () => 1)
    .step('later', { needs: ['after'] }, () => 2)
    .step('cleanup', { needs: ['boom'], runWhen: 'upstream-done' }, ({ run }) => run.status)
    .step('alert', { needs: ['later'], runWhen: 'upstream-failed' }, () => 'paged');
  const result = await testPipeline(pipeline);
  t.is(result.status, 'succeeded', 'the run state comes from its leaves, cleanup and alert, which both handled the failure');
  t.is(result.steps.boom.error?.message, 'disk full');
  t.deepEqual(result.steps.after, { status: 'skipped', attempts: 0, reason: 'an upstream step failed', skippedByFailure: true, skip: 'upstream-failed' });
  t.true(result.steps.later.skippedByFailure);
  t.is(result.outputs.cleanup, 'failed', 'a step sees run.status "failed" once any step failed');
  t.is(result.outputs.alert, 'paged');
});

test('runWhen upstream-failed is skipped (as a success) when nothing failed', async (t) => {
  const pipeline = definePipeline({ id: 'quiet' })
    .step('ok', () => 1)
    .step('alert', { needs: ['ok'], runWhen: 'upstream-failed' }, () => 'paged');
  const result = await testPipeline(pipeline);
  t.is(result.status, 'succeeded');
  t.deepEqual(result.steps.alert, { status: 'skipped', attempts: 0, reason: 'no upstream step failed (runWhen: one-failed)', skip: 'trigger-rule' });
});

test('retries: attempts counted, NonRetriableError stops at once, retries exhausted fail the step', async (t) => {
  let flaky = 0;
  const pipeline = definePipeline({ id: 'retries', defaults: { retries: 2, backoff: { type: 'fixed', delayMs: 60_000 } } })
    .step('flaky', ({ attempt }) => {
      flaky++;
      if (attempt < 3) throw new Error(`try ${attempt}`);
      return { attempt };
    })
    .step('fatal', () => {
      throw new NonRetriableError('bad schema');
    })
    .step('always', () => {
      throw new Error('nope');
    });
  const result = await testPipeline(pipeline); // retryDelay 'zero': the 60 s backoff is not waited
  t.is(flaky, 3);
  t.deepEqual(result.outputs.flaky, { attempt: 3 });
  t.is(result.steps.fatal.attempts, 1);
  t.is(result.steps.fatal.error?.code, 'NON_RETRIABLE');
  t.is(result.steps.always.attempts, 3);
  t.is(result.status, 'failed');
});

test('timeouts abort ctx.signal and fail with a TimeoutError (timeoutScale shrinks the step timeout)', async (t) => {
  let sawAbort = false;
  const pipeline = definePipeline({ id: 'slow' }).step('wait', { timeoutMs: 60_000 }, ({ signal }) => {
    return new Promise((resolve) => {
      signal.addEventListener('abort', () => {
        sawAbort = true;
        resolve('late');
      });
    });
  });
  const result = await testPipeline(pipeline, { timeoutScale: 0.0005 });
  t.is(result.status, 'failed');
  t.is(result.steps.wait.error?.code, 'TIMEOUT');
  t.true(sawAbort);
});

test('map: one instance per item, outputs in item order, maxParallel respected, 0 items gives []', async (t) => {
  let running = 0;
  let peak = 0;
  const pipeline = definePipeline({ id: 'fan', params: z.object({ shards: z.array(z.number()) }) })
    .step('list', ({ params }) => params.shards)
    .map('square', { needs: ['list'], over: ({ upstream }) => upstream.list, maxParallel: 2 }, async (_ctx, item: number) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, (5 - item) * 3));
      running--;
      return item * item;
    })
    .step('total', { needs: ['square'] }, ({ upstream }) => upstream.square.reduce((a, b) => a + b, 0));
  const result = await testPipeline(pipeline, { params: { shards: [1, 2, 3, 4] } });
  t.deepEqual(result.outputs.square, [1, 4, 9, 16]);
  t.is(result.outputs.total, 30);
  t.is(peak, 2);
  t.deepEqual(Object.keys(result.steps), ['list', 'square', 'square[0]', 'square[1]', 'square[2]', 'square[3]', 'total']);

  const empty = await testPipeline(pipeline, { params: { shards: [] } });
  t.deepEqual(empty.outputs.square, []);
  t.is(empty.outputs.total, 0);
});

test('map: a failing item fails the map step and skips its dependents', async (t) => {
  const pipeline = definePipeline({ id: 'fan-fail' })
    .map('parts', { over: () => ['a', 'b'] }, (_ctx, item: string) => {
      if (item === 'b') throw new NonRetriableError('corrupt part b');
      return item;
    })
    .step('merge', { needs: ['parts'] }, ({ upstream }) => upstream.parts.join(''));
  const result = await testPipeline(pipeline);
  t.is(result.status, 'failed');
  t.is(result.steps['parts[0]'].status, 'succeeded');
  t.is(result.steps['parts[1]'].status, 'failed');
  t.is(result.steps.parts.error?.message, '1 of 2 items failed');
  t.is(result.steps['parts[1]'].error?.message, 'corrupt part b');
  t.true(result.steps.merge.skippedByFailure);
});

test('stubs replace handlers (value or function); a stub for an unknown step is refused', async (t) => {
  const pipeline = definePipeline({ id: 'stubbed' })
    .step('load', (): { rows: number[] } => {
      throw new Error('would hit S3');
    })
    .step('count', { needs: ['load'] }, ({ upstream }) => upstream.load.rows.length);
  const fixed = await testPipeline(pipeline, { stub: { load: { rows: [1, 2, 3] } } });
  t.is(fixed.outputs.count, 3);
  const fn = await testPipeline(pipeline, { stub: { load: ({ attempt }) => ({ rows: new Array(attempt).fill(0) }) } });
  t.is(fn.outputs.count, 1);
  await t.throwsAsync(testPipeline(pipeline, { stub: { nope: 1 } as never }), { message: /stub for unknown step "nope"/ });
});

test('params are validated like engine.trigger; secrets reach ctx.secrets and are masked in logs and errors', async (t) => {
  const pipeline = definePipeline({ id: 'secretive', params: z.object({ n: z.number() }) }).step('call', ({ secrets, log }) => {
    log.info(`using token ${secrets.TOKEN}`);
    throw new NonRetriableError(`401 for ${secrets.TOKEN}`);
  });
  await t.throwsAsync(testPipeline(pipeline, { params: { n: 'x' as never } }), { code: 'VALIDATION' } as never);
  const result = await testPipeline(pipeline, { params: { n: 1 }, secrets: { TOKEN: 's3cr3t-value' } });
  t.is(result.logs[0].msg, 'using token ***');
  t.is(result.steps.call.error?.message, '401 for ***');
});

test('parking: the step resumes with its parked state', async (t) => {
  const pipeline = definePipeline({ id: 'parker' }).step('poll', ({ parked, park }) => {
    const polls = ((parked?.state as { polls: number } | undefined)?.polls ?? 0) + 1;
    if (polls < 3) park({ polls }, 60_000);
    return { polls, parkedTimes: parked?.count ?? 0 };
  });
  const result = await testPipeline(pipeline);
  t.deepEqual(result.outputs.poll, { polls: 3, parkedTimes: 2 });
});

test('ctx.events.emit is recorded in the result, not fired', async (t) => {
  const pipeline = definePipeline({ id: 'emitter' }).step('watch', async ({ events }) => {
    const started = await events.emit('model-degraded', { accuracy: 0.7 });
    return { started: started.length };
  });
  const result = await testPipeline(pipeline);
  t.deepEqual(result.events, [{ step: 'watch', name: 'model-degraded', data: { accuracy: 0.7 } }]);
  t.deepEqual(result.outputs.watch, { started: 0 });
});
