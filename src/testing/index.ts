/**
 * `conveyor/testing`: run a pipeline in-process, with the engine's semantics, in unit tests.
 * A test kit, not a production executor (see docs/authoring.md).
 */
export { testPipeline, backoffMs, type TestPipelineOptions, type TestRunResult, type TestStepResult, type TestStepError, type StepStub } from './test-pipeline.ts';
export { DagState, type StepLetter, type CompletionResult } from './dag-state.ts';
export type { LogEntry } from '../domain/run-state.ts';
