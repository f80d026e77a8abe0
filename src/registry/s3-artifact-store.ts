import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Location } from '../config/object-store.ts';
import { ConveyorError, NotFoundError, ValidationError } from '../errors/conveyor-error.ts';
import type { S3Connection } from '../storage/s3-client.ts';
import { isMissingObject, objectStoreError } from '../storage/s3-errors.ts';
import type { ArtifactStore, PutResult, StoredArtifact, VerifyResult } from './artifact-store.ts';
import { ArtifactChecksumError } from './errors.ts';
import { hashingStream, hashOfStream } from './hashing.ts';

const CAS_PREFIX = 'cas://sha256/';
const HEX64 = /^[0-9a-f]{64}$/;
/** 8 MiB parts, 2 in flight: an upload holds ~16 MiB of buffers whatever the artifact's size. */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

/**
 * Content-addressed artifacts in an S3-compatible bucket: `<prefix>/sha256/<ab>/<hash>`, URI
 * `s3://<bucket>/<prefix>/sha256/<ab>/<hash>` (`cas://sha256/<hash>` resolves here too).
 *
 * - Atomic: the hash is computed first (a local file is read twice, never held in memory), then the
 *   bytes go straight to their final key; S3 makes an object visible only when its PutObject or
 *   CompleteMultipartUpload succeeds, so a reader sees a whole artifact or none. A failed or killed
 *   upload leaves at most unfinished multipart parts, which no reader sees (a bucket lifecycle rule
 *   `AbortIncompleteMultipartUpload` reclaims them).
 * - Verified: the bytes are re-hashed while uploading (a file changed between the two reads fails the
 *   upload) and while reading — `open()` fails instead of ending when the bytes do not match.
 * - Bounded memory: multipart upload in MULTIPART_PART_BYTES parts, reads are streams.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly location: S3Location;
  private readonly s3: S3Connection;

  constructor(s3: S3Connection, location: S3Location) {
    this.s3 = s3;
    this.location = location;
  }

  /** `s3://bucket/prefix` as configured. */
  get root(): string {
    return `s3://${this.location.bucket}${this.location.prefix ? `/${this.location.prefix}` : ''}`;
  }

  async put(source: string | Uint8Array): Promise<PutResult> {
    const body = () => (typeof source === 'string' ? createReadStream(source) : bufferStream(source));
    let first: { sha256: string; bytes: number };
    try {
      first = await hashOfStream(body());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && typeof source === 'string') throw new NotFoundError('artifact file', source);
      throw error;
    }
    const key = this.keyOf(first.sha256);
    const uri = this.uriOf(key);
    // Same content already stored (content addressing): nothing to upload.
    const existing = await this.head(key, uri);
    if (existing !== undefined && existing === first.bytes) return { uri, sha256: first.sha256, bytes: first.bytes };

    const changed = (sha256: string, bytes: number) =>
      sha256 === first.sha256 ? undefined : new ConveyorError('CONFLICT', `artifact ${typeof source === 'string' ? source : '(bytes)'} changed while it was uploaded (${first.bytes} → ${bytes} bytes); nothing was stored`, { uri });
    const checked = hashingStream(changed);
    const input = body();
    input.on('error', (error: Error) => checked.destroy(error));
    input.pipe(checked);
    const upload = new Upload({
      client: this.s3.client,
      params: { Bucket: this.location.bucket, Key: key, Body: checked, ContentType: 'application/octet-stream', Metadata: { sha256: first.sha256 } },
      partSize: MULTIPART_PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      // On failure lib-storage aborts the multipart upload: no parts are left behind.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      input.destroy();
      throw this.mapError(error, uri);
    }
    return { uri, sha256: first.sha256, bytes: first.bytes };
  }

  async get(uri: string): Promise<StoredArtifact> {
    const hash = this.hashOf(uri);
    const key = this.keyOf(hash);
    const bytes = await this.head(key, uri);
    if (bytes === undefined) throw new NotFoundError('artifact', uri);
    return {
      uri,
      bytes,
      open: () => this.openVerified(key, uri, hash),
    };
  }

  async verify(uri: string, sha256: string): Promise<VerifyResult> {
    const hash = this.hashOf(uri);
    const key = this.keyOf(hash);
    const body = await this.getBody(key, uri);
    if (!body) throw new NotFoundError('artifact', uri);
    const actual = await hashOfStream(body).catch((error) => {
      throw this.mapError(error, uri);
    });
    // The address must match too: an object written under another hash's key would otherwise pass.
    return { ok: actual.sha256 === sha256.toLowerCase() && actual.sha256 === hash, sha256: actual.sha256, bytes: actual.bytes };
  }

  async sizeBytes(): Promise<number> {
    let total = 0;
    let token: string | undefined;
    const prefix = this.keyPrefix('sha256/');
    do {
      const page = await this.s3.client
        .send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }))
        .catch((error) => {
          throw this.mapError(error, this.root);
        });
      for (const object of page.Contents ?? []) total += object.Size ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return total;
  }

  /** Checks that the bucket exists and the credentials may use it (one request); throws the one-line error. */
  async check(): Promise<void> {
    await this.s3.client.send(new HeadBucketCommand({ Bucket: this.location.bucket })).catch((error) => {
      throw this.mapError(isMissingObject(error) ? Object.assign(error, { name: 'NoSuchBucket' }) : error, this.root);
    });
  }

  /** The object key of a stored hash (whether or not it exists). */
  keyOf(sha256: string): string {
    return this.keyPrefix(`sha256/${sha256.slice(0, 2)}/${sha256}`);
  }

  private keyPrefix(rest: string): string {
    return this.location.prefix ? `${this.location.prefix}/${rest}` : rest;
  }

  private uriOf(key: string): string {
    return `s3://${this.location.bucket}/${key}`;
  }

  private hashOf(uri: string): string {
    const own = `${this.root}/sha256/`;
    let hash = '';
    if (uri.startsWith(CAS_PREFIX)) hash = uri.slice(CAS_PREFIX.length);
    else if (uri.startsWith(own)) hash = uri.slice(own.length).split('/')[1] ?? '';
    if (!HEX64.test(hash) || (uri.startsWith(own) && uri !== this.uriOf(this.keyOf(hash)))) {
      throw new ValidationError(`artifact uri: expected "${own}<ab>/<64 hex chars>" or "${CAS_PREFIX}<64 hex chars>" for the store at ${this.root}, found "${uri}"`);
    }
    return hash;
  }

  /** Size of the object at `key`, undefined when absent; a missing bucket is an error, not "absent". */
  private async head(key: string, uri: string): Promise<number | undefined> {
    try {
      const head = await this.s3.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (!isMissingObject(error)) throw this.mapError(error, uri);
      // HEAD answers a bare 404 for a missing bucket too: tell the two apart.
      await this.check();
      return undefined;
    }
  }

  private async getBody(key: string, uri: string): Promise<Readable | undefined> {
    try {
      const object = await this.s3.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: key }));
      return object.Body as Readable;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw this.mapError(error, uri);
    }
  }

  /** A stream of the stored bytes that errors (instead of ending) when they do not hash to `hash`. */
  private openVerified(key: string, uri: string, hash: string): Readable {
    const checked = hashingStream((actual) => (actual === hash ? undefined : new ArtifactChecksumError('artifact store', uri, hash, actual, 'read')));
    const out = new PassThrough();
    checked.on('error', (error) => out.destroy(error));
    checked.pipe(out);
    this.getBody(key, uri).then(
      (body) => {
        if (!body) return checked.destroy(new NotFoundError('artifact', uri));
        body.on('error', (error) => checked.destroy(this.mapError(error, uri)));
        out.on('close', () => body.destroy());
        body.pipe(checked);
      },
      (error) => checked.destroy(error),
    );
    return out;
  }

  private mapError(error: unknown, uri: string): ConveyorError {
    return objectStoreError(error, uri, this.s3.settings, this.location.bucket);
  }
}

function bufferStream(bytes: Uint8Array): Readable {
  const stream = new PassThrough();
  stream.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return stream;
}
