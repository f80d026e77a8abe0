export { readCsv, type CsvReadOptions } from './csv-reader.ts';
export { readJsonl } from './jsonl-reader.ts';
export { readRows } from './read-rows.ts';
export { type DataFormat, type DataSource, type ReadItem, type Row } from './rows.ts';
export { type CheckKind, type CheckResult, type DataChecks, type Severity } from './checks.ts';
export {
  quantile,
  quantileEdges,
  binCounts,
  populationStabilityIndex,
  categoricalPsi,
  ksStatistic,
  kolmogorovSurvival,
  ksTwoSample,
  type KsResult,
} from './drift.ts';
export { type DriftMethod, type FeatureDrift, type FeatureType } from './feature-drift.ts';
export { seededRandom, Reservoir } from './reservoir.ts';
export {
  renderReportMarkdown,
  reportFigures,
  type DataReport,
  type DriftReport,
  type FigureMetric,
  type InvalidExample,
  type ReportFigure,
} from './report.ts';
export { validateData, type DriftOptions, type ValidateDataOptions } from './validate-data.ts';
