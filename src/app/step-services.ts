import type { RunInfo, StepServices } from '../dsl/context.ts';
import { createStepRegistryClient } from '../registry/step-client.ts';
import type { Runtime } from './runtime.ts';

/**
 * What a step gets beyond its inputs: a registry client that records lineage (run, step, DAG hash)
 * and the actor on everything it registers or promotes.
 */
export function stepServices(runtime: Runtime): (run: RunInfo, step: string) => StepServices {
  return (run, step) => ({
    secrets: {},
    registry: createStepRegistryClient(runtime.registry, { runId: run.id, step, dagHash: run.dagHash }),
    monitor: {},
  });
}
