import { ValidationError } from '../../errors/index.ts';
import { readCsv } from './csv-reader.ts';
import { readJsonl } from './jsonl-reader.ts';
import type { DataSource, ReadItem } from './rows.ts';

/** Streams the records of a CSV or JSON Lines source; see `readCsv` and `readJsonl`. */
export function readRows(source: DataSource): AsyncGenerator<ReadItem> {
  if (source.format === 'csv') return readCsv(source.path, { delimiter: source.delimiter });
  if (source.format === 'jsonl') return readJsonl(source.path);
  throw new ValidationError(`${source.path}: expected format "csv" or "jsonl", found ${JSON.stringify(source.format)}`);
}
