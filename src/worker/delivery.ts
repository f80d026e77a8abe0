import type { RunFixedFields } from '../domain/run-state.ts';
import type { DagSnapshot } from '../engine/snapshot.ts';
import type { ConsumedJob, StartResult } from '../engine/worker-backend.ts';

/**
 * One delivery of a step, as far as it got: `token` once the step was started here. A step claimed
 * eagerly by the previous completion (`claimed`) has no job of its own: `job` describes it as its
 * first job would, and `next` is the step this delivery's completion claimed in turn.
 */
export interface Delivery {
  job: ConsumedJob;
  token?: string;
  startedAt: number;
  claimed?: { started: Extract<StartResult, { ok: true }>; fixed: RunFixedFields | undefined };
  snapshot?: DagSnapshot;
  next?: Delivery;
  /** Claimed steps this slot ran in a row before this one (0 for a job's own step): see CHAIN_YIELD. */
  chain?: number;
}
