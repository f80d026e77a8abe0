import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DecisionTreeClassifier } from 'ml-cart';
import { classificationMetrics, definePipeline, readCsv } from 'conveyor-mlops';

const IRIS_CSV = fileURLToPath(new URL('../data/iris.csv', import.meta.url));
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

/**
 * A hyperparameter sweep as dynamic fan-out: one `train-candidate[i]` step per configuration (each with
 * its own retries and status, at most `maxParallel` at once), then the best one is picked and registered.
 */
export default definePipeline({
  id: 'hyperparameter-sweep',
  description: 'Train one CART tree per hyperparameter configuration in parallel; register the best',
  params: z.object({
    maxDepths: z.array(z.number().int().min(1).max(10)).default([1, 2, 3, 4, 5]),
    minNumSamples: z.array(z.number().int().min(1).max(50)).default([3, 10]),
    holdoutEvery: z.number().int().min(2).max(10).default(5),
  }),
  defaults: { retries: 1, backoff: { type: 'fixed', delayMs: 200 }, timeoutMs: 60_000 },
})
  .step('prepare', async ({ params }) => {
    const features: number[][] = [];
    const labels: string[] = [];
    for await (const item of readCsv(IRIS_CSV)) {
      if (!item.ok) throw new Error(`data/iris.csv line ${item.line}: ${item.error}`);
      features.push(FEATURES.map((f) => Number(item.row[f])));
      labels.push(String(item.row.species));
    }
    const configs = params.maxDepths.flatMap((maxDepth) => params.minNumSamples.map((minNumSamples) => ({ maxDepth, minNumSamples })));
    return { features, labels, configs, bytes: (await readFile(IRIS_CSV)).length };
  })
  .map('train-candidate', { needs: ['prepare'], over: ({ upstream }) => upstream.prepare.configs, maxParallel: 4, queue: 'training' }, async ({ upstream, params, log }, config) => {
    const { features: X, labels } = upstream.prepare;
    const classes = [...new Set(labels)].sort();
    const y = labels.map((l) => classes.indexOf(l));
    const train = y.map((_, i) => i).filter((i) => i % params.holdoutEvery !== 0);
    const test = y.map((_, i) => i).filter((i) => i % params.holdoutEvery === 0);
    const model = new DecisionTreeClassifier(config);
    model.train(train.map((i) => X[i]), train.map((i) => y[i]));
    const predicted = model.predict(test.map((i) => X[i]));
    const metrics = classificationMetrics({ labels: test.map((i) => labels[i]), predictions: predicted.map((p) => classes[p]), classes });
    log.info('candidate trained', { ...config, accuracy: metrics.accuracy });
    return { config, accuracy: metrics.accuracy, macroF1: metrics.macro.f1, model: JSON.stringify({ classes, tree: model.toJSON() }) };
  })
  .step('pick-best', { needs: ['train-candidate'] }, async ({ upstream }) => {
    const candidates = upstream['train-candidate'];
    // Best accuracy; ties go to the simpler tree (smaller depth, then more samples per leaf).
    const ranked = [...candidates].sort((a, b) => b.accuracy - a.accuracy || a.config.maxDepth - b.config.maxDepth || b.config.minNumSamples - a.config.minNumSamples);
    const best = ranked[0];
    return { best: best.config, accuracy: best.accuracy, macroF1: best.macroF1, model: best.model, leaderboard: ranked.map((c) => ({ ...c.config, accuracy: c.accuracy })) };
  })
  .step('register', { needs: ['pick-best'] }, async ({ upstream, registry }) => {
    const best = upstream['pick-best'];
    const { version } = await registry.register({
      name: 'iris-sweep',
      artifact: { content: Buffer.from(best.model), filename: 'model.json' },
      framework: 'ml-cart',
      format: 'json',
      metrics: { accuracy: best.accuracy, macroF1: best.macroF1 },
      hyperparameters: best.best,
      tags: { candidates: String(best.leaderboard.length) },
    });
    return { model: 'iris-sweep', version: version.version, hyperparameters: best.best, accuracy: best.accuracy };
  });
