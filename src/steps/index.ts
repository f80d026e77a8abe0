/**
 * The step library: what a pipeline's step handlers call to do MLOps work. Named exports only;
 * `conveyor` re-exports these for pipeline files.
 */
export { runCommand, CommandFailedError, type CommandContext, type CommandResult, type RunCommandOptions } from './run-command/index.ts';
export { httpJob, type HttpJobContext, type HttpJobOptions, type HttpJobResult, type HttpRequestSpec } from './http-job/index.ts';
export { measure, type MeasureOptions, type ResourceUsage } from './resources.ts';
export {
  validateData,
  renderReportMarkdown,
  reportFigures,
  readRows,
  readCsv,
  readJsonl,
  populationStabilityIndex,
  ksTwoSample,
  type ValidateDataOptions,
  type DriftOptions,
  type DataChecks,
  type DataReport,
  type DriftReport,
  type FeatureDrift,
  type CheckResult,
  type DataSource,
  type DataFormat,
  type Row,
  type ReportFigure,
} from './data/index.ts';
export {
  classificationMetrics,
  regressionMetrics,
  binaryRocAuc,
  flattenMetrics,
  evaluateGates,
  type ClassificationInput,
  type ClassificationMetrics,
  type RegressionMetrics,
  type GateSpec,
  type GateOutcome,
  type GateResult,
  type Threshold,
  type ChallengerSpec,
} from './evaluate/index.ts';
export {
  deploy,
  DeploymentError,
  publishToDirectory,
  type DeployOptions,
  type DeployContext,
  type DeployResult,
  type DeployTarget,
  type DirectoryPublish,
  type DirectoryPublishResult,
} from './deploy/index.ts';
