import type { StepCode } from '../dsl/pipeline.ts';
import type { ParkedState, RunInfo, StepServices } from '../dsl/context.ts';
import type { UpstreamStatus } from '../dsl/trigger-rules.ts';
import type { IsolatedInvocation } from './isolated-step.ts';
import { parkStep } from './park-signal.ts';
import type { BufferedStepLogger } from './step-logger.ts';
import type { AttemptAbort } from './attempt-abort.ts';

/** What one attempt of a step is given: the inputs its handler sees, in-process or in a child. */
export interface AttemptInputs {
  pipelineId: string;
  step: string;
  attempt: number;
  run: RunInfo;
  params: Record<string, unknown>;
  upstream: Record<string, unknown>;
  upstreamStatus: Record<string, UpstreamStatus>;
  parked: ParkedState | undefined;
  item?: { value: unknown; index: number };
}

/**
 * The handler's call, as `runStep` wants it: `invoke` for an in-process attempt, or the request of an
 * isolated one. Services are built on first use: most steps touch none of them, and building a
 * registry client for every no-op step was measurable per-step cost.
 */
export function attemptCall(a: AttemptInputs, code: StepCode, log: BufferedStepLogger, services: () => StepServices, isolatedFile: string | undefined) {
  const invoke = (abort: AttemptAbort) => {
    const ctx = {
      params: a.params, upstream: a.upstream, upstreamStatus: a.upstreamStatus, run: a.run, step: a.step, attempt: a.attempt, log,
      // Made when the handler first reads it (see AttemptAbort).
      get signal() { return abort.signal; },
      park: parkStep, parked: a.parked,
      get secrets() { return services().secrets; },
      get registry() { return services().registry; },
      get monitor() { return services().monitor; },
      get events() { return services().events; },
      get artifacts() { return services().artifacts; },
    };
    return a.item ? code.handler(ctx, a.item.value, a.item.index) : code.handler(ctx);
  };
  const isolated = (): IsolatedInvocation => ({
    file: isolatedFile,
    log,
    request: {
      pipelineId: a.pipelineId, stepName: a.item ? a.step.replace(/\[\d+\]$/, '') : a.step, step: a.step,
      attempt: a.attempt, params: a.params, upstream: a.upstream, upstreamStatus: a.upstreamStatus, run: a.run, parked: a.parked,
      secrets: { ...services().secrets }, item: a.item,
    },
  });
  return { invoke, isolated };
}
