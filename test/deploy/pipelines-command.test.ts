import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { definePipeline } from 'conveyor-mlops';
import irisTraining from '../../pipelines/iris-training.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { WorkerHost } from '../../src/app/worker-host.ts';
import { unservedRuns } from '../../src/app/pipeline-versions.ts';
import { validateDag } from '../../src/graph/dag.ts';
import { testRuntime, withWorker } from '../helpers/harness.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

const exec = promisify(execFile);

/**
 * The version of species-report the worker has loaded (not the local file's). Its step is on a queue
 * the worker does not consume, so a run of it stays active while being served.
 */
const speciesDeployed = definePipeline({ id: 'species-report' }).step('only', { queue: 'retired' }, () => 1);
/** A version nobody serves, on a queue nobody consumes, so its run stays active. */
const speciesGhost = definePipeline({ id: 'species-report' }).step('old', { queue: 'retired' }, () => 1);

let redis: TestRedis;
let runtime: Runtime;
let host: WorkerHost;

test.before(async () => {
  redis = await startTestRedis();
  runtime = await testRuntime(redis);
  host = await withWorker(runtime, [irisTraining, speciesDeployed], { queues: ['default', 'training'] });
});

test.after.always(async () => {
  await host?.stop(1_000);
  await runtime?.close();
  await redis?.destroy();
});

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await exec('node', ['bin/conveyor.js', '--redis-url', redis.url, '--prefix', runtime.config.prefix, '--pipelines', 'pipelines', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 30_000,
  });
  return stdout;
}

test.serial('unservedRuns reports an active run pinned to a DAG hash no live worker serves', async (t) => {
  const { runId: ghostRun } = await runtime.engine.trigger(speciesGhost);
  const { runId: servedRun } = await runtime.engine.trigger(speciesDeployed);
  const found = await unservedRuns(runtime);
  const ids = found.map((r) => r.runId);
  t.true(ids.includes(ghostRun));
  t.false(ids.includes(servedRun), 'same hash as the version the worker serves');
  const ghost = found.find((r) => r.runId === ghostRun)!;
  t.is(ghost.dagHash, validateDag(speciesGhost.spec).hash);
  t.deepEqual(ghost.servedHashes, [validateDag(speciesDeployed.spec).hash]);
});

test.serial('`conveyor pipelines --json` lists versions with their workers, flags unserved ones and pinned runs', async (t) => {
  const report = JSON.parse(await cli('pipelines', '--json')) as {
    pipelines: Array<{ id: string; file?: string; localHash?: string; versions: Array<{ hash: string; local: boolean; workers: Array<{ id: string }> }> }>;
    workers: Array<{ id: string }>;
    unservedRuns: Array<{ runId: string; pipeline: string }>;
  };
  t.deepEqual(report.workers.map((w) => w.id), [host.worker.id]);

  const iris = report.pipelines.find((p) => p.id === 'iris-training')!;
  t.is(iris.file, 'pipelines/iris-training.ts');
  t.is(iris.versions.length, 1);
  t.is(iris.versions[0].hash, validateDag(irisTraining.spec).hash);
  t.true(iris.versions[0].local);
  t.deepEqual(iris.versions[0].workers.map((w) => w.id), [host.worker.id]);

  const species = report.pipelines.find((p) => p.id === 'species-report')!;
  const local = species.versions.find((v) => v.local)!;
  t.is<string | undefined, string | undefined>(local.hash, species.localHash);
  t.deepEqual(local.workers, [], 'the local file\'s version is served by no live worker');
  const deployed = species.versions.find((v) => v.hash === validateDag(speciesDeployed.spec).hash)!;
  t.false(deployed.local);
  t.deepEqual(deployed.workers.map((w) => w.id), [host.worker.id]);

  t.true(report.unservedRuns.some((r) => r.pipeline === 'species-report'));
});

test.serial('`conveyor pipelines` (text) says which version nothing serves', async (t) => {
  const out = await cli('pipelines');
  t.regex(out, /species-report\s+[0-9a-f]{12}\s+pipelines\/species-report\.ts\s+not served by any live worker/);
  t.regex(out, /Active runs pinned to a version no live worker serves/);
});
