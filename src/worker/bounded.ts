/** Waits that cannot hold a shutting-down worker past its deadline. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Waits for `promise` until `deadline` at most (failures ignored: this is for shutdown, where we leave anyway). */
export const until = (promise: Promise<unknown>, deadline: number) =>
  Promise.race([promise.catch(() => {}), sleep(Math.max(0, deadline - Date.now()))]);

/**
 * How long a shutdown may take after the drain timeout (hand-backs, cleanup). The process owner adds
 * its own bounded cleanup; both fit in the 5 s that deployments add to the drain timeout.
 */
export const SHUTDOWN_GRACE_MS = 2_500;
