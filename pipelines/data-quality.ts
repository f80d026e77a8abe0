import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { definePipeline, NonRetriableError, renderReportMarkdown, reportFigures, validateData } from 'conveyor-mlops';

/** Paths in params are relative to the repository root, not to the worker's cwd. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

/**
 * Data quality gate for a new batch of iris measurements: schema and range checks, plus drift of each
 * feature against the training reference (PSI and KS). The Markdown report is written under
 * `reportDir` whatever the outcome; a batch that fails (drift included) fails the run without retries,
 * so nothing downstream trains on it.
 *
 *   conveyor run data-quality --param batch=data/iris-batch-shifted.csv   # fails: petal gauges drifted
 */
export default definePipeline({
  id: 'data-quality',
  description: 'Validate a new data batch against the training reference and fail on drift',
  params: z.object({
    batch: z.string().default('data/iris-batch.csv'),
    reference: z.string().default('data/iris-reference.csv'),
    reportDir: z.string().default('.conveyor/reports'),
    /** PSI needs enough rows per bin: 4 bins suit 50-row batches (see data/README.md). */
    bins: z.number().int().min(2).max(100).default(4),
  }),
  defaults: { retries: 1, backoff: { type: 'fixed', delayMs: 500 }, timeoutMs: 5 * 60_000 },
})
  .step('validate', async ({ params, run, log, signal, artifacts }) => {
    const report = await validateData({
      source: { path: resolve(ROOT, params.batch), format: params.batch.endsWith('.jsonl') ? 'jsonl' : 'csv' },
      reference: { path: resolve(ROOT, params.reference), format: params.reference.endsWith('.jsonl') ? 'jsonl' : 'csv' },
      rowSchema: z.object({
        sepal_length: z.coerce.number(),
        sepal_width: z.coerce.number(),
        petal_length: z.coerce.number(),
        petal_width: z.coerce.number(),
        species: z.string(),
      }),
      checks: {
        rowCount: { min: 10 },
        maxInvalidRate: 0,
        ranges: Object.fromEntries(FEATURES.map((f) => [f, { min: 0, max: 15 }])),
        categories: { species: { allowed: ['setosa', 'versicolor', 'virginica'] } },
      },
      drift: { features: FEATURES, bins: params.bins },
      signal,
    });
    const dir = resolve(ROOT, params.reportDir);
    await mkdir(dir, { recursive: true });
    const reportPath = join(dir, `data-quality-${run.id}.md`);
    const markdown = renderReportMarkdown(report);
    await writeFile(reportPath, markdown);
    // Also kept with the run: listed, viewed and downloaded from the run page in the web UI.
    await artifacts.put('data-quality-report.md', markdown);
    log.info(`data report: ${report.status}`, { reportPath, rows: report.rows.read, drifted: report.drift?.driftedFeatures ?? [] });

    if (!report.passed) {
      const failed = report.checks.filter((c) => !c.passed && c.severity === 'error').map((c) => `${c.name}: ${c.message}`);
      const drifted = (report.drift?.features ?? []).filter((f) => f.drifted).map((f) => `${f.feature} (${f.verdict})`);
      throw new NonRetriableError(
        `batch ${params.batch} failed validation against ${params.reference}: ${failed.join('; ')}` +
          (drifted.length ? `; drifted features: ${drifted.join(', ')}` : '') +
          `; report: ${reportPath}`,
      );
    }
    return {
      status: report.status,
      rows: report.rows,
      reportPath,
      drift: report.drift && { drifted: report.drift.drifted, driftedFeatures: report.drift.driftedFeatures, psi: Object.fromEntries(report.drift.features.map((f) => [f.feature, f.psi])) },
      figures: reportFigures(report),
    };
  })
  .step('accept', { needs: ['validate'] }, async ({ upstream, params, log }) => {
    log.info('batch accepted for training', { batch: params.batch, rows: upstream.validate.rows.valid });
    return { accepted: true, batch: params.batch, rows: upstream.validate.rows.valid, reportPath: upstream.validate.reportPath };
  });
