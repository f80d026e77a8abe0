/**
 * The one place that builds Redis key names. Layout (P = configured prefix):
 *
 *   P:run:{<runId>}          hash   run record (status, pipeline, params, trigger, timestamps, dag hash, counters)
 *   P:run:{<runId>}:dag      string DAG snapshot of runs created before snapshots were shared (read only)
 *   P:run:{<runId>}:def      hash   step -> "<rule letter>|<successor,successor…>|<needs…>" (what the Lua scripts walk)
 *   P:run:{<runId>}:st       hash   step -> status letter (see STEP_LETTERS in src/domain/run-state.ts)
 *   P:run:{<runId>}:pend     hash   step -> number of upstream steps not yet finished (pend, bad, cskip: deleted when the run ends)
 *   P:run:{<runId>}:bad      hash   step -> number of upstream steps that failed / were skipped by failure
 *   P:run:{<runId>}:cskip    hash   step -> number of upstream steps skipped by condition
 *   P:run:{<runId>}:out      hash   step -> output JSON
 *   P:run:{<runId>}:info     hash   step -> attempt record, JSON or compact once finished (run-schema.ts, step-info-codec.ts)
 *   P:run:{<runId>}:logs     list   structured log entries (JSON)
 *   P:run:{<runId>}:items    hash   map instance `step[i]` -> its item (JSON)
 *   P:run:{<runId>}:art      hash   artifact name -> metadata JSON (step, type, bytes, sha256)
 *   P:run:{<runId>}:artd     hash   artifact name -> its bytes
 *   P:{P-g}:runs[:p:<pipeline>][:s:<bucket>]  zset  runId -> created-at ms (list indexes, see runIndexes)
 *   P:{P-g}:runs:ids         zset   runId -> 0 (ids in byte order: search by id prefix)
 *
 *   P:dag:{<dagHash>}        string DAG snapshot (JSON), one per pipeline version, content-addressed
 *   P:dag:{<dagHash>}:users  set    unfinished runs using it; when empty the snapshot expires with them
 *
 *   P:model:{<name>}                  hash   a registered model (registry-store.ts)
 *   P:model:{<name>}:versions|aliases|audit|idem   its versions, aliases, audit log, idempotency keys
 *
 * Global indexes (under the global tag): runs, runs:p:<pipeline>, active, finished, outbox (zsets) and
 * run-pipeline (hash); `runIndexes` lists them for pruning.
 *
 * Every key of one run shares the hash tag `{<runId>}`, so each run-scoped Lua script works on Redis
 * Cluster and runs spread over the cluster's nodes. Global indexes share their own tag.
 */
/** Status buckets of the run list indexes: `active` (queued or running) and each final status. */
export const RUN_INDEX_BUCKETS = ['active', 'succeeded', 'failed', 'cancelled'] as const;
export type RunIndexBucket = (typeof RUN_INDEX_BUCKETS)[number];

export interface ModelKeys {
  model: string;
  versions: string;
  aliases: string;
  audit: string;
  idem: string;
}

export interface RunKeys {
  run: string;
  dag: string;
  def: string;
  status: string;
  pending: string;
  bad: string;
  condSkip: string;
  output: string;
  info: string;
  /** zset step -> lease deadline of a claimed step (eager dispatch); empty, hence absent, without claims. */
  leases: string;
  logs: string;
  items: string;
  artifacts: string;
  artifactData: string;
}

export class KeySpace {
  readonly prefix: string;
  /** BullMQ's prefix: all queues share one hash tag, as BullMQ requires on Cluster. */
  readonly bullPrefix: string;
  private readonly globalTag: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.bullPrefix = `${prefix}:{${prefix}-q}`;
    this.globalTag = `${prefix}:{${prefix}-g}`;
  }

  /** Keys of one model of the registry; they share the tag `{<name>}` (one slot per model). */
  model(name: string): ModelKeys {
    const base = `${this.prefix}:model:{${name}}`;
    return { model: base, versions: `${base}:versions`, aliases: `${base}:aliases`, audit: `${base}:audit`, idem: `${base}:idem` };
  }

  run(runId: string): RunKeys {
    const base = `${this.prefix}:run:{${runId}}`;
    return {
      run: base,
      dag: `${base}:dag`,
      def: `${base}:def`,
      status: `${base}:st`,
      pending: `${base}:pend`,
      bad: `${base}:bad`,
      condSkip: `${base}:cskip`,
      output: `${base}:out`,
      info: `${base}:info`,
      leases: `${base}:leases`,
      logs: `${base}:logs`,
      items: `${base}:items`,
      artifacts: `${base}:art`,
      artifactData: `${base}:artd`,
    };
  }

  /**
   * A run's fan-out list for one pool (src/redis/lua/includes/eager-claim.lua): not among the run's
   * keys, since it exists only while a fan-out is being worked through, and it expires on its own.
   */
  fanOutList(runId: string, pool: string): string {
    return `${this.prefix}:run:{${runId}}:rdy:${pool}`;
  }

  /** A pipeline version's shared DAG snapshot (see DagStore); its own hash tag, never read by run scripts. */
  dag(hash: string): { snapshot: string; users: string } {
    const base = `${this.prefix}:dag:{${hash}}`;
    return { snapshot: base, users: `${base}:users` };
  }

  /** All keys of a run, in a fixed order (to expire or delete them together). */
  runKeyList(runId: string): string[] {
    return Object.values(this.run(runId));
  }

  /** zset runId -> created-at ms: every run, newest last. */
  get runsIndex(): string {
    return `${this.globalTag}:runs`;
  }
  /** zset runId -> created-at ms, per pipeline. */
  pipelineRuns(pipelineId: string): string {
    return `${this.globalTag}:runs:p:${pipelineId}`;
  }
  /**
   * zset runId -> created-at ms of the runs in one status bucket, over all pipelines or for one.
   * `active` holds queued and running runs (the run scripts cannot touch global keys on Cluster, so
   * the finer status is read from the run record); the final statuses are exact.
   */
  runStatusRuns(bucket: RunIndexBucket, pipelineId?: string): string {
    return pipelineId === undefined ? `${this.globalTag}:runs:s:${bucket}` : `${this.globalTag}:runs:p:${pipelineId}:s:${bucket}`;
  }
  /** zset runId -> 0: every run id in byte order, so a prefix is a ZRANGEBYLEX range (run search by id prefix). */
  get runIdsLex(): string {
    return `${this.globalTag}:runs:ids`;
  }
  /** zset runId -> last-progress ms of runs not yet finished (what the reconciler looks at). */
  get activeRuns(): string {
    return `${this.globalTag}:active`;
  }
  /** zset runId -> finished-at ms (what retention trims). */
  get finishedRuns(): string {
    return `${this.globalTag}:finished`;
  }
  /** zset runId -> finished-at ms of finished runs whose follow-ups (outbox) are not delivered yet. */
  get outbox(): string {
    return `${this.globalTag}:outbox`;
  }
  /**
   * hash runId -> pipeline id, written with the index entries: what pruning needs to find a run's
   * per-pipeline indexes after the run's own hash has expired.
   */
  get runPipelines(): string {
    return `${this.globalTag}:run-pipeline`;
  }
  /**
   * Every index a run of `pipelineId` can be listed in: pruning removes the run from all of them.
   * A new run index is added here (and written where the run enters it), nowhere else.
   */
  runIndexes(pipelineId: string | undefined): string[] {
    const global = [this.runsIndex, this.runIdsLex, this.activeRuns, this.finishedRuns, this.outbox, ...RUN_INDEX_BUCKETS.map((b) => this.runStatusRuns(b))];
    return pipelineId === undefined ? global : [...global, this.pipelineRuns(pipelineId), ...RUN_INDEX_BUCKETS.map((b) => this.runStatusRuns(b, pipelineId))];
  }
  /** string: set when Conveyor first wrote to this Redis; its absence later means data was lost. */
  get marker(): string {
    return `${this.globalTag}:marker`;
  }
  /** pub/sub channel for cancellations (payload: runId). */
  get cancelChannel(): string {
    return `${this.globalTag}:cancel`;
  }
  /** pub/sub channel for run/step events (payload: `<runId>|<step>|<status>`, published by the run scripts), read by the API's live views. */
  get eventsChannel(): string {
    return `${this.globalTag}:events`;
  }
  /** hash workerId -> JSON heartbeat (queues, pipelines served, last seen). */
  get workers(): string {
    return `${this.globalTag}:workers`;
  }
  /** hash version queue name -> JSON { pool, pipeline, dagHash, codeVersion? }: where steps wait for a capable worker. */
  get routes(): string {
    return `${this.globalTag}:routes`;
  }
  /** Any other global key, under the global tag, e.g. `global('sched:claims')`. */
  global(name: string): string {
    return `${this.globalTag}:${name}`;
  }
}
