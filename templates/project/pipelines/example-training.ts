import { z } from 'zod';
import { definePipeline } from 'conveyor-mlops';

/**
 * An example to start from: load → (features ‖ statistics) → train → evaluate-fold[i] → report.
 * `features` and `statistics` run in parallel (a diamond), `train` is retried, `evaluate-fold` fans
 * out over the folds (one step instance per fold), and the params are typed by their zod schema.
 */
export default definePipeline({
  id: 'example-training',
  description: 'Load rows, derive features and statistics in parallel, train with retries, score each fold',
  params: z.object({
    rows: z.number().int().min(10).max(100_000).default(200),
    folds: z.number().int().min(1).max(20).default(3),
  }),
  defaults: { retries: 1, timeoutMs: 30_000 },
})
  .step('load', async ({ params }) => ({
    values: Array.from({ length: params.rows }, (_, i) => 2 * i + Math.sin(i)),
  }))
  .step('features', { needs: ['load'] }, async ({ upstream }) => ({
    pairs: upstream.load.values.map((y, x) => ({ x, y })),
  }))
  .step('statistics', { needs: ['load'] }, async ({ upstream }) => {
    const { values } = upstream.load;
    return { mean: values.reduce((a, b) => a + b, 0) / values.length, count: values.length };
  })
  .step('train', { needs: ['features', 'statistics'], retries: 3, backoff: { type: 'exponential', delayMs: 200 } }, async ({ upstream, attempt, log }) => {
    // The first attempt fails on purpose, to show a retry in `conveyor dev --run` and in the UI.
    if (attempt === 1) throw new Error('feature store timed out (simulated: the retry succeeds)');
    const { pairs } = upstream.features;
    const meanX = pairs.reduce((a, p) => a + p.x, 0) / pairs.length;
    const meanY = upstream.statistics.mean;
    const slope = pairs.reduce((a, p) => a + (p.x - meanX) * (p.y - meanY), 0) / pairs.reduce((a, p) => a + (p.x - meanX) ** 2, 0);
    log.info('trained', { slope });
    return { slope, intercept: meanY - slope * meanX };
  })
  .map('evaluate-fold', {
    needs: ['train', 'features'],
    over: ({ params }) => Array.from({ length: params.folds }, (_, fold) => fold),
  }, async ({ upstream, params }, fold) => {
    const { slope, intercept } = upstream.train;
    const held = upstream.features.pairs.filter((_, i) => i % params.folds === fold);
    const mae = held.reduce((a, p) => a + Math.abs(slope * p.x + intercept - p.y), 0) / held.length;
    return { fold, mae };
  })
  .step('report', { needs: ['evaluate-fold'] }, async ({ upstream }) => {
    const folds = upstream['evaluate-fold'];
    return { folds: folds.length, meanAbsoluteError: folds.reduce((a, f) => a + f.mae, 0) / folds.length };
  });
