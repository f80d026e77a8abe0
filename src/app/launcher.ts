import type { Pipeline } from '../dsl/pipeline.ts';
import type { LaunchRequest, LaunchResult, RunLauncher } from '../scheduler/launcher.ts';
import type { Runtime } from './runtime.ts';

/** The engine as the scheduler and backfill see it: idempotent per run id. */
export function engineLauncher(runtime: Runtime): RunLauncher {
  return {
    trigger(pipeline: Pipeline<any, any>, request: LaunchRequest): Promise<LaunchResult> {
      return runtime.engine.trigger(pipeline, {
        runId: request.runId,
        params: request.params,
        trigger: request.trigger,
        logicalTime: request.logicalTime,
      });
    },
    async runStatus(runId: string): Promise<string | undefined> {
      return (await runtime.store.getRun(runId))?.status;
    },
  };
}
