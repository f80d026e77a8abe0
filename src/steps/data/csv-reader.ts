import { parse, type CsvError } from 'csv-parse';
import { ValidationError } from '../../errors/index.ts';
import { describeDataLocation, openDataSource } from './open-source.ts';
import { mapOpenError, type ReadItem, type Row } from './rows.ts';

export interface CsvReadOptions {
  delimiter?: string;
}

interface CsvInfo {
  lines: number;
}

/**
 * Streams a CSV file (RFC 4180: header row, quoted fields holding commas, `""` escapes and newlines,
 * CRLF or LF) as rows keyed by the header. Parsing is csv-parse's, the field's standard streaming
 * parser; this wrapper adds what a validation run needs: 1-based start lines, rows with the wrong field
 * count or broken quoting yielded as `{ ok: false }` with a message instead of ending the stream.
 * Memory stays bounded by the stream's buffers, whatever the file size. `path` may also be an
 * `s3://bucket/key` or `https://…` URL (see `openDataSource`).
 */
export async function* readCsv(path: string, options: CsvReadOptions = {}): AsyncGenerator<ReadItem> {
  const parser = parse({
    delimiter: options.delimiter ?? ',',
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // Both endings, so a file mixing CRLF and LF does not glue a stray "\n" onto the last field.
    record_delimiter: ['\r\n', '\n'],
  });
  const where = describeDataLocation(path);
  const file = await openDataSource(path);
  // pipe() does not forward the file's errors (a missing file); destroying the parser with it makes iteration reject.
  file.on('error', (error) => parser.destroy(error));
  file.pipe(parser);
  let openError: unknown;
  const skipped: { line: number; error: string }[] = [];
  let quotedCr = 0; // see below
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    skipped.push({ line: (err.lines ?? 0) - quotedCr, error: `malformed CSV: ${err.message}` });
  });

  let header: string[] | null = null;
  // csv-parse's info.lines counts every '\r' inside a quoted field as a line of its own, so a quoted
  // CRLF counts twice. Physical lines are '\n'-terminated: subtract the running count of quoted '\r's,
  // then step back over the record's own quoted '\n's to reach its first line.
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: CsvInfo }>) {
      const { record, info } = item;
      let quotedLf = 0;
      for (const field of record) {
        if (field.length === 0 || (field.indexOf('\n') < 0 && field.indexOf('\r') < 0)) continue;
        for (let i = 0; i < field.length; i++) {
          const ch = field.charCodeAt(i);
          if (ch === 10) quotedLf++;
          else if (ch === 13) quotedCr++;
        }
      }
      const start = info.lines - quotedCr - quotedLf;
      while (skipped.length && skipped[0].line < start) yield { ok: false, ...skipped.shift()! };
      if (header === null) {
        header = checkHeader(where, record);
        continue;
      }
      if (record.length !== header.length) {
        yield {
          ok: false,
          line: start,
          error: `expected ${header.length} fields (${header.join(', ')}), found ${record.length}`,
        };
        continue;
      }
      const row: Row = {};
      for (let i = 0; i < header.length; i++) {
        if (record[i] !== '') row[header[i]] = record[i];
      }
      yield { ok: true, line: start, row };
    }
  } catch (error) {
    openError = error;
  } finally {
    // An early break by the consumer must not leave the file open.
    file.destroy();
  }
  if (openError) throw mapOpenError(openError, where);
  while (skipped.length) yield { ok: false, ...skipped.shift()! };
  if (header === null) throw new ValidationError(`${where}: expected a CSV header row, found an empty file`);
}

function checkHeader(path: string, record: string[]): string[] {
  const names = record.map((name) => name.trim());
  const empty = names.findIndex((name) => name === '');
  if (empty >= 0) throw new ValidationError(`${path}: line 1: expected a name for every header column, found column ${empty + 1} empty`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ValidationError(`${path}: line 1: expected distinct header names, found "${name}" twice`);
    seen.add(name);
  }
  return names;
}
