import { RunArtifacts } from './run-artifacts.ts';
import type { Redis } from 'ioredis';
import { decodeHandOff } from '../core/hand-off.ts';
import type { KeySpace } from './keys.ts';
import { scriptReason, withScripts, type ScriptName } from './scripts.ts';
import type { ScriptClient } from './lua-scripts.ts';
import { isFinalBucket, RunIndexes, throwFirstError, type IndexedRun } from './run-indexes.ts';
import { DagStore } from './dag-store.ts';
// Types only from run-schema.ts: its zod schemas are for tests and checks, and building them costs
// every one-shot CLI command start-up time.
import type { NewRunFields } from './run-schema.ts';
import { parseStepInfo } from './step-info-codec.ts';
import { OUTBOX_OWED } from '../domain/run-state.ts';
import { decodeRunRecord, decodeStepState } from './run-records.ts';
import {
  upstreamStatusFromLetter, type LogEntry, type RunRecord, type RunStatus, type StepState, type UpstreamStatus,
} from '../domain/run-state.ts';

export type {
  ClaimedStep, CompleteOptions, CompleteResult, EagerClaimRequest, NewRun, StartResult, StepJobLocation, StepOutcome,
} from './run-store-types.ts';
import type { ClaimedStep, CompleteOptions, CompleteResult, EagerClaimRequest, NewRun, StartResult, StepJobLocation, StepOutcome } from './run-store-types.ts';

/**
 * Run state in Redis: every write that must be atomic is one Lua script on the run's keys (one hash
 * tag); global indexes (lists, active set) are separate commands, written before the run so the
 * reconciler can always find a run that exists.
 */
/** 1: done. A code the script lists: false (a stale or finished delivery, for the caller to drop). Any other code throws. */
function acknowledged(script: 'stepRetry' | 'stepWait', reply: number, context: { runId: string; step: string; action: string }): boolean {
  if (reply === 1) return true;
  scriptReason(script, reply, context);
  return false;
}

export class RunStore extends RunIndexes {
  private readonly scripts: ScriptClient<ScriptName>;
  private readonly dags: DagStore;
  /** Files the run's steps keep (ctx.artifacts), stored with the run's keys. */
  readonly artifacts: RunArtifacts;

  constructor(redis: Redis, keys: KeySpace) {
    super(redis, keys);
    this.scripts = withScripts(redis);
    this.dags = new DagStore(redis, keys);
    this.artifacts = new RunArtifacts(redis, keys);
  }

  async createRun(run: NewRun): Promise<{ created: boolean; roots: string[] }> {
    const k = this.keys.run(run.id);
    await this.redis
      .multi()
      .zadd(this.keys.runsIndex, run.createdAt, run.id)
      .zadd(this.keys.runIdsLex, 0, run.id)
      .zadd(this.keys.pipelineRuns(run.pipeline), run.createdAt, run.id)
      .zadd(this.keys.activeRuns, run.createdAt, run.id)
      .hset(this.keys.runPipelines, run.id, run.pipeline)
      .zadd(this.keys.runStatusRuns('active'), run.createdAt, run.id)
      .zadd(this.keys.runStatusRuns('active', run.pipeline), run.createdAt, run.id)
      .set(this.keys.marker, String(run.createdAt), 'NX')
      .exec()
      .then(throwFirstError);
    const dagHash = run.fields.dagHash;
    const newUser = await this.dags.retain(dagHash, run.id, run.dagJson);
    const reply = (await this.scripts.runTrigger(
      k.run, k.def, k.status, k.pending,
      JSON.stringify(run.fields), JSON.stringify(run.steps), this.keys.eventsChannel,
    )) as Array<string | number>;
    if (reply[0] === 0) {
      // A repeat: if the existing run has finished (its keys expire), it is no user of the snapshot.
      const remainingMs = newUser ? await this.redis.pttl(k.run) : -1;
      if (remainingMs > 0) await this.dags.release(dagHash, run.id, remainingMs);
      return { created: false, roots: [] };
    }
    return { created: true, roots: reply.slice(1).map(String) };
  }

  async startStep(
    runId: string, step: string, token: string, worker: string, attempt: number, needs: readonly string[], now: number,
    options: { isMapItem?: boolean; withFixed?: boolean; codeVersion?: string } = {},
  ): Promise<StartResult> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepStart(
      k.run, k.status, k.info, k.output, k.items,
      step, token, worker, now, attempt, this.keys.eventsChannel, options.isMapItem ? '1' : '0', runId, options.withFixed ? '1' : '0',
      options.codeVersion ?? '', ...needs,
    )) as number | string[];
    if (typeof reply === 'number') return { ok: false, reason: scriptReason('stepStart', reply, { runId, step, action: 'start' }) };
    const [, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed, parked, item, ...outs] = reply;
    return this.started(runId, needs, { runStatus, fixed: [pipeline, params, trigger, logicalTime, dagHash], failed, outs, withFixed: options.withFixed }, {
      parked: parked ? JSON.parse(parked) : undefined,
      item: options.isMapItem ? decodeHandOff(item) : undefined,
    });
  }

  /** What a started attempt's handler needs, from step-start's reply or an eager claim's. */
  private async started(
    runId: string, needs: readonly string[],
    r: { runStatus: string; fixed: string[]; failed: string; outs: string[]; withFixed?: boolean },
    extra: { parked: { state: unknown; count: number; since: number } | undefined; item: unknown },
  ): Promise<Extract<StartResult, { ok: true }>> {
    const [pipeline, params, trigger, logicalTime, dagHash] = r.fixed;
    const upstream: Record<string, unknown> = {};
    needs.forEach((need, i) => {
      upstream[need] = r.outs[i] ? decodeHandOff(r.outs[i]) : undefined;
    });
    return {
      upstreamStatus: await this.upstreamStatus(runId, needs, r.outs),
      ok: true,
      runStatus: r.runStatus as RunStatus,
      fixed: r.withFixed
        ? { pipeline, params: JSON.parse(params || '{}'), trigger: JSON.parse(trigger || '{}'), logicalTime, dagHash }
        : undefined,
      failedSoFar: Number(r.failed),
      ...extra,
      upstream,
    };
  }

  /**
   * Only a succeeded step has an output: when every need has one (the common case) no read is needed;
   * otherwise one HMGET of their status letters tells failed from skipped from not finished.
   */
  private async upstreamStatus(runId: string, needs: readonly string[], outs: string[]): Promise<Record<string, UpstreamStatus>> {
    const missing = needs.filter((_, i) => !outs[i]);
    const letters = missing.length ? await this.redis.hmget(this.keys.run(runId).status, ...missing) : [];
    const status: Record<string, UpstreamStatus> = {};
    let m = 0;
    needs.forEach((need, i) => {
      status[need] = outs[i] ? 'succeeded' : upstreamStatusFromLetter(letters[m++]);
    });
    return status;
  }

  async completeStep(runId: string, step: string, token: string, outcome: StepOutcome, payload: string, now: number, options: CompleteOptions = {}): Promise<CompleteResult> {
    return (await this.completeStepWithGeneration(runId, step, token, outcome, payload, now, options)).result;
  }

  /**
   * completeStep plus the run's generation (which the ready steps' job ids include), read inside the
   * same script: the worker needs no extra read of the run record per completion.
   */
  async completeStepWithGeneration(
    runId: string, step: string, token: string, outcome: StepOutcome, payload: string, now: number, options: CompleteOptions = {},
  ): Promise<{ result: CompleteResult; generation: number }> {
    const k = this.keys.run(runId);
    const { claim } = options;
    const claimArgs = claim
      ? [claim.steps.join(','), claim.token, claim.worker, claim.leaseDeadline, claim.codeVersion,
        claim.withFixed ? '1' : '0', ...claim.steps.map((s) => claim.needsOf(s).join(','))]
      : [];
    const reply = (await this.scripts.stepComplete(
      k.run, k.def, k.status, k.pending, k.bad, k.condSkip, k.output, k.info, k.items, this.keys.fanOutList(runId, options.pool ?? ''), k.leases,
      step, token, outcome, payload, now, this.keys.eventsChannel, options.force ? '1' : '0', options.resources ? JSON.stringify(options.resources) : '',
      ...claimArgs,
    )) as number | Array<string | number>;
    if (typeof reply === 'number') return { result: { ok: false, reason: scriptReason('stepComplete', reply, { runId, step, action: 'complete' }) }, generation: 0 };
    const generation = Number(reply[2]);
    const final = String(reply[1]);
    const listed = Number(reply[3]);
    const readyCount = Number(reply[4]);
    const ready = reply.slice(5, 5 + readyCount).map(String);
    const result: CompleteResult = { ok: true, finalStatus: final ? (final as RunStatus) : undefined, ready, listed };
    if (reply[0] === 2 && claim) result.claimed = await this.claimed(runId, claim, generation, reply.slice(5 + readyCount).map(String));
    return { result, generation };
  }

  /** The step a completion or a pickup claimed, from the claim part of its reply (includes/eager-claim.lua). */
  private async claimed(runId: string, claim: Pick<EagerClaimRequest, 'token' | 'withFixed' | 'needsOf'>, generation: number, part: string[]): Promise<ClaimedStep> {
    const [step, runStatus, pipeline, params, trigger, logicalTime, dagHash, failed, ...outs] = part;
    const started = await this.started(runId, claim.needsOf(step), { runStatus, fixed: [pipeline, params, trigger, logicalTime, dagHash], failed, outs, withFixed: claim.withFixed }, {
      parked: undefined, item: undefined,
    });
    return { step, token: claim.token, generation, started };
  }

  /**
   * A pickup job of the run's fan-out list in `pool` was delivered: claims the list's next step for
   * this worker (step-pickup.lua). Undefined when the list holds none it may claim.
   */
  async pickup(runId: string, pool: string, claim: Omit<EagerClaimRequest, 'steps'>, now: number): Promise<ClaimedStep | undefined> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepPickup(
      k.run, k.status, k.output, k.info, this.keys.fanOutList(runId, pool), k.leases,
      claim.token, claim.worker, claim.leaseDeadline, claim.codeVersion, claim.withFixed ? '1' : '0', now, this.keys.eventsChannel,
    )) as Array<string | number>;
    if (reply[0] !== 2) return undefined;
    return this.claimed(runId, claim, Number(reply[1]), reply.slice(2).map(String));
  }

  /**
   * Renews the lease of an eagerly claimed step (step-lease.lua). False when this delivery no longer
   * holds the step (another took over, the run was cancelled or the step ended): stop its handler.
   */
  async renewLease(runId: string, step: string, token: string, deadline: number): Promise<boolean> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepLease(k.status, k.info, k.leases, step, token, deadline)) as number;
    if (reply === 1) return true;
    scriptReason('stepLease', reply, { runId, step, action: 'renew the lease' });
    return false;
  }

  /** Records a failed attempt that the queue will retry. Returns false when this delivery is stale. */
  async recordRetry(runId: string, step: string, token: string, errorJson: string, now: number, retryAt: number): Promise<boolean> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepRetry(k.status, k.info, k.run, step, token, errorJson, now, retryAt, this.keys.eventsChannel)) as number;
    return acknowledged('stepRetry', reply, { runId, step, action: 'record a retry' });
  }

  /**
   * Hands a running step back without counting an attempt (see step-retry.lua, mode 'h'). Returns
   * false when this delivery is stale or the step is no longer running.
   */
  async handBack(runId: string, step: string, token: string, why: string, now: number): Promise<boolean> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepRetry(k.status, k.info, k.run, step, token, why, now, 0, this.keys.eventsChannel, 'h')) as number;
    return acknowledged('stepRetry', reply, { runId, step, action: 'hand back' });
  }

  /**
   * Records that a queued step waits for a worker with its code, in version queue `queue` under
   * `jobId` (see step-wait.lua). False when the step is no longer queued (drop the job).
   */
  async markWaiting(runId: string, step: string, a: { waitingFor: string; queue: string; jobId: string; now: number; timeoutMs: number }): Promise<boolean> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepWait(k.status, k.info, k.run, step, a.waitingFor, a.now, a.queue, a.jobId, a.timeoutMs, this.keys.eventsChannel)) as number;
    return acknowledged('stepWait', reply, { runId, step, action: 'record a wait' });
  }

  /**
   * Expands a running map step into instances (see step-map-expand.lua). Returns the instances now
   * queued, or `allDone` with the collected outputs when every instance had already succeeded.
   */
  async expandMap(
    runId: string, step: string, token: string, itemsJson: string[], options: { maxParallel: number; now: number; minSuccess?: number },
  ): Promise<{ ok: true; ready: string[] } | { ok: true; allDone: string } | { ok: false }> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepMapExpand(
      k.run, k.def, k.status, k.pending, k.info, k.items, k.output,
      step, token, options.now, this.keys.eventsChannel, options.maxParallel, options.minSuccess ?? '', ...itemsJson,
    )) as number | Array<string | number>;
    if (typeof reply === 'number') {
      scriptReason('stepMapExpand', reply, { runId, step, action: 'expand the map' });
      return { ok: false };
    }
    if (reply[0] === 2) return { ok: true, allDone: String(reply[1]) };
    return { ok: true, ready: reply.slice(1).map(String) };
  }

  /** Parks a running step (see step-park.lua). Returns the park count, or undefined when this delivery is stale. */
  async parkStep(runId: string, step: string, token: string, stateJson: string, now: number, resumeJobId: string): Promise<number | undefined> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.stepPark(k.status, k.info, k.run, step, token, stateJson, now, resumeJobId, this.keys.eventsChannel)) as number;
    if (reply > 0) return reply;
    scriptReason('stepPark', reply, { runId, step, action: 'park' });
    return undefined;
  }

  /**
   * Where a step's job is when it is not the default `<runId>.<step>` in the step's own queue: a
   * parked step's resume job, a waiting step's job in its version queue (and the wait's deadline).
   */
  /** The steps waiting on the run's fan-out list in `pool`, oldest first (entries "<step>|<needs>"). */
  async fanOutSteps(runId: string, pool: string): Promise<string[]> {
    const entries = await this.redis.lrange(this.keys.fanOutList(runId, pool), 0, -1);
    return entries.map((entry) => entry.slice(0, entry.indexOf('|')));
  }

  /** Steps whose claim's lease deadline passed (or whose lease entry outlived its claim), at most `limit`. */
  async expiredLeases(runId: string, now: number, limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.run(runId).leases, '-inf', now, 'LIMIT', 0, limit);
  }

  /** Deletes the run's fan-out lists of these pools (one slot: the run's hash tag). */
  async dropFanOutLists(runId: string, pools: readonly string[]): Promise<void> {
    if (pools.length) await this.redis.del(...pools.map((pool) => this.keys.fanOutList(runId, pool)));
  }

  /** Forgets lease entries of claims that ended (the completion removes its own; retries and takeovers leave theirs). */
  async dropLeases(runId: string, steps: readonly string[]): Promise<void> {
    if (steps.length) await this.redis.zrem(this.keys.run(runId).leases, ...steps);
  }

  async jobLocations(runId: string, steps: string[]): Promise<Map<string, StepJobLocation>> {
    const out = new Map<string, StepJobLocation>();
    if (steps.length === 0) return out;
    const infos = await this.redis.hmget(this.keys.run(runId).info, ...steps);
    steps.forEach((step, i) => {
      const raw = infos[i];
      if (!raw) return;
      const info = parseStepInfo(raw);
      if (!info || (!info.pj && !info.wq && !info.ld)) return;
      const attemptsMade = info.a ? (info.o === 'r' ? info.a : info.a - 1) : undefined;
      out.set(step, { jobId: info.pj, queue: info.wq, waitingFor: info.wf, waitDeadline: info.wd, leaseDeadline: info.ld, attemptsMade });
    });
    return out;
  }

  async cancelRun(runId: string, by: string, now: number): Promise<string[]> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.runCancel(k.run, k.status, k.pending, k.bad, k.condSkip, now, this.keys.eventsChannel, by)) as number | string[];
    if (typeof reply === 'number') throw scriptReason('runCancel', reply, { runId, action: 'cancel' });
    await this.redis.publish(this.keys.cancelChannel, runId);
    return reply.slice(1).map(String);
  }

  /** `indexed`: the run's pipeline and creation time, to move it back to the `active` status index. */
  async retryRun(runId: string, { now, indexed }: { now: number; indexed?: IndexedRun }): Promise<{ generation: number; ready: string[] }> {
    const k = this.keys.run(runId);
    const reply = (await this.scripts.runRetry(k.run, k.def, k.status, k.pending, k.bad, k.condSkip, k.info, now, this.keys.eventsChannel)) as
      | number
      | Array<string | number>;
    if (typeof reply === 'number') throw scriptReason('runRetry', reply, { runId, action: 'retry' });
    // Running again: its keys lose the expiry the first finish gave them (the next finish sets it anew),
    // or they would expire under the retried run, leaving the counters run-retry just wrote behind.
    const persist = this.redis.pipeline();
    for (const key of this.keys.runKeyList(runId)) persist.persist(key);
    await persist.exec().then(throwFirstError);
    const multi = this.redis.multi().zrem(this.keys.finishedRuns, runId).zadd(this.keys.activeRuns, now, runId);
    if (indexed) this.moveInStatusIndexes(multi, runId, indexed, 'active');
    await multi.exec().then(throwFirstError);
    const dagHash = await this.redis.hget(k.run, 'dagHash');
    if (dagHash) await this.dags.retain(dagHash, runId);
    return { generation: Number(reply[1]), ready: reply.slice(2).map(String) };
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return decodeRunRecord(await this.redis.hgetall(this.keys.run(runId).run));
  }

  /** The code version a run started with ('' until known). */
  async runCodeVersion(runId: string): Promise<string> {
    return (await this.redis.hget(this.keys.run(runId).run, 'codeVersion')) ?? '';
  }

  async getDagJson(runId: string): Promise<string | null> {
    const k = this.keys.run(runId);
    const hash = await this.redis.hget(k.run, 'dagHash');
    return (hash ? await this.dags.get(hash) : null) ?? this.redis.get(k.dag);
  }

  /** All step states of a run, in no particular order (callers order by the DAG). */
  async getSteps(runId: string, { withOutputs = true }: { withOutputs?: boolean } = {}): Promise<StepState[]> {
    const k = this.keys.run(runId);
    // One transaction (the keys share the run's hash tag): read apart, a step that started, failed
    // and ended between two reads showed as queued with its error ("attempt 1 failed (retried)").
    const multi = this.redis.multi().hgetall(k.status).hgetall(k.info);
    if (withOutputs) multi.hgetall(k.output);
    const replies = await multi.exec();
    throwFirstError(replies);
    const [statuses, infos, outputs = {}] = (replies ?? []).map(([, value]) => value as Record<string, string>);
    return Object.entries(statuses).map(([name, letter]) => decodeStepState(name, letter, infos[name], outputs[name]));
  }

  async stepStatusLetters(runId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.run(runId).status);
  }

  /**
   * Bookkeeping once a run finished: leave the active set, enter the finished index and (given
   * `indexed`) its final status's index, expire its keys.
   */
  async markFinished(runId: string, { finishedAt, retentionMs, indexed }: { finishedAt: number; retentionMs: number; indexed?: IndexedRun & { status: RunStatus } }): Promise<boolean> {
    // The run leaves the active set (where the reconciler finds it) in the same MULTI that lists its
    // pending follow-ups in the outbox index: at every instant one of the two leads to it.
    const [outbox, dagHash] = await this.redis.hmget(this.keys.run(runId).run, 'outbox', 'dagHash');
    const owesFollowUps = outbox === OUTBOX_OWED;
    const multi = this.redis.multi().zrem(this.keys.activeRuns, runId).zadd(this.keys.finishedRuns, finishedAt, runId);
    if (owesFollowUps) multi.zadd(this.keys.outbox, finishedAt, runId);
    if (indexed && isFinalBucket(indexed.status)) this.moveInStatusIndexes(multi, runId, indexed, indexed.status);
    const results = await multi.exec();
    throwFirstError(results);
    const expire = this.redis.pipeline();
    for (const key of this.keys.runKeyList(runId)) expire.pexpire(key, retentionMs);
    await expire.exec().then(throwFirstError);
    if (dagHash) await this.dags.release(dagHash, runId, retentionMs);
    // Whether this call took the run out of the active set: the worker that ended the run and a
    // reconciler repairing the same gap may both get here, and only one of them may announce the end.
    return results?.[0]?.[1] === 1;
  }

  async getRuns(runIds: string[]): Promise<RunRecord[]> {
    if (runIds.length === 0) return [];
    // Separate commands, not one pipeline: on Redis Cluster the runs live on different nodes, and an
    // ioredis pipeline must stay within one slot group. ioredis still sends them back to back.
    const hashes = await Promise.all(runIds.map((id) => this.redis.hgetall(this.keys.run(id).run)));
    return hashes.map((hash) => decodeRunRecord(hash)).filter((r): r is RunRecord => !!r);
  }

  async appendLogs(runId: string, entries: LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.rpush(this.keys.run(runId).logs, ...entries.map((e) => JSON.stringify(e)));
  }

  /** A page of a run's log lines by position (default: the first 1,000). */
  async readLogs(runId: string, page: { offset?: number; limit?: number } = {}): Promise<LogEntry[]> {
    const offset = page.offset ?? 0;
    const raw = await this.redis.lrange(this.keys.run(runId).logs, offset, offset + (page.limit ?? 1000) - 1);
    return raw.map((line) => JSON.parse(line) as LogEntry);
  }

}
