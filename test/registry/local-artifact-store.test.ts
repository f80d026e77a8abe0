import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../src/errors/conveyor-error.ts';
import { LocalArtifactStore } from '../../src/registry/index.ts';

test('stores files and buffers by content, once, and leaves no temp files behind', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-cas-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new LocalArtifactStore(join(dir, 'artifacts'));
  const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
  const file = join(dir, 'model.bin');
  await writeFile(file, bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');

  const fromFile = await store.put(file);
  const fromBuffer = await store.put(bytes);
  t.deepEqual(fromFile, { uri: `cas://sha256/${sha}`, sha256: sha, bytes: bytes.length });
  t.deepEqual(fromBuffer, fromFile);
  t.deepEqual(await readdir(join(dir, 'artifacts', 'tmp')), []);
  t.is(await store.sizeBytes(), bytes.length);

  const stored = await store.get(fromFile.uri);
  t.true((await readFile(stored.path)).equals(bytes));
  t.deepEqual(await store.verify(fromFile.uri, sha.toUpperCase()), { ok: true, sha256: sha, bytes: bytes.length });
  t.false((await store.verify(fromFile.uri, 'f'.repeat(64))).ok);
  await t.throwsAsync(store.get(`cas://sha256/${'0'.repeat(64)}`), { instanceOf: NotFoundError });
  await t.throwsAsync(store.put(join(dir, 'missing.bin')), { instanceOf: NotFoundError });
  t.deepEqual(await readdir(join(dir, 'artifacts', 'tmp')), []);
});
