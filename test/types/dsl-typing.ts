import { z } from 'zod';
import { definePipeline } from '../../src/dsl/index.ts';
const p = definePipeline({
  id: 'iris-training',
  description: 'x',
  params: z.object({ minAccuracy: z.number().min(0).max(1).default(0.9) }),
  defaults: { retries: 2, backoff: { type: 'exponential', delayMs: 200 }, timeoutMs: 60_000, queue: 'default' },
})
  .step('load', async (ctx) => ({ rows: 150 }))
  .step('validate', { needs: ['load'] }, async ({ upstream }) => ({ ok: upstream.load.rows > 0 }))
  .step('train', { needs: ['validate'], queue: 'training', retries: 3 }, async ({ params, signal, log }) => {
    log.info('training', { lr: 0.1 });
    const n: number = params.minAccuracy;
    return { accuracy: 0.95 };
  })
  .step('deploy', {
    needs: ['train'],
    if: ({ upstream, params }) => upstream.train.accuracy >= params.minAccuracy,
  }, async () => ({ deployed: true }))
  .step('notify', { needs: ['deploy'], runWhen: 'upstream-done' }, async ({ run }) => ({ status: run.status }));
// @ts-expect-error unknown need
p.step('x', { needs: ['nope'] }, async () => 1);
// @ts-expect-error wrong upstream access
p.step('y', { needs: ['load'] }, async ({ upstream }) => upstream.train.accuracy);
// @ts-expect-error wrong field type
p.step('z', { needs: ['load'] }, async ({ upstream }) => { const s: string = upstream.load.rows; return s; });
p.map('m', { needs: ['load'], over: ({ upstream }) => [upstream.load.rows, 2], maxParallel: 2 }, async (ctx, item, i) => item * 2)
 .step('after', { needs: ['m'] }, async ({ upstream }) => { const a: number[] = upstream.m; return a.length; });
// Trigger rules and upstream status are typed per need.
p.step('join', { needs: ['train', 'deploy'], runWhen: 'none-failed-min-one-succeeded' }, async ({ upstreamStatus }) => {
  const s: 'succeeded' | 'failed' | 'skipped' | 'skipped-by-failure' | 'pending' = upstreamStatus.deploy;
  // @ts-expect-error not a need of this step
  upstreamStatus.load;
  return s;
});
// @ts-expect-error unknown trigger rule
p.step('bad-rule', { needs: ['load'], runWhen: 'sometimes' }, async () => 1);
// A map with minSuccess hands its dependents { succeeded, failed } with typed items.
p.map('pm', { needs: ['load'], over: () => ['a', 'b'], minSuccess: '50%' }, async (_ctx, item: string) => item.length)
  .step('after-pm', { needs: ['pm'] }, async ({ upstream }) => {
    const lengths: number[] = upstream.pm.succeeded;
    const failedItem: string | undefined = upstream.pm.failed[0]?.item;
    return { lengths, failedItem, index: upstream.pm.failed[0]?.index };
  });
