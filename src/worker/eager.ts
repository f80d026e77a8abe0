import { jobIdFor } from '../engine/engine.ts';
import { parseInstanceName, stepSpecMap, successorsOf, type DagSnapshot } from '../engine/snapshot.ts';
import type { EagerOffer } from '../engine/step-lifecycle.ts';
import type { ClaimedStep } from '../engine/worker-backend.ts';
import type { RunFixedFields } from '../domain/run-state.ts';
import type { Capabilities } from './capabilities.ts';
import type { Delivery } from './delivery.ts';

/**
 * Eager dispatch, the worker's side (docs/internals.md, "Eager hand-off"): which successors of a
 * finishing step this worker offers to run next, and the delivery of the step its completion (or a
 * pickup job of a fan-out list) claimed.
 * A worker offers a successor only where it would take that successor's job, in the slot's own pool:
 * the run's pipeline at the run's DAG hash and (pinned runs) code version — the routing rules of
 * Capabilities.
 * Map steps and map instances are never claimed (their expansion and collection stay on the queue),
 * nor is a join of more than EAGER_MAX_NEEDS steps: the offer carries each step's needs (the run's
 * definitions hold only counts), and a wide join would send that list with every upstream completion
 * for one claim at the end.
 */
export const EAGER_MAX_NEEDS = 32;

/**
 * A slot that ran this many claimed steps in a row claims no more: the steps it would have taken go
 * through the queue (a fan-out list gets a pickup job at the queue's tail), so one run's long chain
 * or fan-out takes turns with the jobs of other runs waiting in the same queue.
 */
export const CHAIN_YIELD = 100;

/** What the completion of `d`'s step, in `pool` (the slot's), offers to claim for this worker. */
export function eagerOffer(d: Delivery, snapshot: DagSnapshot, pool: string, capabilities: Capabilities, worker: string, fixed: RunFixedFields | undefined): EagerOffer {
  const { s: step, p: pipeline, h, c } = d.job.data;
  const specs = stepSpecMap(snapshot);
  // Only successors in the slot's own pool: a claimed step runs in this slot, and a pool's
  // concurrency (its GPUs, say) must hold. With none to offer, the offer still takes the next step
  // of the pool's fan-out list.
  const steps = parseInstanceName(step)
    ? []
    : successorsOf(snapshot, step)
      .filter((s) => s.queue === pool && s.kind !== 'map' && s.needs.length <= EAGER_MAX_NEEDS
        && capabilities.canServe({ pool: s.queue, pipeline, dagHash: h ?? snapshot.hash, ...(c ? { codeVersion: c } : {}) }))
      .map((s) => s.name);
  return {
    steps, worker, codeVersion: capabilities.codeVersion(pipeline), withFixed: !fixed,
    needsOf: (name) => specs.get(name)?.needs ?? [],
  };
}

/**
 * The delivery of a step the completion of `prev` claimed: described as its first job would be
 * (same id, queue, attempts and backoff), so timeouts, retries, cancel and metrics treat it alike.
 */
export function eagerDelivery(prev: Pick<Delivery, 'job' | 'snapshot' | 'chain'>, claimed: ClaimedStep, fixed: RunFixedFields | undefined, now: number): Delivery {
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
    chain: (prev.chain ?? 0) + 1,
  };
}
