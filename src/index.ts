/**
 * Conveyor's public API: what pipeline files and embedding applications import from 'conveyor-mlops'.
 * Named exports only; internals stay behind their modules.
 */
export { definePipeline, isPipeline, Pipeline, parseParams, paramsJsonSchema, MAX_PARAMS_BYTES } from './dsl/index.ts';
export type {
  StepContext, ConditionContext, RunInfo, TriggerInfo, StepLogger, StepOptions, MapOptions, StepHandler, MapHandler,
  PipelineSpec, StepSpec, RunWhen, BackoffPolicy, StepPolicy, ScheduleSpec, TriggerSpec, CatchupPolicy, OverlapPolicy,
  PartialMapOptions, UpstreamStatusOf, TriggerRule, UpstreamStatus, SkipKind, RunOutcomeRule, MinSuccess, PartialMapOutput, FailedMapItem,
} from './dsl/index.ts';
export { TRIGGER_RULES, RUN_WHEN_ALIASES } from './dsl/index.ts';
export {
  ConveyorError, ValidationError, CycleError, NotFoundError, ConflictError, TimeoutError, CancelledError,
  NonRetriableError, RedisUnavailableError, ConfigError, OutputTooLargeError, isConveyorError,
  type ErrorCode,
} from './errors/index.ts';
export { loadConfig, ENV_NAMES, type Config } from './config/index.ts';
export { validateDag, renderDag, type ValidatedDag, type GraphFormat } from './graph/index.ts';
export { createRuntime, startWorkerHost, loadPipelines, type Runtime, type WorkerHost, type RunView, type StepView } from './app/index.ts';
export {
  runCommand, httpJob, measure, CommandFailedError, validateData, renderReportMarkdown, reportFigures, readRows,
  classificationMetrics, regressionMetrics, flattenMetrics, evaluateGates, readCsv, readJsonl, deploy, publishToDirectory, DeploymentError,
  type RunCommandOptions, type CommandResult, type HttpJobOptions, type HttpJobResult, type ResourceUsage,
  type ValidateDataOptions, type DriftOptions, type DataChecks, type DataReport, type DataSource,
  type ClassificationMetrics, type RegressionMetrics, type GateSpec, type GateOutcome, type DeployOptions, type DeployResult, type DeployTarget,
} from './steps/index.ts';
