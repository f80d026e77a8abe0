import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis, type RedisClient } from '../../src/redis/connection.ts';
import { KeySpace } from '../../src/redis/keys.ts';
import { LocalArtifactStore, ModelRegistry, createStepRegistryClient } from '../../src/registry/index.ts';
import { deploy, type DeployTarget } from '../../src/steps/deploy/index.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

/** A directory deploy writes only inside the configured deploy root, and deletes only releases it wrote. */

let redis: TestRedis;
let work: string;
let root: string;
let conn: RedisClient;
let registry: ModelRegistry;
let runs = 0;

test.before(async () => {
  redis = await startTestRedis();
  work = await mkdtemp(join(tmpdir(), 'conveyor-containment-'));
  root = join(work, 'serving-root');
  await mkdir(root);
  conn = createRedis(redis.url);
  registry = new ModelRegistry({ redis: conn, keys: new KeySpace('contain'), artifacts: new LocalArtifactStore(join(work, 'artifacts')), deployRoot: root });
});
test.after.always(async () => {
  conn?.disconnect();
  await redis?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

const deployTo = (model: string, target: DeployTarget) =>
  deploy(
    { registry: createStepRegistryClient(registry, { runId: `r${++runs}`, step: 'deploy', dagHash: 'd' }) },
    { model, version: { artifact: { content: Buffer.from(`weights ${runs}`), filename: 'model.bin' }, framework: 'x', format: 'bin' }, gates: { passed: true }, target },
  );

/** A folder of someone else's files, with a `releases/` Conveyor did not write. */
async function victim(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(join(dir, 'releases', 'their-folder'), { recursive: true });
  await writeFile(join(dir, 'releases', 'their-file.txt'), 'keep me');
  await writeFile(join(dir, 'releases', 'their-folder', 'data.csv'), 'a,b\n');
  return dir;
}

test('a target outside the deploy root is refused with a clear error; nothing is written, moved or deleted', async (t) => {
  const dir = await victim('victim');
  await mkdir(join(root, 'escape'), { recursive: true });
  await symlink(dir, join(root, 'escape', 'link'));
  for (const target of [
    { type: 'directory', path: '../victim' },
    { type: 'directory', path: dir },
    { type: 'directory', path: 'escape/link' },
    { type: 'directory', path: 'escape/link/deeper' },
    { type: 'directory', path: '.' },
  ] as DeployTarget[]) {
    await t.throwsAsync(deployTo('contained', target), { message: /deploy: target ".*" resolves to .*, which is not a folder inside the deploy root .*serving-root \(CONVEYOR_DEPLOY_ROOT\); nothing was written/ }, JSON.stringify(target));
  }
  t.deepEqual((await readdir(join(dir, 'releases'))).sort(), ['their-file.txt', 'their-folder']);
  t.deepEqual(await registry.aliases('contained').catch(() => ({})), {}, 'no alias moved');
  await t.throwsAsync(registry.get('contained', 1), { message: /not found|no model|unknown/i }, 'nothing registered');
  await t.throwsAsync(deployTo('contained', { type: 'directory', name: '../victim' }), { message: /a folder name/ });
});

test('pruning removes only releases Conveyor wrote; foreign files, folders, symlinks and forged markers stay', async (t) => {
  const target = join(root, 'shared');
  await mkdir(join(target, 'releases', 'their-folder'), { recursive: true });
  await writeFile(join(target, 'releases', 'their-file.txt'), 'keep me');
  await mkdir(join(target, 'releases', 'forged'));
  await writeFile(join(target, 'releases', 'forged', '.conveyor-release'), JSON.stringify({ release: 'someone-else' }));
  await symlink(await victim('linked'), join(target, 'releases', 'a-link'));
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await deployTo('pruned', { type: 'directory', name: 'shared' }));
  const left = (await readdir(join(target, 'releases'))).sort();
  const ours = results.map((r) => r.location!.split('/').pop()!);
  // current and previous of ours stay, the two older ones are gone; every foreign entry is still there.
  t.deepEqual(left, [...ours.slice(2), 'a-link', 'forged', 'their-file.txt', 'their-folder'].sort());
  t.is(await readFile(join(target, 'releases', 'their-file.txt'), 'utf8'), 'keep me');
  t.deepEqual((await readdir(join(work, 'linked', 'releases'))).sort(), ['their-file.txt', 'their-folder']);
  t.is(results[3].location, join(target, 'releases', ours[3]));
});

test('a "releases" symlink inside the target is refused, not followed', async (t) => {
  const dir = await victim('behind-link');
  await mkdir(join(root, 'tricked'));
  await symlink(join(dir, 'releases'), join(root, 'tricked', 'releases'));
  await t.throwsAsync(deployTo('tricked', { type: 'directory', name: 'tricked' }), { message: /expected "releases" to be a folder made by Conveyor, found a symlink/ });
  t.deepEqual((await readdir(join(dir, 'releases'))).sort(), ['their-file.txt', 'their-folder']);
});
