import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { StoredArtifact } from '../../registry/artifact-store.ts';

/**
 * A local file holding a stored artifact, for targets that copy files: the store's own path when it
 * is on local disk, else a verified download into a private temp folder that `release()` removes.
 */
export async function localCopy(stored: StoredArtifact): Promise<{ path: string; release(): Promise<void> }> {
  if (stored.path) return { path: stored.path, release: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-artifact-'));
  const path = join(dir, randomBytes(6).toString('hex'));
  try {
    // open() fails the stream when the bytes do not match their checksum: nothing unverified is published.
    await pipeline(stored.open(), createWriteStream(path, { flags: 'wx' }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path, release: () => rm(dir, { recursive: true, force: true }) };
}
