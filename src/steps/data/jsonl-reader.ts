import { createInterface } from 'node:readline';
import { describeDataLocation, openDataSource } from './open-source.ts';
import { mapOpenError, type ReadItem } from './rows.ts';

/**
 * Streams a JSON Lines file: one JSON object per line. A line that is not valid JSON, or is JSON but not
 * an object, is yielded as `{ ok: false, line, error }` — counted and reported by the caller, never
 * thrown — so one corrupt line does not cost the whole batch. Blank lines are skipped. `path` may
 * also be an `s3://bucket/key` or `https://…` URL (see `openDataSource`).
 */
export async function* readJsonl(path: string): AsyncGenerator<ReadItem> {
  const where = describeDataLocation(path);
  const file = await openDataSource(path);
  const lines = createInterface({ input: file, crlfDelay: Infinity });
  let openError: unknown;
  file.on('error', (error) => {
    openError = error;
    lines.close();
  });
  let line = 0;
  try {
    for await (let text of lines) {
      line++;
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        yield { ok: false, line, error: `invalid JSON: ${(error as Error).message}` };
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
        yield { ok: false, line, error: `expected a JSON object, found ${found}` };
        continue;
      }
      yield { ok: true, line, row: value as Record<string, unknown> };
    }
  } catch (error) {
    throw mapOpenError(error, where);
  } finally {
    lines.close();
    file.destroy();
  }
  if (openError) throw mapOpenError(openError, where);
}
