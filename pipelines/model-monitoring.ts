import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { DecisionTreeClassifier } from 'ml-cart';
import { definePipeline, NonRetriableError, readRows, reportFigures, validateData } from 'conveyor-mlops';
// The data step library and the monitor client type are not re-exported by 'conveyor' yet.

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

/** What a registered iris model artifact holds (JSON): the class names and ml-cart's tree. */
interface IrisModelFile {
  classes: string[];
  tree: Record<string, unknown>;
}

async function readLabelled(path: string): Promise<{ X: number[][]; labels: string[] }> {
  const X: number[][] = [];
  const labels: string[] = [];
  for await (const item of readRows({ path, format: 'csv' })) {
    if (!item.ok) throw new NonRetriableError(`${path}: line ${item.line}: ${item.error}`);
    const values = FEATURES.map((f) => Number(item.row[f]));
    const label = item.row.species;
    if (values.some((v) => !Number.isFinite(v)) || typeof label !== 'string') {
      throw new NonRetriableError(`${path}: line ${item.line}: expected 4 numeric measurements and a species, found ${JSON.stringify(item.row)}`);
    }
    X.push(values);
    labels.push(label);
  }
  if (X.length === 0) throw new NonRetriableError(`${path}: expected labelled rows, found none`);
  return { X, labels };
}

/**
 * Every hour: score a fresh labelled batch with the production model, record live accuracy and the
 * batch's data quality/drift (→ Prometheus `conveyor_model_metric`, `conveyor_data_drift_psi`, the
 * Grafana "Model accuracy" panel), and ask for retraining when accuracy falls below `minAccuracy` or
 * the batch drifted from the training reference.
 *
 * Try it on a drifted batch: `conveyor run model-monitoring --param batch=data/iris-batch-shifted.csv`.
 */
export default definePipeline({
  id: 'model-monitoring',
  description: 'Score a fresh labelled batch against the production model; record accuracy and drift; flag retraining',
  schedule: { cron: '0 * * * *', catchup: 'latest', overlap: 'skip', name: 'hourly' },
  params: z.object({
    model: z.string().default('iris'),
    alias: z.string().default('production'),
    batch: z.string().default('data/iris-batch.csv'),
    reference: z.string().default('data/iris-reference.csv'),
    minAccuracy: z.number().min(0).max(1).default(0.9),
  }),
  defaults: { retries: 1, backoff: { type: 'exponential', delayMs: 500 }, timeoutMs: 120_000 },
})
  .step('load-model', async ({ params, registry, log }) => {
    try {
      const version = await registry.get(params.model, params.alias);
      const stored = await registry.artifacts.get(version.artifact.uri);
      const file = JSON.parse(await text(stored.open())) as IrisModelFile;
      log.info('scoring with the registered model', { model: params.model, alias: params.alias, version: version.version });
      return { version: String(version.version), source: `registry:${params.model}@${params.alias}`, classes: file.classes, tree: JSON.stringify(file.tree) };
    } catch (error) {
      log.warn('no usable registered model; falling back to a baseline', { error: (error as Error).message });
    }
    // No production model registered yet (e.g. the demo): a baseline CART tree on the reference data.
    const ref = await readLabelled(params.reference);
    const classes = [...new Set(ref.labels)].sort();
    const tree = new DecisionTreeClassifier({ maxDepth: 3 });
    tree.train(ref.X, ref.labels.map((l) => classes.indexOf(l)));
    return { version: 'baseline', source: `baseline:${params.reference}`, classes, tree: JSON.stringify(tree.toJSON()) };
  })
  .step('score', { needs: ['load-model'] }, async ({ params, upstream, log }) => {
    const { classes, tree } = upstream['load-model'];
    const model = DecisionTreeClassifier.load(JSON.parse(tree));
    const batch = await readLabelled(params.batch);
    const predicted = model.predict(batch.X) as number[];
    const correct = predicted.filter((p, i) => classes[p] === batch.labels[i]).length;
    const accuracy = correct / batch.X.length;
    log.info('scored batch', { rows: batch.X.length, correct, accuracy });
    return { rows: batch.X.length, correct, accuracy };
  })
  .step('check-drift', async ({ params, signal }) => {
    const report = await validateData({
      source: { path: params.batch, format: 'csv' },
      dataset: 'iris-batch',
      checks: { rowCount: { min: 10 }, maxNullRate: Object.fromEntries(FEATURES.map((f) => [f, 0.05])) },
      reference: { path: params.reference, format: 'csv' },
      // 50-row batches: 4 bins keep PSI above sampling noise (see data/README.md).
      drift: { features: [...FEATURES], bins: 4 },
      signal,
    });
    return {
      status: report.status,
      drifted: report.drift?.drifted ?? false,
      driftedFeatures: report.drift?.driftedFeatures ?? [],
      figures: reportFigures(report),
    };
  })
  .step('record', { needs: ['load-model', 'score', 'check-drift'] }, async ({ params, upstream, monitor, run, log }) => {
    if (!monitor.recordModelMetric || !monitor.recordDataQuality || !monitor.series) {
      log.warn('no monitor client on this worker (ctx.monitor): figures not recorded');
      return { recorded: false };
    }
    const at = Date.parse(run.logicalTime);
    const version = upstream['load-model'].version;
    await monitor.recordModelMetric(params.model, version, 'accuracy', upstream.score.accuracy, at);
    await monitor.recordDataQuality(upstream['check-drift'].figures);
    const recent = await monitor.series(params.model, 'accuracy', { limit: 24 });
    return { recorded: true, points: recent.length };
  })
  .step('decide', { needs: ['score', 'check-drift'] }, async ({ params, upstream }) => {
    const reasons: string[] = [];
    if (upstream.score.accuracy < params.minAccuracy) reasons.push(`accuracy ${upstream.score.accuracy.toFixed(3)} < ${params.minAccuracy}`);
    if (upstream['check-drift'].drifted) reasons.push(`drift in ${upstream['check-drift'].driftedFeatures.join(', ')}`);
    return { retrain: reasons.length > 0, reasons };
  })
  .step('request-retraining', { needs: ['decide'], if: ({ upstream }) => upstream.decide.retrain }, async ({ params, upstream, run, log, events }) => {
    // Closes the loop: pipelines with `triggers: [{ event: 'model-degraded' }]` (iris-training) start.
    const request = { model: params.model, reasons: upstream.decide.reasons, upstreamRunId: run.id };
    log.warn('retraining requested', request);
    const started = await events.emit('model-degraded', request);
    return { retrain: true as const, event: 'model-degraded', ...request, started };
  });
