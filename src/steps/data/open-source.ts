import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../config/object-store.ts';
import { NotFoundError, ValidationError } from '../../errors/index.ts';
import { sharedS3Connection } from '../../storage/s3-client.ts';
import { isMissingObject, objectStoreError } from '../../storage/s3-errors.ts';

/**
 * A data location as shown in messages and report names: URLs lose their user info and query string
 * (a presigned URL's signature is a credential), paths are unchanged.
 */
export function describeDataLocation(location: string): string {
  if (!/^https?:\/\//i.test(location)) return location;
  try {
    const url = new URL(location);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return location.replace(/[?#].*$/, '');
  }
}

/**
 * Opens a data source as a byte stream: a local path, `s3://bucket/key` (through the process's S3
 * connection, configured from the environment like the artifact store) or `http(s)://…`. Each is a
 * stream with backpressure, so a reader's memory stays bounded by its buffers whatever the size.
 * A missing object or a 404 is a NotFoundError like a missing file; a local path's errors arrive on
 * the stream, as before.
 */
export async function openDataSource(location: string, signal?: AbortSignal): Promise<Readable> {
  if (location.startsWith('s3://')) return openS3(location, signal);
  if (/^https?:\/\//i.test(location)) return openHttp(location, signal);
  return createReadStream(location);
}

async function openS3(uri: string, signal?: AbortSignal): Promise<Readable> {
  const parsed = parseS3Uri(uri);
  if (!parsed || !parsed.prefix) throw new ValidationError(`data source: expected s3://<bucket>/<key>, found "${uri}"`);
  const s3 = sharedS3Connection();
  try {
    const object = await s3.client.send(new GetObjectCommand({ Bucket: parsed.bucket, Key: parsed.prefix }), { abortSignal: signal });
    return object.Body as Readable;
  } catch (error) {
    if (isMissingObject(error)) throw new NotFoundError('data file', uri);
    throw objectStoreError(error, uri, s3.settings, parsed.bucket);
  }
}

async function openHttp(url: string, signal?: AbortSignal): Promise<Readable> {
  const where = describeDataLocation(url);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ValidationError(`${where}: could not fetch the data (${cause}); check the URL and the network`);
  }
  if (response.status === 404) throw new NotFoundError('data file', where);
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new ValidationError(`${where}: expected HTTP 200 with the data, found HTTP ${response.status}`);
  }
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
}
