import test from 'ava';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { chmod, lstat, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis, type RedisClient } from '../../src/redis/connection.ts';
import { KeySpace } from '../../src/redis/keys.ts';
import { ArtifactChecksumError, LocalArtifactStore, ModelRegistry, createStepRegistryClient, type StepRegistryClient } from '../../src/registry/index.ts';
import { deploy, DeploymentError } from '../../src/steps/deploy/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
let work: string;
let conn: RedisClient;
let registry: ModelRegistry;

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function stepClient(runId: string): StepRegistryClient {
  return createStepRegistryClient(registry, { runId, step: 'deploy', dagHash: 'dag1' });
}

function newVersion(content: string) {
  return { artifact: { content: Buffer.from(content), filename: 'model.onnx' }, framework: 'onnx', format: 'onnx', metrics: { auc: 0.91 } };
}

test.before(async () => {
  redis = await startTestRedis();
  work = await mkdtemp(join(tmpdir(), 'conveyor-deploy-'));
  conn = createRedis(redis.url);
  registry = new ModelRegistry({ redis: conn, keys: new KeySpace('deploytest'), artifacts: new LocalArtifactStore(join(work, 'artifacts')), deployRoot: work });
});

test.after.always(async () => {
  conn?.disconnect();
  await redis?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

test('deploy to a directory registers, moves the alias and publishes artifact + manifest atomically, keeping the previous release', async (t) => {
  const serving = join(work, 'serving');
  const ctx = { registry: stepClient('r1') };
  const first = await deploy(ctx, { model: 'churn', version: newVersion('weights v1'), alias: 'production', gates: { passed: true }, target: { type: 'directory', path: serving } });
  t.like(first, { status: 'deployed', version: 1, previous: null });

  // A reader following the documented protocol (resolve `current` once, read both files from there)
  // must always see a complete, self-consistent release while deployments swap it.
  let stop = false;
  const seen: string[] = [];
  const reader = (async () => {
    while (!stop) {
      const dir = await realpath(join(serving, 'current'));
      let manifest: { version: number; artifact: { file: string; sha256: string } };
      let bytes: Buffer;
      try {
        manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
        bytes = await readFile(join(dir, manifest.artifact.file));
      } catch (error) {
        // A release two deployments old is pruned; a reader that resolved it just resolves again.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      if (sha(bytes) !== manifest.artifact.sha256) throw new Error(`torn release in ${dir}`);
      seen.push(String(manifest.version));
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 2; i <= 5; i++) {
    await deploy({ registry: stepClient(`r${i}`) }, { model: 'churn', version: newVersion(`weights v${i}`), gates: { passed: true }, target: { type: 'directory', path: serving } });
  }
  stop = true;
  await reader;
  t.true(seen.length > 0);

  const current = join(serving, 'current');
  t.true((await lstat(current)).isSymbolicLink());
  const manifest = JSON.parse(await readFile(join(current, 'manifest.json'), 'utf8'));
  t.like(manifest, {
    model: 'churn',
    version: 5,
    alias: 'production',
    previousVersion: 4,
    artifact: { file: 'model.onnx', sha256: sha('weights v5'), bytes: 10 },
    framework: 'onnx',
    metrics: { auc: 0.91 },
    lineage: { runId: 'r5', step: 'deploy', dagHash: 'dag1' },
    deployedBy: 'run:r5/deploy',
  });
  t.is(await readFile(join(current, 'model.onnx'), 'utf8'), 'weights v5');
  t.is(await readFile(join(serving, 'previous', 'model.onnx'), 'utf8'), 'weights v4');
  // Only current and previous releases remain; no temp dirs or links left behind.
  t.is((await readdir(join(serving, 'releases'))).length, 2);
  t.deepEqual((await readdir(serving)).sort(), ['current', 'previous', 'releases']);

  t.is((await registry.aliases('churn')).production, 5);
  const history = (await registry.history('churn', { limit: 3 })).items;
  t.like(history[0], { action: 'deploy', from: 4, to: 5, actor: 'run:r5/deploy', details: { outcome: 'succeeded', target: `directory:${serving}` } });
  t.like(history[1], { action: 'set', from: 4, to: 5 });
});

test('gates that did not pass block the deployment: alias unchanged, nothing published, audited', async (t) => {
  const serving = join(work, 'blocked');
  const client = stepClient('rb');
  await deploy({ registry: client }, { model: 'gated', version: newVersion('g1'), gates: { passed: true }, target: { type: 'directory', path: serving } });
  const result = await deploy(
    { registry: client },
    { model: 'gated', version: newVersion('g2'), gates: { passed: false, gates: [{ name: 'auc', passed: false, reason: 'auc 0.61 < min 0.8' }] }, target: { type: 'directory', path: serving } },
  );
  t.like(result, { status: 'blocked', version: 2, previous: 1, location: null });
  t.is((await registry.aliases('gated')).production, 1);
  t.is(JSON.parse(await readFile(join(serving, 'current', 'manifest.json'), 'utf8')).version, 1);
  const [last] = (await registry.history('gated')).items;
  t.like(last, { action: 'deploy', from: 1, to: 2, details: { outcome: 'blocked', gates: { passed: false, gates: [{ reason: 'auc 0.61 < min 0.8' }] } } });
});

test('when the webhook target keeps failing, the alias move is rolled back and the audit shows it all', async (t) => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    res.statusCode = 500;
    res.end('serving cluster down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/deploy`;

  const client = stepClient('rw');
  await client.register({ name: 'webbed', ...newVersion('w1') });
  await client.setAlias('webbed', 'production', 1, { reason: 'initial' });

  const err = await t.throwsAsync(
    deploy({ registry: client }, { model: 'webbed', version: newVersion('w2'), gates: { passed: true }, target: { type: 'webhook', url, retries: 2, backoffMs: 1 } }),
    { instanceOf: DeploymentError },
  );
  t.regex(err!.message, /HTTP 500.*rolled back to 1/);
  t.is(requests, 3);
  t.is((await registry.aliases('webbed')).production, 1);
  t.like(await registry.get('webbed', 'production'), { version: 1 });

  const history = (await registry.history('webbed')).items;
  t.deepEqual(
    history.map((e) => [e.action, e.from, e.to]),
    [
      ['deploy', 1, 2],
      ['rollback', 2, 1],
      ['set', 1, 2],
      ['set', null, 1],
    ],
  );
  t.like(history[0], { details: { outcome: 'failed', rolledBack: true } });
  t.regex(history[1].reason, /deploy to webhook failed: .*HTTP 500/);
  t.is(history[1].actor, 'run:rw/deploy');
});

test('deploy to a webhook posts the manifest; an unknown version is refused before anything moves', async (t) => {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/deploy`;
  const client = stepClient('rok');
  await client.register({ name: 'hooked', ...newVersion('h1') });

  const result = await deploy({ registry: client }, { model: 'hooked', version: 1, alias: 'staging', gates: { passed: true }, target: { type: 'webhook', url } });
  t.like(result, { status: 'deployed', version: 1, alias: 'staging', location: `webhook:${url}` });
  t.like(bodies[0], { type: 'model.deployed', model: 'hooked', version: 1, alias: 'staging', artifact: { sha256: sha('h1') } });

  await t.throwsAsync(deploy({ registry: client }, { model: 'hooked', version: 7, gates: { passed: true }, target: { type: 'webhook', url } }), { message: /hooked@7/ });
  t.deepEqual(await registry.aliases('hooked'), { staging: 1 });
  t.is(bodies.length, 1);
});

test('an artifact altered on disk after registration is never deployed; the attempt is audited', async (t) => {
  const serving = join(work, 'tampered');
  const client = stepClient('rt');
  const { version } = await client.register({ name: 'tampered', ...newVersion('t1') });
  const store = registry.artifacts as LocalArtifactStore;
  const path = store.pathOf(version.artifact.sha256);
  await chmod(path, 0o644);
  await writeFile(path, 'swapped weights');

  await t.throwsAsync(deploy({ registry: client }, { model: 'tampered', version: 1, gates: { passed: true }, target: { type: 'directory', path: serving } }), {
    instanceOf: ArtifactChecksumError,
  });
  t.deepEqual(await registry.aliases('tampered'), {});
  t.is(await lstat(join(serving, 'current')).catch(() => undefined), undefined);
  t.like((await registry.history('tampered')).items, [{ action: 'deploy', from: null, to: 1, details: { outcome: 'failed', rolledBack: false } }]);
});
