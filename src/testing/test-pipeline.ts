import { createHash, randomBytes } from 'node:crypto';
import { artifactNameProblem } from '../core/artifact-name.ts';
import { setMaxListeners } from 'node:events';
import { coerceError } from '../core/coerce-error.ts';
import type { Pipeline, StepCode } from '../dsl/pipeline.ts';
import type { ParkedState, RunInfo, StepContext, StepRegistryApi } from '../dsl/context.ts';
import type { StepSpec } from '../dsl/types.ts';
import { parseParams } from '../dsl/params.ts';
import { validateDag } from '../graph/dag.ts';
import type { LogEntry } from '../domain/run-state.ts';
import { decodeHandOff } from '../core/hand-off.ts';
import { checkCollectedOutput, serialiseJson, serialiseOutput } from '../worker/output-check.ts';
import { deepFreeze } from '../worker/run-fields-cache.ts';
import { typedParams } from '../worker/typed-params.ts';
import { emptyMapOutputJson, minSuccessCount } from '../dsl/map-partial.ts';
import { BufferedStepLogger } from '../worker/step-logger.ts';
import { errorJson, runStep } from '../worker/step-runner.ts';
import { ModelRegistry } from '../registry/model-registry.ts';
import { createStepRegistryClient } from '../registry/step-client.ts';
import { parkStep } from '../worker/park-signal.ts';
import { DagState, type StepLetter, type StepOutcome } from './dag-state.ts';
import { backoffMs, maskError, naturalCompare, secretMasker, sleep } from './kit-helpers.ts';

export { backoffMs };
import type { UpstreamStatus } from '../domain/run-state.ts';

type Outputs = Record<string, unknown>;

export type { StepStub, TestPipelineOptions, TestRunResult, TestStepError, TestStepResult } from './kit-types.ts';
import type { TestPipelineOptions, TestRunResult, TestStepError, TestStepResult } from './kit-types.ts';

interface Attempted {
  outcome: StepOutcome;
  attempts: number;
  outputJson?: string;
  error?: Error;
  reason?: string;
}

/**
 * Runs a pipeline in-process with the engine's semantics — typed hand-off, `if`, `runWhen`, the skip
 * cascade of step-complete.lua, retries with backoff, timeouts through the worker's own `runStep`,
 * NonRetriableError, map fan-out — for unit tests of pipeline files. It is a test kit: no Redis, no
 * durability, no concurrency limits across runs; production runs go through workers.
 */
export async function testPipeline<P, O extends Outputs>(
  pipeline: Pipeline<P, O>,
  options: TestPipelineOptions<P, O> = {},
): Promise<TestRunResult<O>> {
  return startTestRun(pipeline, options, undefined);
}

/** What a retry starts from: the previous run's step letters and outputs (map items included). */
interface PreviousRun {
  runId: string;
  letters: Map<string, StepLetter>;
  outputs: Map<string, string>;
  steps: Record<string, TestStepResult>;
  generation: number;
}

async function startTestRun<P, O extends Outputs>(pipeline: Pipeline<P, O>, options: TestPipelineOptions<P, O>, previous: PreviousRun | undefined): Promise<TestRunResult<O>> {
  // As workers see them: stored as JSON, the schema applied again at step start, shared and deep-frozen.
  const parsed = parseParams(pipeline.paramsSchema, options.params ?? {}, pipeline.id);
  const params = deepFreeze(typedParams(pipeline.paramsSchema, JSON.parse(JSON.stringify(parsed))));
  const dag = validateDag(pipeline.spec);
  const stubs = (options.stub ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(stubs)) {
    if (!dag.spec.steps.some((s) => s.name === name)) {
      throw new Error(`testPipeline(${pipeline.id}): stub for unknown step "${name}" (steps: ${dag.spec.steps.map((s) => s.name).join(', ')})`);
    }
  }
  const kit = new TestRun(pipeline, dag.spec.steps, dag.successors, params, options, dag.hash, previous);
  return kit.run() as Promise<TestRunResult<O>>;
}

class TestRun {
  private readonly state: DagState;
  private readonly specs: Map<string, StepSpec>;
  private readonly outputs = new Map<string, string>();
  private readonly steps: Record<string, TestStepResult> = {};
  private readonly logs: LogEntry[] = [];
  private readonly events: TestRunResult<Outputs>['events'] = [];
  private readonly artifacts: TestRunResult<Outputs>['artifacts'] = {};
  private readonly cancel = new AbortController();
  private readonly runId: string;
  private readonly logicalTime: string;
  private readonly redact: (value: unknown) => unknown;

  constructor(
    private readonly pipeline: Pipeline<any, any>,
    specs: readonly StepSpec[],
    successors: ReadonlyMap<string, string[]>,
    private readonly params: Record<string, unknown>,
    private readonly options: TestPipelineOptions<any, any>,
    private readonly dagHash: string,
    private readonly previous: PreviousRun | undefined,
  ) {
    this.specs = new Map(specs.map((s) => [s.name, s]));
    const skippedByRule = new Set(Object.entries(previous?.steps ?? {}).filter(([, s]) => s.status === 'skipped' && s.skip !== undefined && s.skip !== 'condition').map(([name]) => name));
    this.state = new DagState(specs, successors, pipeline.spec.runOutcome ?? 'leaves', previous?.letters, skippedByRule);
    if (previous) {
      for (const [name, json] of previous.outputs) this.outputs.set(name, json);
      Object.assign(this.steps, previous.steps);
    }
    // Every concurrent step listens on the run's cancel signal (removed when it ends): not a leak.
    setMaxListeners(0, this.cancel.signal);
    this.runId = previous?.runId ?? options.runId ?? `test-${randomBytes(4).toString('hex')}`;
    this.logicalTime = options.logicalTime ?? new Date().toISOString();
    this.redact = secretMasker(Object.values(options.secrets ?? {}));
  }

  async run(): Promise<TestRunResult<Outputs>> {
    const finished = new Promise<'succeeded' | 'failed'>((resolve, reject) => {
      const launch = (step: string) => {
        this.state.markRunning(step);
        this.execute(step)
          .then((done) => {
            this.record(step, done);
            const next = this.state.complete(step, done.outcome, done.reason);
            for (const skip of next.skipped) {
              this.steps[skip.step] = {
                status: 'skipped', attempts: 0, reason: skip.reason, ...(skip.letter === 'x' ? { skippedByFailure: true } : {}), skip: skip.kind,
              };
            }
            if (next.final) resolve(next.final);
            else next.ready.forEach(launch);
          })
          .catch(reject);
      };
      const roots = this.state.roots();
      if (roots.length === 0) reject(new Error(`testPipeline(${this.pipeline.id}): nothing to run (a retry needs a failed run)`));
      roots.forEach(launch);
    });
    const status = await finished;
    const outputs: Outputs = {};
    for (const [name, json] of this.outputs) if (this.specs.has(name)) outputs[name] = decodeHandOff(json);
    const ordered: Record<string, TestStepResult> = {};
    for (const name of this.specs.keys()) {
      ordered[name] = this.steps[name];
      for (const item of Object.keys(this.steps).filter((n) => n.startsWith(`${name}[`)).sort(naturalCompare)) ordered[item] = this.steps[item];
    }
    const letters = new Map(this.state.status);
    const retryFrom: PreviousRun = {
      runId: this.runId, letters, outputs: new Map(this.outputs), steps: { ...this.steps }, generation: (this.previous?.generation ?? 0) + 1,
    };
    return {
      runId: this.runId, dagHash: this.dagHash, status, outputs, steps: ordered, logs: this.logs, events: this.events, artifacts: this.artifacts,
      retry: (options) => {
        if (status !== 'failed') return Promise.reject(new Error(`testPipeline(${this.pipeline.id}): only a failed run can be retried (this one ${status})`));
        return startTestRun(this.pipeline, { ...this.options, ...options }, retryFrom);
      },
    };
  }

  private record(step: string, done: Attempted): void {
    if (done.outputJson !== undefined) this.outputs.set(step, done.outputJson);
    this.steps[step] = {
      status: done.outcome === 's' ? 'succeeded' : done.outcome === 'f' ? 'failed' : 'skipped',
      attempts: done.attempts,
      ...(done.error ? { error: JSON.parse(errorJson(done.error)) as TestStepError } : {}),
      ...(done.reason ? { reason: done.reason } : {}),
      ...(done.outcome === 'k' ? { skip: 'condition' as const } : {}),
    };
  }

  /** What a step sees of its run, as the worker builds it from step-start.lua's reply. */
  private runInfo(): RunInfo {
    return {
      id: this.runId,
      pipelineId: this.pipeline.id,
      trigger: this.options.trigger ?? { type: 'manual', via: 'testPipeline' },
      status: this.state.failedSoFar > 0 ? 'failed' : 'running',
      logicalTime: this.logicalTime,
      dagHash: this.dagHash,
    };
  }

  /** What the step sees of its upstream steps: their outputs and how each stands. */
  private upstreamCtx(spec: StepSpec): { upstream: Record<string, unknown>; upstreamStatus: Record<string, UpstreamStatus> } {
    return { upstream: this.upstreamOf(spec), upstreamStatus: this.state.upstreamStatus(spec.name) };
  }

  /** Fresh copies of the needed outputs: each step gets its own, as each worker parses them from Redis. */
  private upstreamOf(spec: StepSpec): Record<string, unknown> {
    const upstream: Record<string, unknown> = {};
    for (const need of spec.needs) {
      const json = this.outputs.get(need);
      upstream[need] = json === undefined ? undefined : decodeHandOff(json);
    }
    return upstream;
  }

  private async execute(step: string): Promise<Attempted> {
    const spec = this.specs.get(step)!;
    const code = this.pipeline.stepCode(step);
    if (!code) throw new Error(`internal: pipeline "${this.pipeline.id}" has no code for step "${step}"`);
    const stubbed = Object.prototype.hasOwnProperty.call(this.options.stub ?? {}, step);
    const stub = stubbed ? (this.options.stub as Record<string, unknown>)[step] : undefined;
    if (spec.kind === 'map' && !stubbed) return this.executeMap(spec, code);
    const handler: StepCode['handler'] = stubbed ? (typeof stub === 'function' ? (stub as StepCode['handler']) : () => stub) : code.handler;
    return this.attempts(spec, step, code, (ctx) => handler(ctx));
  }

  /**
   * Attempts of one step (or map item) under its retry policy. The condition is evaluated on every
   * delivery, before the handler, as the worker does; a false condition skips, a throwing one fails
   * without retries.
   */
  private async attempts(spec: StepSpec, name: string, code: StepCode | undefined, invoke: (ctx: StepContext<any, any>) => unknown): Promise<Attempted> {
    const maxAttempts = spec.retries + 1;
    const timeoutMs = spec.timeoutMs * (this.options.timeoutScale ?? 1);
    const maxParks = this.options.maxParks ?? 1000;
    let parked: ParkedState | undefined;
    for (let attempt = 1; ; attempt++) {
      const { upstream, upstreamStatus } = this.upstreamCtx(spec);
      const run = this.runInfo();
      if (code && spec.conditional && code.condition) {
        const decided = await this.condition(code, { upstream, upstreamStatus, run });
        if (decided === false) return { outcome: 'k', attempts: attempt, reason: 'condition was false' };
        if (decided !== true) return { outcome: 'f', attempts: attempt, error: decided };
      }
      const log = new BufferedStepLogger(name, attempt, this.redact, (entry) => this.logs.push(entry));
      const resumed = parked;
      const result = await runStep({
        step: name,
        // As in the worker: a parked step's timeout bounds the whole wait, counted from its first park.
        timeoutMs: Math.max(1, Math.round(resumed ? timeoutMs - (Date.now() - resumed.since) : timeoutMs)),
        cancel: this.cancel.signal,
        invoke: (abort) =>
          invoke({
            secrets: { ...(this.options.secrets ?? {}) },
            registry: this.registryFor(run, name),
            monitor: this.options.monitor ?? {},
            artifacts: {
              put: async (artifact: string, content: string | Uint8Array, put: { contentType?: string } = {}) => {
                const problem = artifactNameProblem(artifact);
                if (problem) throw new Error(`artifact of step "${name}": ${problem}`);
                this.artifacts[artifact] = { step: name, content, contentType: put.contentType };
                const bytes = typeof content === 'string' ? Buffer.from(content) : content;
                return { name: artifact, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
              },
            },
            events: {
              emit: async (event: string, data?: unknown) => {
                this.events.push({ step: name, name: event, data: data === undefined ? null : JSON.parse(serialiseJson(`${name} (event data)`, data)) });
                return [];
              },
            },
            params: this.params,
            upstream,
            upstreamStatus,
            run,
            step: name,
            attempt,
            signal: abort.signal,
            log,
            park: parkStep,
            parked: resumed ? structuredClone(resumed) : undefined,
          }),
      });
      if (result.ok) return { outcome: 's', attempts: attempt, outputJson: result.outputJson };
      if (result.park) {
        parked = { state: JSON.parse(result.park.stateJson), count: (parked?.count ?? 0) + 1, since: parked?.since ?? Date.now() };
        if (parked.count > maxParks) {
          return { outcome: 'f', attempts: attempt, error: new Error(`step "${name}" parked ${parked.count} times (testPipeline maxParks: ${maxParks})`) };
        }
        if (this.options.retryDelay === 'real') await sleep(result.park.afterMs);
        // The engine resumes a parked step from a new queue job, whose attempt count starts again at 1.
        attempt = 0;
        continue;
      }
      const error = maskError(result.error, this.redact);
      if (!result.retryable || attempt >= maxAttempts) return { outcome: 'f', attempts: attempt, error };
      if (this.options.retryDelay === 'real') await sleep(backoffMs(spec, attempt));
    }
  }

  private registryFor(run: RunInfo, step: string): StepRegistryApi {
    const registry = this.options.registry;
    if (registry instanceof ModelRegistry) return createStepRegistryClient(registry, { runId: run.id, step, dagHash: run.dagHash });
    if (typeof registry === 'function') return registry(run, step);
    // No registry given: steps that use one fail with a TypeError naming the missing method.
    return registry ?? ({} as StepRegistryApi);
  }

  private async condition(code: StepCode, ctx: { upstream: Record<string, unknown>; upstreamStatus: Record<string, UpstreamStatus>; run: RunInfo }): Promise<boolean | Error> {
    try {
      return Boolean(await code.condition!({ params: this.params, ...ctx }));
    } catch (thrown) {
      const error = coerceError(thrown);
      error.message = `condition threw: ${error.message}`;
      return error;
    }
  }

  /**
   * A map step: condition (once, for the step), then `over`, then one instance `name[i]` per item
   * (each with the step's retry policy, at most `maxParallel` at once). As the engine's map collector
   * (step-complete.lua): the step succeeds with the outputs in item order, or — with `minSuccess` —
   * with `{ succeeded, failed }` when enough items succeeded; otherwise it fails once every item
   * settled (the failures are on the items `name[i]`). A retry keeps the items that succeeded.
   */
  private async executeMap(spec: StepSpec, code: StepCode): Promise<Attempted> {
    const ctx = { ...this.upstreamCtx(spec), run: this.runInfo() };
    if (spec.conditional && code.condition) {
      const decided = await this.condition(code, ctx);
      if (decided === false) return { outcome: 'k', attempts: 1, reason: 'condition was false' };
      if (decided !== true) return { outcome: 'f', attempts: 1, error: decided };
    }
    const partial = spec.minSuccess !== undefined;
    let items: unknown[];
    let itemsJson: string[];
    try {
      const listed = await code.over!({ params: this.params, ...ctx });
      // Same checks and texts as the worker's expandMap: an array, each item within the output limit.
      if (!Array.isArray(listed)) throw new TypeError(`map step "${spec.name}": over() must return an array, found ${typeof listed}`);
      itemsJson = listed.map((item, i) => serialiseOutput(`${spec.name}[${i}]`, item));
      items = itemsJson.map((json) => decodeHandOff(json));
    } catch (thrown) {
      return { outcome: 'f', attempts: 1, error: coerceError(thrown) };
    }
    if (items.length === 0) return { outcome: 's', attempts: 1, outputJson: emptyMapOutputJson(partial) };
    const results: Attempted[] = new Array(items.length);
    const todo = items.map((_, i) => i).filter((i) => {
      const name = `${spec.name}[${i}]`;
      const kept = this.previous?.steps[name]?.status === 'succeeded' && this.outputs.has(name);
      if (kept) results[i] = { outcome: 's', attempts: this.previous!.steps[name].attempts, outputJson: this.outputs.get(name) };
      return !kept;
    });
    const limit = spec.maxParallel && spec.maxParallel > 0 ? spec.maxParallel : todo.length;
    let next = 0;
    const lane = async () => {
      while (next < todo.length) {
        const index = todo[next++];
        const name = `${spec.name}[${index}]`;
        const done = await this.attempts(spec, name, undefined, (c) => code.handler(c, items[index], index));
        this.record(name, done);
        if (done.outcome === 'f') this.state.noteFailedItem();
        results[index] = done;
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, todo.length) }, lane));
    const failedIdx = results.flatMap((r, i) => (r.outcome === 'f' ? [i] : []));
    const outs = results.filter((r) => r.outcome === 's').map((r) => r.outputJson);
    const needed = partial ? minSuccessCount(spec.minSuccess!, items.length) : items.length;
    if (failedIdx.length > 0 && outs.length < needed) {
      // Same message and name as the engine's map collector (step-complete.lua); item errors are on `name[i]`.
      const error = new Error(`${failedIdx.length} of ${items.length} items failed${partial ? ` (minSuccess: ${needed})` : ''}`);
      error.name = 'MapItemsFailed';
      return { outcome: 'f', attempts: 1, error };
    }
    const failed = failedIdx.map((index) => ({
      index,
      item: items[index],
      error: { message: results[index].error?.message ?? 'failed', name: results[index].error?.name },
    }));
    const collected = partial ? `{"succeeded":[${outs.join(',')}],"failed":${JSON.stringify(failed)}}` : `[${outs.join(',')}]`;
    try {
      return { outcome: 's', attempts: 1, outputJson: checkCollectedOutput(spec.name, collected) };
    } catch (tooLarge) {
      return { outcome: 'f', attempts: 1, error: coerceError(tooLarge) };
    }
  }
}
