import test from 'ava';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../src/errors/index.ts';
import { readCsv, readJsonl, validateData } from '../../src/steps/data/index.ts';
import { ObjectStoreError } from '../../src/storage/s3-errors.ts';
import { startTestS3, type TestS3 } from '../helpers/s3-server.ts';

/** Datasets by URI: s3:// through a real S3-protocol server, http(s):// through a real HTTP server. */

const IRIS_HEAD = 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n';

let s3: TestS3;
let http: Server;
let base = '';
let dir = '';
test.before(async () => {
  s3 = await startTestS3();
  await s3.createBucket('datasets');
  // Steps get their S3 connection from the process environment, as a worker does.
  Object.assign(process.env, s3.env);
  const put = (Key: string, Body: string) => s3.connection().client.send(new PutObjectCommand({ Bucket: 'datasets', Key, Body }));
  await put('iris/2024-06/iris.csv', IRIS_HEAD);
  await put('events.jsonl', '{"a":1}\nnot json\n{"a":2}\n');
  http = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/data/iris.csv') return void res.end(IRIS_HEAD);
    res.statusCode = path === '/forbidden.csv' ? 403 : 404;
    res.end('no');
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  dir = await mkdtemp(join(tmpdir(), 'conveyor-data-uri-'));
});
test.after.always(async () => {
  http?.close();
  await s3?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function rows(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test('readers stream s3:// objects and http(s):// URLs like files', async (t) => {
  const fromS3 = await rows(readCsv('s3://datasets/iris/2024-06/iris.csv'));
  t.is(fromS3.length, 3);
  t.deepEqual(fromS3[0], { ok: true, line: 2, row: { sepal_length: '5.1', sepal_width: '3.5', petal_length: '1.4', petal_width: '0.2', species: 'setosa' } });
  t.deepEqual(await rows(readCsv(`${base}/data/iris.csv?X-Amz-Signature=abc`)), fromS3);
  const jsonl = await rows(readJsonl('s3://datasets/events.jsonl'));
  t.deepEqual(jsonl.map((item) => (item as { ok: boolean }).ok), [true, false, true]);
});

test('validateData takes a URI; the report names it without query strings (a presigned URL\'s signature is a secret)', async (t) => {
  const schema = z.object({ sepal_length: z.coerce.number(), sepal_width: z.coerce.number(), petal_length: z.coerce.number(), petal_width: z.coerce.number(), species: z.string() });
  const report = await validateData({ source: { path: 's3://datasets/iris/2024-06/iris.csv', format: 'csv' }, rowSchema: schema, checks: { rowCount: { min: 3 } } });
  t.is(report.dataset, 'iris');
  t.deepEqual(report.rows, { read: 3, valid: 3, invalid: 0 });
  t.true(report.passed);
  const signed = `${base}/data/iris.csv?X-Amz-Credential=AKIA&X-Amz-Signature=secret-signature-value`;
  const viaHttp = await validateData({
    source: { path: signed, format: 'csv' },
    rowSchema: schema,
    reference: { path: signed, format: 'csv' },
    drift: { features: ['sepal_length'] },
  });
  t.is(viaHttp.dataset, 'iris');
  t.false(JSON.stringify(viaHttp).includes('secret-signature-value'));
  t.is(viaHttp.drift?.reference.path, `${base}/data/iris.csv`);
});

test('a missing object or URL is "not found"; other refusals say what was expected and found', async (t) => {
  await t.throwsAsync(rows(readCsv('s3://datasets/iris/missing.csv')), { instanceOf: NotFoundError, message: 'data file "s3://datasets/iris/missing.csv" not found' });
  await t.throwsAsync(rows(readCsv(`${base}/missing.csv?token=hidden`)), { instanceOf: NotFoundError, message: `data file "${base}/missing.csv" not found` });
  await t.throwsAsync(rows(readJsonl(`${base}/forbidden.csv`)), { instanceOf: ValidationError, message: `${base}/forbidden.csv: expected HTTP 200 with the data, found HTTP 403` });
  const bucket = await t.throwsAsync(rows(readCsv('s3://no-such-bucket/iris.csv')), { instanceOf: ObjectStoreError });
  t.regex(bucket.message, /^s3:\/\/no-such-bucket\/iris\.csv: bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+/);
  await t.throwsAsync(rows(readCsv('s3://datasets')), { instanceOf: ValidationError, message: 'data source: expected s3://<bucket>/<key>, found "s3://datasets"' });
});

test.serial('a 1,000,000-row CSV in S3 is validated streaming, with bounded heap', async (t) => {
  const file = join(dir, 'big.csv');
  const out = createWriteStream(file);
  out.write('id,x,category\n');
  let chunk = '';
  for (let i = 0; i < 1_000_000; i++) {
    chunk += `${i},${(i % 1000) / 10},${'abc'[i % 3]}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  await new Upload({ client: s3.connection().client, params: { Bucket: 'datasets', Key: 'big/big.csv', Body: createReadStream(file) } }).done();

  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const report = await validateData({
    source: { path: 's3://datasets/big/big.csv', format: 'csv' },
    // No row schema: what is measured here is the stream from S3, not per-row parsing (data.test.ts has that).
    checks: { rowCount: { min: 1_000_000 }, maxNullRate: { '*': 0 }, categories: { category: { allowed: ['a', 'b', 'c'] } } },
    progressEvery: 50_000,
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    },
  });
  t.deepEqual(report.rows, { read: 1_000_000, valid: 1_000_000, invalid: 0 });
  t.true(report.passed);
  const growthMb = (peak - before) / 2 ** 20;
  t.log(`heap growth at peak: ${growthMb.toFixed(1)} MB`);
  t.true(growthMb < 200, `heap grew by ${growthMb.toFixed(1)} MB`);
});
