export { definePipeline, isPipeline, Pipeline, type StepOptions, type MapOptions, type PartialMapOptions, type StepHandler, type MapHandler, type StepCode } from './pipeline.ts';
export { parseParams, paramsJsonSchema, MAX_PARAMS_BYTES } from './params.ts';
export type { StepContext, ConditionContext, UpstreamStatusOf, RunInfo, TriggerInfo, StepLogger, StepServices, ParkedState, StepRegistryApi, StepMonitorApi, StepEvents, StepArtifacts } from './context.ts';
export type { PipelineSpec, StepSpec, RunWhen, BackoffPolicy, StepPolicy, ScheduleSpec, TriggerSpec, CatchupPolicy, OverlapPolicy, PipelineOptions } from './types.ts';
export { DEFAULT_POLICY } from './types.ts';
export { scheduleSchema, triggerSchema, nameSchema } from './options-schema.ts';
export { TRIGGER_RULES, RUN_WHEN_ALIASES, type TriggerRule, type UpstreamStatus, type SkipKind, type RunOutcomeRule } from './trigger-rules.ts';
export type { MinSuccess, PartialMapOutput, FailedMapItem } from './map-partial.ts';
