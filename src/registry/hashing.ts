import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface HashingStream extends Transform {
  /** Hex sha256 of everything that passed so far (final after 'end'). */
  digest(): string;
  /** Bytes that passed so far. */
  bytes(): number;
}

/**
 * A pass-through that hashes what flows through it. `check`, when given, runs before the stream ends
 * with the final digest and byte count; an error it returns fails the stream instead of ending it, so
 * a consumer (an upload, a reader) never sees a clean end of bytes that did not match.
 */
export function hashingStream(check?: (sha256: string, bytes: number) => Error | undefined): HashingStream {
  const hash = createHash('sha256');
  let count = 0;
  let final: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      count += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      final = hash.digest('hex');
      callback(check?.(final, count) ?? null);
    },
  }) as HashingStream;
  stream.digest = () => final ?? hash.copy().digest('hex');
  stream.bytes = () => count;
  return stream;
}

/** sha256 + length of a whole stream. */
export async function hashOfStream(source: NodeJS.ReadableStream): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
