export { definePipeline, isPipeline, Pipeline, type StepOptions, type MapOptions, type StepHandler, type MapHandler, type StepCode } from './pipeline.ts';
export { parseParams, paramsJsonSchema, MAX_PARAMS_BYTES } from './params.ts';
export type { StepContext, ConditionContext, RunInfo, TriggerInfo, StepLogger, StepServices, ParkedState, StepRegistryApi, StepMonitorApi, StepEvents } from './context.ts';
export type { PipelineSpec, StepSpec, RunWhen, BackoffPolicy, StepPolicy, ScheduleSpec, TriggerSpec, CatchupPolicy, OverlapPolicy, PipelineOptions } from './types.ts';
export { DEFAULT_POLICY } from './types.ts';
export { scheduleSchema, triggerSchema, nameSchema } from './options-schema.ts';
