/**
 * Version queues: where a step waits when the worker that took it from its pool queue could not run
 * it (no code for the pipeline, or another version). One per (pool, pipeline, version) that met such
 * a worker; capable workers consume it. See docs/internals.md, "Routing".
 */
export interface StepRoute {
  /** The pool queue the steps belong to (the step spec's `queue`). */
  pool: string;
  pipeline: string;
  /** A worker whose pipeline has this DAG hash may run the steps... */
  dagHash: string;
  /** ...and, for a pinned run, exactly this code version. */
  codeVersion?: string;
}

/** `<pool>~<pipeline>~<version>`: BullMQ queue names may not contain ':'; the version is 12–16 hex digits. */
export function versionQueueName(route: StepRoute): string {
  return `${route.pool}~${route.pipeline}~${route.codeVersion ?? route.dagHash}`;
}

/** The pool a queue serves: the queue itself, or the pool part of a version queue's name. */
export function poolOfQueue(queue: string): string {
  const cut = queue.indexOf('~');
  return cut < 0 ? queue : queue.slice(0, cut);
}

/** "my-etl@<version>": what a waiting step waits for, as status and metrics show it. */
export function routeLabel(route: StepRoute): string {
  return `${route.pipeline}@${routeVersion(route)}`;
}

/** The version a route asks for: the exact code version of a pinned run, else the DAG hash. */
export function routeVersion(route: StepRoute): string {
  return route.codeVersion ?? route.dagHash;
}

export function parseRoutes(hash: Record<string, string>): Array<{ queue: string; route: StepRoute }> {
  const out: Array<{ queue: string; route: StepRoute }> = [];
  for (const [queue, json] of Object.entries(hash)) {
    try {
      out.push({ queue, route: JSON.parse(json) as StepRoute });
    } catch {
      // A hand-written or truncated entry routes nothing; the others still do.
    }
  }
  return out;
}
