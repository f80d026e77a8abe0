import test from 'ava';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { NotFoundError } from '../../src/errors/conveyor-error.ts';
import { hashOfStream } from '../../src/registry/hashing.ts';
import { S3ArtifactStore } from '../../src/registry/s3-artifact-store.ts';
import { ROOT, waitFor } from '../fixtures/procs.ts';
import { writeRandomFile } from '../helpers/big-file.ts';
import { startTestS3, type TestS3 } from '../helpers/s3-server.ts';

/**
 * Large artifacts through a real S3-protocol server, each operation in its own process so its memory
 * and its death are real. CI size: 64 MiB (8 multipart parts); `npx tsx bench/s3-artifacts.ts` runs
 * the same round trip on 1 GiB (figures in BENCHMARKS.md).
 */
const CI_MIB = 64;
const MAX_RSS_GROWTH = 100 * 1024 * 1024;

let s3: TestS3;
let tmp: string;
test.before(async () => {
  s3 = await startTestS3();
  await s3.createBucket('artifacts');
  tmp = await mkdtemp(join(tmpdir(), 'conveyor-s3-large-'));
});
test.after.always(async () => {
  await s3?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function artifactProcess(args: string[], prefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/s3-artifact-main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...s3.env, CONVEYOR_ARTIFACTS: `s3://artifacts/${prefix}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return { child, exited, out: () => out, err: () => err };
}

test(`a ${CI_MIB} MiB artifact goes up in parts and comes back verified, with RSS growth under 100 MB each way`, async (t) => {
  const file = join(tmp, 'large.bin');
  await writeRandomFile(file, CI_MIB);
  const expected = await hashOfStream(createReadStream(file));
  const proc = artifactProcess(['roundtrip', file], 'large');
  const { code } = await proc.exited;
  t.is(code, 0, proc.err());
  const result = JSON.parse(proc.out().trim().split('\n').pop()!) as { uri: string; bytes: number; uploadRssGrowth: number; downloadRssGrowth: number };
  t.is(result.bytes, CI_MIB * 1024 * 1024);
  t.true(result.uri.endsWith(expected.sha256));
  t.log(`RSS growth: upload ${(result.uploadRssGrowth / 2 ** 20).toFixed(1)} MiB, download ${(result.downloadRssGrowth / 2 ** 20).toFixed(1)} MiB`);
  t.true(result.uploadRssGrowth < MAX_RSS_GROWTH, `upload grew RSS by ${result.uploadRssGrowth} bytes`);
  t.true(result.downloadRssGrowth < MAX_RSS_GROWTH, `download grew RSS by ${result.downloadRssGrowth} bytes`);
});

/** Files s3rver writes for each stored multipart part (`<part>.md5`), anywhere under its data dir. */
async function storedParts(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => /(^|\/)\d+\.md5$/.test(String(e))).length;
}

test('an upload killed (-9) between its parts leaves nothing a reader can see', async (t) => {
  const file = join(tmp, 'interrupted.bin');
  await writeRandomFile(file, 40);
  const { sha256 } = await hashOfStream(createReadStream(file));
  const proc = artifactProcess(['put', file], 'interrupted');
  await waitFor(async () => (await storedParts(s3.dir)) > 0 || proc.child.exitCode !== null, 30_000, 'a first multipart part on the server');
  proc.child.kill('SIGKILL');
  const { signal } = await proc.exited;
  t.is(signal, 'SIGKILL', `the upload was still running when killed (stdout: ${proc.out()})`);

  const store = new S3ArtifactStore(s3.connection(), { bucket: 'artifacts', prefix: 'interrupted' });
  await t.throwsAsync(store.get(`cas://sha256/${sha256}`), { instanceOf: NotFoundError });
  const listed = await s3.connection().client.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'interrupted/' }));
  t.deepEqual(listed.Contents ?? [], [], 'no object, whole or partial, under the prefix');
  t.is(await store.sizeBytes(), 0);

  // A later put of the same file (the retry) completes normally.
  const again = artifactProcess(['put', file], 'interrupted');
  t.is((await again.exited).code, 0, again.err());
  t.is((await store.get(`cas://sha256/${sha256}`)).bytes, 40 * 1024 * 1024);
});
