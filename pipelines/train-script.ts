import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { definePipeline, evaluateGates, NonRetriableError, runCommand } from 'conveyor-mlops';

/** The repository root: the script and the data are found relative to this file, not to the worker's cwd. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What scripts/train-iris.mjs prints as its last line; validated, so a changed script fails loudly. */
const trainResult = z.object({
  accuracy: z.number().min(0).max(1),
  trainAccuracy: z.number(),
  testRows: z.number().int().positive(),
  classes: z.array(z.string()),
  confusion: z.array(z.array(z.number())),
  hyperparameters: z.record(z.string(), z.number()),
  model: z.object({ type: z.string() }).passthrough(),
});

/**
 * Training as an external process: the step runs a plain Node training script (it could as well be
 * `python train.py`) through `runCommand`, which streams its output into the step log, kills the whole
 * process tree on timeout or cancel, measures its CPU and memory, and takes the model and metrics
 * from the script's final JSON line. An accuracy gate follows.
 */
export default definePipeline({
  id: 'train-script',
  description: 'Train the iris classifier with an external script, then gate on accuracy',
  params: z.object({
    epochs: z.number().int().min(1).max(100_000).default(300),
    learningRate: z.number().positive().default(0.5),
    holdoutEvery: z.number().int().min(2).max(10).default(5),
    minAccuracy: z.number().min(0).max(1).default(0.9),
    data: z.string().default('data/iris.csv'),
  }),
  defaults: { retries: 1, backoff: { type: 'fixed', delayMs: 500 }, timeoutMs: 5 * 60_000 },
})
  .step('train', { queue: 'training' }, async (ctx) => {
    const { params } = ctx;
    const run = await runCommand(ctx, {
      command: process.execPath, // the worker's own node binary: no PATH surprises
      args: [
        'scripts/train-iris.mjs',
        '--data', params.data,
        '--epochs', String(params.epochs),
        '--lr', String(params.learningRate),
        '--holdout-every', String(params.holdoutEvery),
      ],
      cwd: ROOT,
      timeoutMs: 4 * 60_000,
      nonRetriableExitCodes: [2], // the script's "bad arguments or data": a retry cannot help
      resultSchema: trainResult,
    });
    const { accuracy, testRows, hyperparameters, model, classes } = run.result;
    ctx.log.info('training script finished', { accuracy, cpuMs: run.resources.cpuMs, peakRssBytes: run.resources.peakRssBytes });
    return { accuracy, testRows, hyperparameters, classes, model, resources: run.resources };
  })
  .step('evaluate', { needs: ['train'] }, async ({ upstream, params, log }) => {
    const outcome = evaluateGates({ accuracy: upstream.train.accuracy }, { thresholds: { accuracy: { min: params.minAccuracy } } });
    for (const gate of outcome.gates) log.info(gate.reason, { gate: gate.name, passed: gate.passed });
    if (!outcome.passed) {
      throw new NonRetriableError(`accuracy gate failed: ${outcome.gates.filter((g) => !g.passed).map((g) => g.reason).join('; ')}`);
    }
    return { passed: true, accuracy: upstream.train.accuracy, gates: outcome.gates };
  });
