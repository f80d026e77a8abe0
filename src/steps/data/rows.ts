import { NotFoundError, ValidationError } from '../../errors/index.ts';

export type DataFormat = 'csv' | 'jsonl';

/** One parsed record. CSV values are strings (an empty field is left out: missing, not ""); JSONL values are as parsed. */
export type Row = Record<string, unknown>;

/**
 * What a reader yields, one per record: a row, or a record that could not be parsed. Bad records are
 * yielded, not thrown, so a validation run can count them and name their lines; `line` is 1-based and
 * is the first physical line of the record (a quoted CSV field may span several).
 */
export type ReadItem = { ok: true; line: number; row: Row } | { ok: false; line: number; error: string };

export interface DataSource {
  /** A local path, `s3://bucket/key` or `https://…` URL. */
  path: string;
  format: DataFormat;
  /** CSV only; default ",". */
  delimiter?: string;
}

/** Turns a stream's ENOENT into the error Conveyor users expect; anything else passes through. */
export function mapOpenError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new NotFoundError('data file', path);
  if (code === 'EISDIR') return new ValidationError(`${path}: expected a data file, found a directory`);
  return error;
}
