import { toNumber, isMissing } from './checks.ts';
import { binCounts, binIndex, categoricalPsi, ksTwoSample, populationStabilityIndex, quantileEdges } from './drift.ts';
import { Reservoir } from './reservoir.ts';
import type { Row } from './rows.ts';

export type FeatureType = 'numeric' | 'categorical';
export type DriftMethod = 'psi' | 'ks' | 'either' | 'both';

export interface FeatureDrift {
  feature: string;
  type: FeatureType;
  /** Null when either side has no value for the feature. */
  psi: number | null;
  /** Numeric features only. */
  ks: { d: number; pValue: number } | null;
  drifted: boolean;
  /** Why, in words: "PSI 0.31 ≥ 0.2; KS p 0.0004 < 0.05". */
  verdict: string;
  reference: { count: number; sampled: boolean };
  current: { count: number; sampled: boolean };
  /** Numeric: the number of bins after merging tied quantile edges. Categorical: categories compared. */
  bins: number;
}

export interface DriftSettings {
  psiThreshold: number;
  ksPValue: number;
  bins: number;
  method: DriftMethod;
  sampleSize: number;
  epsilon: number;
  maxCategories: number;
}

/** Categories beyond `maxCategories` distinct values are pooled here, so an id-like column cannot exhaust memory. */
export const OTHER_CATEGORY = '\u0000other';

function categoryKey(value: unknown): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function countCategory(counts: Map<string, number>, value: unknown, cap: number): void {
  let key = categoryKey(value);
  if (!counts.has(key) && counts.size >= cap) key = OTHER_CATEGORY;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** One pass over the reference: a numeric reservoir and category counts for each feature, type decided at the end. */
export class ReferenceProfile {
  readonly numeric = new Map<string, Reservoir>();
  readonly categories = new Map<string, Map<string, number>>();
  private readonly nonNumeric = new Map<string, number>();
  rows = 0;

  constructor(readonly features: readonly string[], private readonly settings: DriftSettings, random: () => number) {
    for (const f of features) {
      this.numeric.set(f, new Reservoir(settings.sampleSize, random));
      this.categories.set(f, new Map());
      this.nonNumeric.set(f, 0);
    }
  }

  add(row: Row): void {
    this.rows++;
    for (const f of this.features) {
      const value = row[f];
      if (isMissing(value)) continue;
      const n = toNumber(value);
      if (n === undefined) this.nonNumeric.set(f, this.nonNumeric.get(f)! + 1);
      else this.numeric.get(f)!.add(n);
      countCategory(this.categories.get(f)!, value, this.settings.maxCategories);
    }
  }

  /** Numeric when every present reference value is a number (or a numeric string). */
  inferType(feature: string): FeatureType {
    return this.nonNumeric.get(feature) === 0 && this.numeric.get(feature)!.seen > 0 ? 'numeric' : 'categorical';
  }
}

/** Streams the current batch for one feature against its reference profile, then judges drift. */
export class FeatureDriftAccumulator {
  private readonly edges: number[] = [];
  private readonly binned: number[] = [];
  private readonly sample: Reservoir | null = null;
  private readonly categoryCounts = new Map<string, number>();
  private count = 0;

  constructor(
    readonly feature: string,
    readonly type: FeatureType,
    private readonly reference: ReferenceProfile,
    private readonly settings: DriftSettings,
    random: () => number,
  ) {
    if (type === 'numeric') {
      // Bins come from the reference's quantiles, so the current batch's counts can be exact while streaming.
      this.edges = quantileEdges(reference.numeric.get(feature)!.values(), settings.bins);
      this.binned = new Array<number>(this.edges.length + 1).fill(0);
      this.sample = new Reservoir(settings.sampleSize, random);
    }
  }

  add(row: Row): void {
    const value = row[this.feature];
    if (isMissing(value)) return;
    if (this.type === 'numeric') {
      const n = toNumber(value);
      // A non-numeric value in a numeric feature is the range/schema checks' business, not drift's.
      if (n === undefined) return;
      this.count++;
      this.binned[binIndex(n, this.edges)]++;
      this.sample!.add(n);
    } else {
      this.count++;
      countCategory(this.categoryCounts, value, this.settings.maxCategories);
    }
  }

  result(): FeatureDrift {
    const s = this.settings;
    if (this.type === 'categorical') {
      const ref = this.reference.categories.get(this.feature)!;
      const refCount = [...ref.values()].reduce((a, b) => a + b, 0);
      const psi = refCount && this.count ? categoricalPsi(ref, this.categoryCounts, s.epsilon) : null;
      const drifted = psi !== null && psi >= s.psiThreshold;
      return {
        feature: this.feature, type: 'categorical', psi, ks: null, drifted,
        verdict: psi === null ? 'no values to compare' : `PSI ${psi.toFixed(4)} ${drifted ? '≥' : '<'} ${s.psiThreshold}`,
        reference: { count: refCount, sampled: false }, current: { count: this.count, sampled: false },
        bins: new Set([...ref.keys(), ...this.categoryCounts.keys()]).size,
      };
    }
    const refSample = this.reference.numeric.get(this.feature)!;
    const base = {
      feature: this.feature, type: 'numeric' as const,
      reference: { count: refSample.seen, sampled: refSample.sampled }, current: { count: this.count, sampled: this.sample!.sampled },
      bins: this.edges.length + 1,
    };
    if (refSample.seen === 0 || this.count === 0) return { ...base, psi: null, ks: null, drifted: false, verdict: 'no values to compare' };
    const psi = populationStabilityIndex(binCounts(refSample.values(), this.edges), this.binned, s.epsilon);
    const { d, pValue } = ksTwoSample(refSample.values(), this.sample!.values());
    const psiDrift = psi >= s.psiThreshold;
    const ksDrift = pValue < s.ksPValue;
    const drifted =
      s.method === 'psi' ? psiDrift : s.method === 'ks' ? ksDrift : s.method === 'both' ? psiDrift && ksDrift : psiDrift || ksDrift;
    const verdict = `PSI ${psi.toFixed(4)} ${psiDrift ? '≥' : '<'} ${s.psiThreshold}; KS D ${d.toFixed(4)}, p ${pValue.toPrecision(3)} ${ksDrift ? '<' : '≥'} ${s.ksPValue} (rule: ${s.method})`;
    return { ...base, psi, ks: { d, pValue }, drifted, verdict };
  }
}
