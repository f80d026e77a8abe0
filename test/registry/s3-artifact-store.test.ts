import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text, buffer } from 'node:stream/consumers';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { NotFoundError } from '../../src/errors/conveyor-error.ts';
import { ArtifactChecksumError } from '../../src/registry/errors.ts';
import { S3ArtifactStore } from '../../src/registry/s3-artifact-store.ts';
import { ObjectStoreError } from '../../src/storage/s3-errors.ts';
import { createS3Connection } from '../../src/storage/s3-client.ts';
import { freePort } from '../helpers/redis-server.ts';
import { startTestS3, type TestS3 } from '../helpers/s3-server.ts';

let s3: TestS3;
let tmp: string;
test.before(async () => {
  s3 = await startTestS3();
  await s3.createBucket('artifacts');
  tmp = await mkdtemp(join(tmpdir(), 'conveyor-s3-test-'));
});
test.after.always(async () => {
  await s3?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const storeAt = (prefix: string) => new S3ArtifactStore(s3.connection(), { bucket: 'artifacts', prefix });

test('put stores a file and bytes by content, once; get streams them back; verify re-hashes', async (t) => {
  const store = storeAt('team-a/models');
  const bytes = randomBytes(300_000);
  const file = join(tmp, 'model.bin');
  await writeFile(file, bytes);
  const hash = sha(bytes);

  const fromFile = await store.put(file);
  t.deepEqual(fromFile, { uri: `s3://artifacts/team-a/models/sha256/${hash.slice(0, 2)}/${hash}`, sha256: hash, bytes: bytes.length });
  t.deepEqual(await store.put(new Uint8Array(bytes)), fromFile);
  t.is(await store.sizeBytes(), bytes.length);

  const stored = await store.get(fromFile.uri);
  t.is(stored.bytes, bytes.length);
  t.is(stored.path, undefined, 'an object store has no local path');
  t.true((await buffer(stored.open())).equals(bytes));
  // The content address resolves in any store that holds the bytes.
  t.true((await buffer((await store.get(`cas://sha256/${hash}`)).open())).equals(bytes));
  t.deepEqual(await store.verify(fromFile.uri, hash.toUpperCase()), { ok: true, sha256: hash, bytes: bytes.length });
  t.false((await store.verify(fromFile.uri, 'f'.repeat(64))).ok);

  await t.throwsAsync(store.get(`s3://artifacts/team-a/models/sha256/00/${'0'.repeat(64)}`), { instanceOf: NotFoundError });
  await t.throwsAsync(store.put(join(tmp, 'missing.bin')), { instanceOf: NotFoundError });
  await t.throwsAsync(store.get('s3://other-bucket/x'), { message: /expected "s3:\/\/artifacts\/team-a\/models\/sha256\/<ab>\/<64 hex chars>"/ });
});

test('bytes changed behind the store\'s back: verify says so, and reading refuses them with a clear error', async (t) => {
  const store = storeAt('tamper');
  const bytes = Buffer.from('{"classes":["a","b"],"tree":{}}');
  const put = await store.put(bytes);
  // Someone overwrites the object directly in the bucket.
  const forged = Buffer.from('{"classes":["a","b"],"tree":{"evil":true}}');
  await s3.connection().client.send(new PutObjectCommand({ Bucket: 'artifacts', Key: store.keyOf(put.sha256), Body: forged }));

  const verified = await store.verify(put.uri, put.sha256);
  t.false(verified.ok);
  t.is(verified.sha256, sha(forged));
  const stored = await store.get(put.uri);
  const error = await t.throwsAsync(text(stored.open()), { instanceOf: ArtifactChecksumError });
  t.is(error.message, `artifact store: artifact ${put.uri} has sha256 ${sha(forged)}, expected ${put.sha256}; refusing to read bytes that do not match their checksum`);
});

test('a missing bucket, wrong keys and a dead endpoint each fail with one line naming the URI and what to check', async (t) => {
  const missing = new S3ArtifactStore(s3.connection(), { bucket: 'no-such-bucket', prefix: 'p' });
  const noBucket = await t.throwsAsync(missing.put(Buffer.from('x')), { instanceOf: ObjectStoreError });
  t.is(noBucket.reason, 'bucket-missing');
  t.regex(noBucket.message, /^s3:\/\/no-such-bucket\/p: bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+; create it/);
  t.false(noBucket.message.includes('\n'));

  // s3rver checks the key id (it does not compute V4 signatures): an unknown key is refused for real.
  const wrongKeys = new S3ArtifactStore(s3.connection({ accessKeyId: 'AKIAUNKNOWNKEY', secretAccessKey: 'not-the-secret-1234' }), { bucket: 'artifacts', prefix: 'p' });
  const denied = await t.throwsAsync(wrongKeys.put(Buffer.from('x')), { instanceOf: ObjectStoreError });
  t.is(denied.reason, 'access-denied');
  t.regex(denied.message, /^s3:\/\/artifacts\/p\/.*: access denied by http:\/\/127\.0\.0\.1:\d+ \(HTTP 403\); check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
  t.false(denied.message.includes('not-the-secret-1234'), 'the secret never appears in the error');

  const port = await freePort();
  const dead = new S3ArtifactStore(createS3Connection({ ...s3.settings, endpoint: `http://127.0.0.1:${port}` }, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }), { bucket: 'artifacts', prefix: '' });
  const unreachable = await t.throwsAsync(dead.sizeBytes(), { instanceOf: ObjectStoreError });
  t.is(unreachable.reason, 'unreachable');
  t.is(unreachable.message, `s3://artifacts: object store endpoint http://127.0.0.1:${port} unreachable (ECONNREFUSED); check AWS_ENDPOINT_URL_S3, that the server is up, and the network between them`);
  // Transient errors were retried with backoff before giving up.
  t.is((unreachable.cause as { $metadata?: { attempts?: number } }).$metadata?.attempts, 5);

  const listed = await s3.connection().client.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'p/' }));
  t.is(listed.KeyCount ?? 0, 0, 'nothing was written by the refused puts');
});
