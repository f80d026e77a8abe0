import { jobIdFor } from '../engine/engine.ts';
import { parseInstanceName, stepSpecMap, successorsOf, type DagSnapshot } from '../engine/snapshot.ts';
import type { EagerOffer } from '../engine/step-lifecycle.ts';
import type { ClaimedStep } from '../engine/worker-backend.ts';
import type { RunFixedFields } from '../domain/run-state.ts';
import type { Capabilities } from './capabilities.ts';
import type { Delivery } from './step-jobs.ts';

/**
 * Eager dispatch, the worker's side (docs/internals.md, "Eager hand-off"): which successors of a
 * finishing step this worker offers to run next, and the delivery of the one its completion claimed.
 * A worker offers a successor only where it would take that successor's job: the same pool, the run's
 * pipeline at the run's DAG hash and (pinned runs) code version — the routing rules of Capabilities.
 * Map steps and map instances are never claimed (their expansion and collection stay on the queue),
 * nor is a join of more than EAGER_MAX_NEEDS steps: the offer carries each step's needs (the run's
 * definitions hold only counts), and a wide join would send that list with every upstream completion
 * for one claim at the end.
 */
export const EAGER_MAX_NEEDS = 32;

export function eagerOffer(d: Delivery, snapshot: DagSnapshot, capabilities: Capabilities, worker: string, fixed: RunFixedFields | undefined): EagerOffer | undefined {
  const { s: step, p: pipeline, h, c } = d.job.data;
  if (parseInstanceName(step)) return undefined;
  const steps = successorsOf(snapshot, step)
    .filter((s) => s.kind !== 'map' && s.needs.length <= EAGER_MAX_NEEDS && capabilities.canServe({ pool: s.queue, pipeline, dagHash: h ?? snapshot.hash, ...(c ? { codeVersion: c } : {}) }))
    .map((s) => s.name);
  if (steps.length === 0) return undefined;
  const specs = stepSpecMap(snapshot);
  return { steps, worker, codeVersion: capabilities.codeVersion(pipeline), withFixed: !fixed, needsOf: (name) => specs.get(name)?.needs ?? [] };
}

/**
 * The delivery of a step the completion of `prev` claimed: described as its first job would be
 * (same id, queue, attempts and backoff), so timeouts, retries, cancel and metrics treat it alike.
 */
export function eagerDelivery(prev: Delivery, claimed: ClaimedStep, fixed: RunFixedFields | undefined, now: number): Delivery {
  const snapshot = prev.snapshot!;
  const spec = stepSpecMap(snapshot).get(claimed.step)!;
  const { r: runId, p, h, c } = prev.job.data;
  return {
    job: {
      id: jobIdFor(runId, claimed.step, claimed.generation),
      queue: spec.queue,
      data: { r: runId, s: claimed.step, p, ...(h ? { h } : {}), ...(c ? { c } : {}) },
      attempt: 1,
      maxAttempts: spec.retries + 1,
      nextBackoffMs: spec.backoff.delayMs,
      readyAt: now,
    },
    token: claimed.token,
    startedAt: now,
    claimed: { started: claimed.started, fixed },
  };
}
