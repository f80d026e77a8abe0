import type { TestStepResult } from 'conveyor-mlops/testing';
import { encodeHandOff, handOffForDisplay } from '../../src/core/hand-off.ts';
import type { StepView } from '../../src/engine/run-view.ts';

/**
 * What the kit-vs-workers tests compare of a step: status, attempts, output, error message and skip
 * reason, as a user sees them. Shared by testing/equivalence and testing/equivalence-property.
 */
export interface Comparable {
  status: string;
  attempts: number;
  output?: unknown;
  error?: string;
  reason?: string;
  skip?: string;
}

/** A step as `testPipeline` reports it. The kit's outputs are the values handlers receive; the engine's view shows them as readable JSON. */
export function fromKit(step: TestStepResult, output: unknown): Comparable {
  return {
    status: step.status,
    attempts: step.attempts,
    ...(output !== undefined ? { output: handOffForDisplay(encodeHandOff(output)) } : {}),
    ...(step.error ? { error: step.error.message } : {}),
    ...(step.reason ? { reason: step.reason } : {}),
    ...(step.skip ? { skip: step.skip } : {}),
  };
}

/**
 * A step as the engine's run view shows it. A map instance's output is compared through its map
 * step's collected array (the kit's `outputs` holds declared steps only).
 */
export function fromEngine(step: StepView, name: string): Comparable {
  const isInstance = name.includes('[');
  return {
    status: step.status,
    attempts: step.attempts,
    ...(step.status === 'succeeded' && !isInstance ? { output: step.output } : {}),
    ...(step.error ? { error: step.error.message } : {}),
    ...(step.reason ? { reason: step.reason } : {}),
    ...(step.skip ? { skip: step.skip } : {}),
  };
}
