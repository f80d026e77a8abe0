import type { Readable } from 'node:stream';

export interface PutResult {
  uri: string;
  /** lowercase hex */
  sha256: string;
  bytes: number;
}

export interface StoredArtifact {
  uri: string;
  /** A local path to read the bytes from, when the store is on local disk (object stores have none: use `open()`). */
  path?: string;
  bytes: number;
  /** Streams the bytes; stores that verify on read fail the stream (not end it) when they do not match. */
  open(): Readable;
}

export interface VerifyResult {
  /** true when the stored bytes hash to the expected sha256 */
  ok: boolean;
  /** what the stored bytes actually hash to */
  sha256: string;
  bytes: number;
}

/**
 * Where model artifacts live. The registry stores only `uri` + `sha256`; whatever backs the store
 * (local disk here, object storage elsewhere) must be able to re-hash what it holds, because the
 * registry refuses versions whose bytes do not match their checksum.
 */
export interface ArtifactStore {
  /** Stores a file (path) or bytes; writes are atomic: a reader never sees a half-written artifact. */
  put(source: string | Uint8Array): Promise<PutResult>;
  /** Throws NotFoundError when nothing is stored under `uri`. */
  get(uri: string): Promise<StoredArtifact>;
  /** Re-hashes the stored bytes. Throws NotFoundError when nothing is stored under `uri`. */
  verify(uri: string, sha256: string): Promise<VerifyResult>;
  /** Total bytes held (for metrics and `conveyor models` output). */
  sizeBytes(): Promise<number>;
}
