import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** Writes `mib` MiB of random bytes (1 MiB at a time, so the writer's memory stays small). */
export async function writeRandomFile(path: string, mib: number): Promise<void> {
  await pipeline(
    (function* () {
      for (let i = 0; i < mib; i++) yield randomBytes(1024 * 1024);
    })(),
    createWriteStream(path),
  );
}
