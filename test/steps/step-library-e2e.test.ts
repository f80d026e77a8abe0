import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipelines } from '../../src/app/pipeline-loader.ts';
import type { Pipeline } from '../../src/dsl/pipeline.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';

// The example pipelines, loaded the way `conveyor worker` loads them (they import from 'conveyor-mlops'),
// run end to end through a real worker on a private Redis.
const PIPELINES = fileURLToPath(new URL('../../pipelines/', import.meta.url));
const reportDir = mkdtempSync(join(tmpdir(), 'conveyor-reports-'));

let redis: TestRedis;
let runtime: Runtime;
let host: WorkerHost;
let trainScript: Pipeline<any, any>;
let dataQuality: Pipeline<any, any>;

test.before(async () => {
  const loaded = await Promise.all(['train-script.ts', 'data-quality.ts'].map((f) => loadPipelines(join(PIPELINES, f))));
  const problems = loaded.flatMap((l) => l.problems);
  if (problems.length) throw new Error(`pipelines failed to load: ${JSON.stringify(problems)}`);
  [trainScript, dataQuality] = loaded.map((l) => l.pipelines[0]);
  redis = await startTestRedis();
  runtime = await testRuntime(redis);
  host = await withWorker(runtime, [trainScript, dataQuality]);
});
test.after.always(async () => {
  await host?.stop(1_000);
  await runtime?.close();
  await redis?.destroy();
  rmSync(reportDir, { recursive: true, force: true });
});

test('train-script: the training script runs as a child process and its real accuracy reaches the gate', async (t) => {
  t.deepEqual(host.queues, ['default', 'training']);
  const { runId } = await runtime.engine.trigger(trainScript, { params: {} });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  t.is(view.status, 'succeeded', JSON.stringify(view.steps));
  const train = view.steps.train.output as {
    accuracy: number; testRows: number; classes: string[];
    model: { type: string; weights: number[][] };
    resources: { wallMs: number; cpuMs: number | null; peakRssBytes: number | null; samples: number };
  };
  // 300 epochs of softmax regression on iris, every 5th row held out: 29 of 30 right.
  t.is(train.testRows, 30);
  t.is(Math.round(train.accuracy * 30), 29);
  t.deepEqual(train.classes, ['setosa', 'versicolor', 'virginica']);
  t.is(train.model.type, 'softmax-regression');
  t.is(train.model.weights.length, 3);
  t.true(typeof train.resources.cpuMs === 'number' && train.resources.cpuMs > 0);
  // Memory is sampled from /proc: a script that ends before the first sample (a loaded CI machine)
  // has no figure, and says so (samples 0, peak null) rather than reporting 0. The held-memory case
  // is asserted exactly in test/steps/run-command.test.ts.
  const { peakRssBytes, samples } = train.resources;
  t.is(typeof samples, 'number');
  if (samples > 0) t.true(typeof peakRssBytes === 'number' && peakRssBytes > 0, `peak ${peakRssBytes} after ${samples} samples`);
  else t.is(peakRssBytes, null);
  t.deepEqual((view.steps.evaluate.output as { passed: boolean }).passed, true);

  const logs = await runtime.store.readLogs(runId);
  t.true(logs.some((e) => e.step === 'train' && e.level === 'info' && /^epoch 300\/300 loss/.test(e.msg)), 'the script\'s progress lines are in the step log');
  t.true(logs.some((e) => e.step === 'train' && e.level === 'warn' && /held-out accuracy/.test(e.msg)), 'its stderr is logged as warnings');
});

test('train-script: an accuracy bar the model misses fails the evaluate gate', async (t) => {
  const { runId } = await runtime.engine.trigger(trainScript, { params: { minAccuracy: 0.99 } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  t.is(view.status, 'failed');
  t.is(view.steps.train.status, 'succeeded');
  t.is(view.steps.evaluate.status, 'failed');
  t.regex(view.steps.evaluate.error?.message ?? '', /accuracy gate failed: accuracy 0\.9667 .* 0\.99/);
  t.is(view.steps.evaluate.attempts, 1);
});

test('data-quality: a batch from the training distribution passes and is accepted; the report is written', async (t) => {
  const { runId } = await runtime.engine.trigger(dataQuality, { params: { batch: 'data/iris-batch.csv', reportDir } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  t.is(view.status, 'succeeded', JSON.stringify(view.steps));
  const validate = view.steps.validate.output as { status: string; reportPath: string; drift: { drifted: boolean; driftedFeatures: string[] }; rows: { read: number } };
  t.is(validate.status, 'passed');
  t.is(validate.rows.read, 50);
  t.false(validate.drift.drifted);
  t.deepEqual(validate.drift.driftedFeatures, []);
  t.is(validate.reportPath, join(reportDir, `data-quality-${runId}.md`));
  const report = readFileSync(validate.reportPath, 'utf8');
  t.regex(report, /# Data validation: iris-batch — ✅ passed/);
  t.deepEqual(view.steps.accept.output, { accepted: true, batch: 'data/iris-batch.csv', rows: 50, reportPath: validate.reportPath });
});

test('data-quality: the shifted batch fails on drift, names the drifted features, and still writes its report', async (t) => {
  const { runId } = await runtime.engine.trigger(dataQuality, { params: { batch: 'data/iris-batch-shifted.csv', reportDir } });
  const view = await runtime.engine.waitForRun(runId, { timeoutMs: 60_000 });
  t.is(view.status, 'failed');
  t.is(view.steps.validate.status, 'failed');
  t.is(view.steps.validate.attempts, 1, 'NonRetriableError: a drifted batch will not get better on retry');
  const message = view.steps.validate.error?.message ?? '';
  t.log(message);
  t.regex(message, /batch data\/iris-batch-shifted\.csv failed validation/);
  t.regex(message, /drift: \d of 4 features drifted/);
  t.regex(message, /petal_length \(PSI/);
  t.regex(message, /petal_width \(PSI/);
  t.notRegex(message, /sepal_width \(/);
  t.is(view.steps.accept.status, 'skipped');
  const reportPath = join(reportDir, `data-quality-${runId}.md`);
  t.true(existsSync(reportPath));
  t.regex(readFileSync(reportPath, 'utf8'), /# Data validation: iris-batch-shifted — ❌ failed/);
  // The same report is kept with the run, for the run page's artifacts list.
  const [artifact] = await runtime.store.artifacts.list(runId);
  t.like(artifact, { name: 'data-quality-report.md', step: 'validate', contentType: 'text/markdown; charset=utf-8' });
  t.is((await runtime.store.artifacts.get(runId, 'data-quality-report.md')).content.toString('utf8'), readFileSync(reportPath, 'utf8'));
});
