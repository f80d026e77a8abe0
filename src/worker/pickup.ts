import type { Clock } from '../core/clock.ts';
import type { ConsumedJob } from '../engine/worker-backend.ts';
import { stepSpecMap, type DagSnapshot } from '../engine/snapshot.ts';
import type { StepLifecycle } from '../engine/step-lifecycle.ts';
import { PICKUP_STEP } from '../domain/step-job.ts';
import { poolOfQueue } from '../domain/step-routes.ts';
import type { Capabilities } from './capabilities.ts';
import type { Delivery } from './delivery.ts';
import { eagerDelivery } from './eager.ts';
import type { WorkerEvent } from './events.ts';
import type { RunFieldsCache } from './run-fields-cache.ts';

export interface PickupDeps {
  workerId: string;
  lifecycle: StepLifecycle;
  capabilities: Capabilities;
  runFields: RunFieldsCache;
  clock: Clock;
  onEvent?: (event: WorkerEvent) => void;
}

/**
 * A pickup job of a run's fan-out list (docs/internals.md, "Fan-out lists"): claims the list's next
 * step for this worker and returns it as the first delivery of a chain of claims, which the caller
 * works through as it does a completion's. Undefined when there is nothing to run here: the list
 * holds no step this worker may claim, or this worker lacks the run's code, in which case the pickup
 * is routed, as a step's job is, to the version queue that capable workers consume.
 */
export async function claimFromPickup(o: PickupDeps, job: ConsumedJob, snapshot: DagSnapshot): Promise<Delivery | undefined> {
  const { r: runId, p: pipelineId } = job.data;
  // Taken from the pool's queue or from a version queue of that pool ("<pool>~<pipeline>~<version>").
  const pool = poolOfQueue(job.queue);
  const missing = o.capabilities.missing(job.data, pool, snapshot.hash);
  if (missing) {
    await o.lifecycle.routePickup({ runId, snapshot, route: missing });
    return undefined;
  }
  const fixed = o.runFields.get(runId);
  const specs = stepSpecMap(snapshot);
  const claimed = await o.lifecycle.pickup({
    runId, pool, worker: o.workerId, codeVersion: o.capabilities.codeVersion(pipelineId), withFixed: !fixed,
    needsOf: (step) => specs.get(step)?.needs ?? [],
  });
  if (!claimed) return undefined;
  o.onEvent?.({ type: 'step-claimed', runId, pipeline: pipelineId, step: claimed.step, after: PICKUP_STEP });
  return eagerDelivery({ job, snapshot }, claimed, fixed, o.clock.now());
}
