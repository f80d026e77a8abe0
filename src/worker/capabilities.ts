import type { Pipeline } from '../dsl/pipeline.ts';
import { codeVersionOf } from '../dsl/code-version.ts';
import type { StepJobData, StepRoute } from '../engine/worker-backend.ts';

export interface ServedPipeline {
  id: string;
  /** DAG hash. */
  hash: string;
  /** Code version ('' when the pipeline was not loaded from a file). */
  code: string;
}

/**
 * What this worker can run: the pipelines it loaded, each at one DAG hash and code version, on the
 * pool queues it serves. Answered in memory from what each job carries, so the common case — the
 * worker has the code — costs no round trip.
 */
export class Capabilities {
  private readonly served: Map<string, ServedPipeline>;

  constructor(
    pipelines: Pipeline<any, any>[],
    hashOf: (pipeline: Pipeline<any, any>) => string,
    private readonly pools: readonly string[],
  ) {
    this.served = new Map(pipelines.map((p) => [p.id, { id: p.id, hash: hashOf(p), code: codeVersionOf(p) ?? '' }]));
  }

  list(): ServedPipeline[] {
    return [...this.served.values()];
  }

  codeVersion(pipelineId: string): string {
    return this.served.get(pipelineId)?.code ?? '';
  }

  /**
   * Undefined when this worker can run the job's step; otherwise the route (version queue) where the
   * step must wait for a worker that can. `dagHash` is the run's, for jobs queued without one.
   */
  missing(job: StepJobData, pool: string, dagHash: string): StepRoute | undefined {
    const need: StepRoute = { pool, pipeline: job.p, dagHash: job.h ?? dagHash, ...(job.c ? { codeVersion: job.c } : {}) };
    return this.canServe(need) ? undefined : need;
  }

  /** True when every step routed to `route` can run here (and this worker serves its pool). */
  canServe(route: StepRoute): boolean {
    const local = this.served.get(route.pipeline);
    if (!local || !this.pools.includes(route.pool) || local.hash !== route.dagHash) return false;
    return !route.codeVersion || route.codeVersion === local.code;
  }
}
