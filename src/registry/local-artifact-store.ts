import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, ValidationError } from '../errors/conveyor-error.ts';
import type { ArtifactStore, PutResult, StoredArtifact, VerifyResult } from './artifact-store.ts';

const URI_PREFIX = 'cas://sha256/';
const HEX64 = /^[0-9a-f]{64}$/;

/** Default place of the local store, relative to the configured `dataDir`. */
export function defaultArtifactDir(dataDir: string): string {
  return join(dataDir, 'artifacts');
}

/**
 * Content-addressed artifacts on local disk: `<dir>/sha256/<ab>/<hash>`, URI `cas://sha256/<hash>`.
 * The URI names the content, not the path, so a volume mounted elsewhere on another machine still
 * resolves. Bytes are streamed into `<dir>/tmp/`, fsynced, then renamed into place (rename is atomic
 * on one filesystem), so readers see a whole artifact or none; the same bytes are stored once.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async put(source: string | Uint8Array): Promise<PutResult> {
    const tmpDir = join(this.dir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}.part`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      const input =
        typeof source === 'string'
          ? createReadStream(source)
          : (async function* () {
              yield Buffer.from(source.buffer, source.byteOffset, source.byteLength);
            })();
      await pipeline(input, hasher, createWriteStream(tmpPath, { flags: 'wx' }));
      await fsync(tmpPath);
      const sha256 = hash.digest('hex');
      const finalPath = this.pathOf(sha256);
      await mkdir(join(finalPath, '..'), { recursive: true });
      // Same content already stored: keep the existing file (identical bytes), drop ours.
      if (await exists(finalPath)) await rm(tmpPath, { force: true });
      else {
        await chmod(tmpPath, 0o444);
        await rename(tmpPath, finalPath);
      }
      return { uri: `${URI_PREFIX}${sha256}`, sha256, bytes };
    } catch (error) {
      await rm(tmpPath, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && typeof source === 'string') {
        throw new NotFoundError('artifact file', source);
      }
      throw error;
    }
  }

  async get(uri: string): Promise<StoredArtifact & { path: string }> {
    const path = this.pathOf(this.hashOf(uri));
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new NotFoundError('artifact', uri);
    return { uri, path, bytes: info.size, open: () => createReadStream(path) };
  }

  async verify(uri: string, sha256: string): Promise<VerifyResult> {
    const stored = await this.get(uri);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of stored.open()) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const actual = hash.digest('hex');
    // The address must match too: a file renamed under another hash would otherwise pass.
    return { ok: actual === sha256.toLowerCase() && actual === this.hashOf(uri), sha256: actual, bytes };
  }

  async sizeBytes(): Promise<number> {
    const root = join(this.dir, 'sha256');
    let total = 0;
    const shards = await readdir(root).catch(() => [] as string[]);
    for (const shard of shards) {
      for (const file of await readdir(join(root, shard)).catch(() => [] as string[])) {
        const info = await stat(join(root, shard, file)).catch(() => undefined);
        if (info?.isFile()) total += info.size;
      }
    }
    return total;
  }

  /** Local path of a stored hash (whether or not it exists). */
  pathOf(sha256: string): string {
    return join(this.dir, 'sha256', sha256.slice(0, 2), sha256);
  }

  private hashOf(uri: string): string {
    const hash = uri.startsWith(URI_PREFIX) ? uri.slice(URI_PREFIX.length) : '';
    if (!HEX64.test(hash)) {
      throw new ValidationError(`artifact uri: expected "${URI_PREFIX}<64 hex chars>" for the local store, found "${uri}"`);
    }
    return hash;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
