import { basename, extname } from 'node:path';
import { z } from 'zod';
import { CancelledError, ValidationError, formatZodIssues } from '../../errors/index.ts';
import { CheckAccumulator, type CheckResult, type DataChecks, type Severity } from './checks.ts';
import { FeatureDriftAccumulator, ReferenceProfile, type DriftMethod, type DriftSettings, type FeatureType } from './feature-drift.ts';
import { describeDataLocation } from './open-source.ts';
import { readRows } from './read-rows.ts';
import type { DataReport, DriftReport, InvalidExample } from './report.ts';
import { seededRandom } from './reservoir.ts';
import type { DataSource, Row } from './rows.ts';

export interface DriftOptions {
  /** Feature names, or `{ name, type }` to force a type; otherwise numeric when every reference value is a number. */
  features: readonly (string | { name: string; type: FeatureType })[];
  psiThreshold?: number;
  ksPValue?: number;
  bins?: number;
  /** How PSI and KS combine for a numeric feature. Default 'either'. Categorical features use PSI alone. */
  method?: DriftMethod;
  /** The dataset drifted when the share of drifted features is ≥ this. Default 0.5. */
  datasetShare?: number;
  /** Reservoir cap per numeric feature and side; KS uses the sample beyond it. Default 100,000. */
  sampleSize?: number;
  seed?: number;
  epsilon?: number;
  maxCategories?: number;
  /** Severity of the `drift` check in the report. Default 'error'. */
  severity?: Severity;
}

export interface ValidateDataOptions {
  source: DataSource;
  dataset?: string;
  /** Parses each row; rows it rejects are invalid, and checks and drift see its output (coerced values). */
  rowSchema?: z.ZodType<Row>;
  checks?: DataChecks;
  reference?: DataSource;
  drift?: DriftOptions;
  /** Called every `progressEvery` records read (default 100,000). */
  onProgress?: (progress: { rows: number }) => void;
  progressEvery?: number;
  signal?: AbortSignal;
}

const EXAMPLES = 5;
const severity = z.enum(['error', 'warn']).optional();
const rate = z.number().min(0).max(1);
const bound = z.number().finite().optional();
const sourceSchema = z.object({ path: z.string().min(1), format: z.enum(['csv', 'jsonl']), delimiter: z.string().length(1).optional() });

const optionsSchema = z.object({
  source: sourceSchema,
  dataset: z.string().min(1).optional(),
  rowSchema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'expected a zod schema').optional(),
  checks: z
    .object({
      rowCount: z.object({ min: bound, max: bound, severity }).optional(),
      maxInvalidRate: z.union([rate, z.object({ max: rate, severity })]).optional(),
      maxNullRate: z.record(z.string(), z.union([rate, z.object({ max: rate, severity })])).optional(),
      ranges: z.record(z.string(), z.object({ min: bound, max: bound, maxViolationRate: rate.optional(), severity })).optional(),
      categories: z
        .record(z.string(), z.object({ allowed: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), maxViolationRate: rate.optional(), severity }))
        .optional(),
      unique: z.array(z.union([z.string().min(1), z.object({ column: z.string().min(1), severity })])).optional(),
      freshness: z
        .object({ column: z.string().min(1), maxAge: z.union([z.string(), z.number()]), now: z.union([z.date(), z.string(), z.number()]).optional(), severity })
        .optional(),
      custom: z
        .array(z.object({ name: z.string().min(1), predicate: z.custom<(row: Row) => boolean>((v) => typeof v === 'function', 'expected a function (row) => boolean'), maxFailRate: rate.optional(), severity }))
        .optional(),
    })
    .strict()
    .optional(),
  reference: sourceSchema.optional(),
  drift: z
    .object({
      features: z.array(z.union([z.string().min(1), z.object({ name: z.string().min(1), type: z.enum(['numeric', 'categorical']) })])).min(1),
      psiThreshold: z.number().positive().optional(),
      ksPValue: z.number().gt(0).lt(1).optional(),
      bins: z.number().int().min(2).max(1000).optional(),
      method: z.enum(['psi', 'ks', 'either', 'both']).optional(),
      datasetShare: z.number().gt(0).max(1).optional(),
      sampleSize: z.number().int().min(10).optional(),
      seed: z.number().int().optional(),
      epsilon: z.number().gt(0).lt(1).optional(),
      maxCategories: z.number().int().min(2).optional(),
      severity,
    })
    .strict()
    .optional(),
  onProgress: z.custom<(p: { rows: number }) => void>((v) => typeof v === 'function').optional(),
  progressEvery: z.number().int().positive().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
});

function checkAbort(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}

/**
 * Validates a data file in one streaming pass (two with a drift reference, which is read first):
 * parse → row schema → checks → drift, and returns the report. Memory is bounded by the columns and
 * the drift reservoirs (plus the distinct values of `unique` columns), not by the file's length.
 */
export async function validateData(options: ValidateDataOptions): Promise<DataReport> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error, 'validateData');
    throw new ValidationError(`validateData: invalid options: ${issues.join('; ')}`, issues);
  }
  const { source, checks = {}, reference, drift, rowSchema, signal } = options;
  if (drift && !reference) throw new ValidationError('validateData: drift: expected a reference { path, format } to compare against, found none');
  const sourceName = describeDataLocation(source.path);
  const dataset = options.dataset ?? basename(sourceName, extname(sourceName));
  const notes: string[] = [];
  const progressEvery = options.progressEvery ?? 100_000;

  let settings: DriftSettings | null = null;
  let profile: ReferenceProfile | null = null;
  let driftAccumulators: FeatureDriftAccumulator[] = [];
  const seed = drift?.seed ?? 42;
  if (drift && reference) {
    settings = {
      psiThreshold: drift.psiThreshold ?? 0.2,
      ksPValue: drift.ksPValue ?? 0.05,
      bins: drift.bins ?? 10,
      method: drift.method ?? 'either',
      sampleSize: drift.sampleSize ?? 100_000,
      epsilon: drift.epsilon ?? 1e-4,
      maxCategories: drift.maxCategories ?? 1000,
    };
    const names = drift.features.map((f) => (typeof f === 'string' ? f : f.name));
    const random = seededRandom(seed);
    profile = new ReferenceProfile(names, settings, random);
    for await (const item of readRows(reference)) {
      if (!item.ok) continue;
      let row = item.row;
      if (rowSchema) {
        const r = rowSchema.safeParse(row);
        if (!r.success) continue;
        row = r.data;
      }
      profile.add(row);
      if (profile.rows % 10_000 === 0) checkAbort(signal, `validateData(${dataset}) reading the reference`);
    }
    if (profile.rows === 0) throw new ValidationError(`validateData: reference ${describeDataLocation(reference.path)}: expected rows to compare against, found none valid`);
    driftAccumulators = drift.features.map((f) => {
      const name = typeof f === 'string' ? f : f.name;
      const type = typeof f === 'string' ? profile!.inferType(name) : f.type;
      return new FeatureDriftAccumulator(name, type, profile!, settings!, random);
    });
  }

  const acc = new CheckAccumulator(checks);
  let read = 0;
  let parseErrors = 0;
  let schemaErrors = 0;
  const examples: InvalidExample[] = [];
  for await (const item of readRows(source)) {
    read++;
    if (read % progressEvery === 0) options.onProgress?.({ rows: read });
    if (read % 10_000 === 0) checkAbort(signal, `validateData(${dataset})`);
    if (!item.ok) {
      parseErrors++;
      if (examples.length < EXAMPLES) examples.push({ line: item.line, kind: 'parse', messages: [item.error] });
      continue;
    }
    let row = item.row;
    if (rowSchema) {
      const r = rowSchema.safeParse(row);
      if (!r.success) {
        schemaErrors++;
        if (examples.length < EXAMPLES) examples.push({ line: item.line, kind: 'schema', messages: formatZodIssues(r.error) });
        continue;
      }
      row = r.data;
    }
    acc.add(row, item.line);
    for (const d of driftAccumulators) d.add(row);
  }
  const invalid = parseErrors + schemaErrors;
  const checkResults: CheckResult[] = acc.results({ read, invalid });
  notes.push('Checks and drift are computed over the rows that parsed and passed the row schema; invalid records are only counted.');
  if (checks.unique?.length) notes.push('Uniqueness keeps every distinct value of its columns in memory (O(distinct values)).');

  let driftReport: DriftReport | null = null;
  if (drift && reference && settings && profile) {
    const features = driftAccumulators.map((d) => d.result());
    const judged = features.filter((f) => f.psi !== null);
    const driftedFeatures = features.filter((f) => f.drifted).map((f) => f.feature);
    const driftedShare = judged.length === 0 ? 0 : driftedFeatures.length / judged.length;
    const datasetThreshold = drift.datasetShare ?? 0.5;
    const sampled = features.some((f) => f.reference.sampled || f.current.sampled);
    driftReport = {
      reference: { path: describeDataLocation(reference.path), format: reference.format, rows: profile.rows },
      features,
      driftedFeatures,
      driftedShare,
      datasetThreshold,
      drifted: judged.length > 0 && driftedShare >= datasetThreshold,
      settings: { ...settings, seed },
      sampled,
    };
    notes.push(
      sampled
        ? `KS statistics use reservoir samples of at most ${settings.sampleSize} values per feature and side (seed ${seed}), so they are estimates; PSI counts of the current batch are exact, its bins come from the reference sample's quantiles.`
        : `Every value fit within the KS sample cap of ${settings.sampleSize} per feature and side: PSI and KS figures are exact.`,
    );
    checkResults.push({
      name: 'drift',
      kind: 'drift',
      severity: drift.severity ?? 'error',
      passed: !driftReport.drifted,
      observed: driftedShare,
      expected: `drifted share < ${datasetThreshold}`,
      message: `${driftedFeatures.length} of ${judged.length} features drifted${driftedFeatures.length ? ` (${driftedFeatures.join(', ')})` : ''}; the dataset drifts at a share ≥ ${datasetThreshold}`,
    });
  }

  const failedErrors = checkResults.some((c) => !c.passed && c.severity === 'error');
  const failedWarnings = checkResults.some((c) => !c.passed && c.severity === 'warn');
  const status = failedErrors ? 'failed' : failedWarnings ? 'warned' : 'passed';
  return {
    dataset,
    source: { ...source, path: sourceName },
    status,
    passed: !failedErrors,
    rows: { read, valid: acc.rows, invalid },
    invalid: { count: invalid, parseErrors, schemaErrors, examples },
    columns: acc.nullRates(),
    checks: checkResults,
    drift: driftReport,
    notes,
  };
}
