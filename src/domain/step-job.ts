/** Job payload of a step in its queue: ids only; the worker reads everything else from the run's state. */
export interface StepJobData {
  r: string; // run id
  s: string; // step name
  p: string; // pipeline id
  /** DAG hash the worker's pipeline must have (absent in jobs queued before versions existed). */
  h?: string;
  /** Exact code version required (pinned runs only). */
  c?: string;
  /**
   * Attempts the step already used before this job existed (an eagerly run step retried or handed
   * back through the queue): the job's attempt numbers and backoff continue from there.
   */
  n?: number;
}

/**
 * The step field of a pickup job: a job that runs no step of its own but claims the next step of its
 * run's fan-out list in its pool (src/redis/lua/step-pickup.lua). Step names start with a letter.
 */
export const PICKUP_STEP = '*';

export function isPickup(data: StepJobData): boolean {
  return data.s === PICKUP_STEP;
}
