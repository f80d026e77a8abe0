import type { z } from 'zod';
import { ValidationError } from '../errors/conveyor-error.ts';
import { parseDuration } from '../core/duration.ts';
import type { ConditionContext, StepContext } from './context.ts';
import { mapOptionsSchema, parseOrThrow, pipelineOptionsSchema, scheduleSchema, stepOptionsSchema, nameSchema } from './options-schema.ts';
import { checkParamDefaults } from './params.ts';
import { canonicalRule } from './trigger-rules.ts';
import { callerFile } from './source-file.ts';
import type { MinSuccess, PartialMapOutput } from './map-partial.ts';
import {
  DEFAULT_POLICY,
  type PipelineOptions,
  type PipelineSpec,
  type ResolvedPolicy,
  type RunWhen,
  type StepPolicy,
  type StepSpec,
} from './types.ts';

type Outputs = Record<string, unknown>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type StepHandler<P, U, R> = (ctx: StepContext<P, U>) => R | Promise<R>;
export type MapHandler<P, U, Item, R> = (ctx: StepContext<P, U>, item: Item, index: number) => R | Promise<R>;
export type Condition<P, U> = (ctx: ConditionContext<P, U>) => boolean | Promise<boolean>;

export interface StepOptions<P, O extends Outputs, N extends keyof O & string> extends StepPolicy {
  /** Steps that must finish first. Only steps declared earlier can be named. */
  needs?: readonly N[];
  /** When false, the step is `skipped` (not failed) and counts as a success for the run. */
  if?: Condition<P, Simplify<Pick<O, N>>>;
  runWhen?: RunWhen;
}

export interface MapOptions<P, O extends Outputs, N extends keyof O & string, Item> extends StepOptions<P, O, N> {
  /** The items to fan out over: one step instance `name[i]` per item. */
  over: (ctx: ConditionContext<P, Simplify<Pick<O, N>>>) => readonly Item[] | Promise<readonly Item[]>;
  /** How many item instances may run at once (default: no limit). */
  maxParallel?: number;
}

export interface PartialMapOptions<P, O extends Outputs, N extends keyof O & string, Item> extends MapOptions<P, O, N, Item> {
  /**
   * Accept partial success: the map succeeds when at least this many items (or this share, '80%')
   * succeed, and its dependents get `{ succeeded, failed }` instead of the bare array.
   */
  minSuccess: MinSuccess;
}

/** Runtime parts of a step that cannot be serialised: the code the worker calls. */
export interface StepCode {
  handler: (ctx: StepContext<any, any>, item?: unknown, index?: number) => unknown;
  condition?: Condition<any, any>;
  over?: (ctx: ConditionContext<any, any>) => readonly unknown[] | Promise<readonly unknown[]>;
}

/** Marker so loaders can recognise a pipeline even across duplicated module instances. */
export const PIPELINE_BRAND = Symbol.for('conveyor.pipeline');

/**
 * Steps shared by a chain of builders. Builders are immutable values, but copying every step on each
 * `.step()` made building a 10,000-step pipeline quadratic (seconds); instead the newest builder of a
 * chain appends here in O(1), and a builder extended a second time (a branch) copies its prefix first.
 */
interface StepStore {
  specs: StepSpec[];
  code: Map<string, StepCode>;
  /** step name -> position in `specs` */
  index: Map<string, number>;
  /** The file that called definePipeline (isolated steps re-import it). */
  sourceFile: string | undefined;
}

function copyPrefix(store: StepStore, length: number): StepStore {
  const specs = store.specs.slice(0, length);
  return {
    specs,
    code: new Map(specs.map((s) => [s.name, store.code.get(s.name)!])),
    index: new Map(specs.map((s, i) => [s.name, i])),
    sourceFile: store.sourceFile,
  };
}

/**
 * An immutable pipeline definition: `spec` (serialisable, snapshotted into each run) plus the code of
 * each step. Every `.step()` returns a new Pipeline whose type knows the outputs declared so far, so
 * `needs` can only name earlier steps and `ctx.upstream.<step>` has that step's return type.
 */
export class Pipeline<P = Record<string, never>, O extends Outputs = {}> {
  readonly [PIPELINE_BRAND] = true;
  readonly paramsSchema: z.ZodType | undefined;
  private readonly header: Omit<PipelineSpec, 'steps'>;
  private readonly defaults: ResolvedPolicy;
  private readonly store: StepStore;
  /** How many of the store's steps belong to this builder. */
  private readonly length: number;
  private materialised: PipelineSpec | undefined;

  /** @internal use definePipeline() */
  constructor(header: Omit<PipelineSpec, 'steps'>, paramsSchema: z.ZodType | undefined, defaults: ResolvedPolicy, store: StepStore, length: number) {
    this.header = deepFreeze(header);
    this.paramsSchema = paramsSchema;
    this.defaults = defaults;
    this.store = store;
    this.length = length;
  }

  /** The serialisable definition (built once per builder, frozen). */
  get spec(): PipelineSpec {
    this.materialised ??= Object.freeze({ ...this.header, steps: Object.freeze(this.store.specs.slice(0, this.length)) as StepSpec[] });
    return this.materialised;
  }

  get id(): string {
    return this.header.id;
  }

  /** The file this pipeline was defined in, if the call stack named one (see source-file.ts). */
  get sourceFile(): string | undefined {
    return this.store.sourceFile;
  }

  /** The code of a step, or undefined when this definition has no such step. */
  stepCode(name: string): StepCode | undefined {
    return this.has(name) ? this.store.code.get(name) : undefined;
  }

  private has(name: string): boolean {
    const at = this.store.index.get(name);
    return at !== undefined && at < this.length;
  }

  step<Name extends string, R>(name: Name, handler: StepHandler<P, {}, R>): Pipeline<P, Simplify<O & { [K in Name]: Awaited<R> }>>;
  step<Name extends string, const N extends keyof O & string, R>(
    name: Name,
    options: StepOptions<P, O, N>,
    handler: StepHandler<P, Simplify<Pick<O, N>>, R>,
  ): Pipeline<P, Simplify<O & { [K in Name]: Awaited<R> }>>;
  step(name: string, optionsOrHandler: unknown, maybeHandler?: unknown): Pipeline<any, any> {
    const [options, handler] = typeof optionsOrHandler === 'function' ? [{}, optionsOrHandler] : [optionsOrHandler, maybeHandler];
    const where = `pipeline "${this.id}": step "${name}"`;
    const parsed = parseOrThrow(stepOptionsSchema, options ?? {}, where);
    return this.withStep(name, parsed, { handler: requireFunction(handler, where), condition: parsed.if as StepCode['condition'] }, 'task');
  }

  /** Fans out over the items `over` returns: one instance per item; dependents get the outputs in item order. */
  map<Name extends string, const N extends keyof O & string, Item, R>(
    name: Name,
    options: PartialMapOptions<P, O, N, Item>,
    handler: MapHandler<P, Simplify<Pick<O, N>>, Item, R>,
  ): Pipeline<P, Simplify<O & { [K in Name]: PartialMapOutput<Awaited<R>, Item> }>>;
  map<Name extends string, const N extends keyof O & string, Item, R>(
    name: Name,
    options: MapOptions<P, O, N, Item>,
    handler: MapHandler<P, Simplify<Pick<O, N>>, Item, R>,
  ): Pipeline<P, Simplify<O & { [K in Name]: Awaited<R>[] }>>;
  map(name: string, options: MapOptions<any, any, any, unknown> & { minSuccess?: MinSuccess }, handler: MapHandler<any, any, unknown, unknown>): Pipeline<any, any> {
    const where = `pipeline "${this.id}": map step "${name}"`;
    const parsed = parseOrThrow(mapOptionsSchema, options, where);
    return this.withStep(
      name,
      parsed,
      {
        handler: requireFunction(handler, where) as StepCode['handler'],
        condition: parsed.if as StepCode['condition'],
        over: parsed.over as StepCode['over'],
      },
      'map',
      { maxParallel: parsed.maxParallel ?? 0, ...(parsed.minSuccess !== undefined ? { minSuccess: parsed.minSuccess as MinSuccess } : {}) },
    );
  }

  private withStep(
    name: string,
    options: { needs?: string[]; runWhen?: RunWhen; if?: unknown } & StepPolicy,
    code: StepCode,
    kind: StepSpec['kind'],
    mapSpec?: Pick<StepSpec, 'maxParallel' | 'minSuccess'>,
  ): Pipeline<any, any> {
    const id = this.id;
    parseOrThrow(nameSchema, name, `pipeline "${id}": step name`);
    if (this.has(name)) throw new ValidationError(`pipeline "${id}": duplicate step "${name}"`);
    const needs = options.needs ?? [];
    for (const need of needs) {
      if (need === name) throw new ValidationError(`pipeline "${id}": step "${name}" needs itself`);
      if (!this.has(need)) {
        const known = this.store.specs.slice(0, this.length).map((s) => s.name);
        const shown = known.length > 20 ? `${known.slice(0, 20).join(', ')}, …` : known.join(', ') || 'none';
        throw new ValidationError(`pipeline "${id}": step "${name}" needs unknown step "${need}" (known: ${shown})`);
      }
    }
    if (new Set(needs).size !== needs.length) throw new ValidationError(`pipeline "${id}": step "${name}" lists a need twice`);
    const spec: StepSpec = Object.freeze({
      name,
      needs: Object.freeze([...needs]) as string[],
      queue: options.queue ?? this.defaults.queue,
      retries: options.retries ?? this.defaults.retries,
      backoff: Object.freeze({ ...(options.backoff ?? this.defaults.backoff) }),
      timeoutMs: options.timeoutMs ?? this.defaults.timeoutMs,
      // Only when set, so pipelines without it keep their hash; in-process defers to the worker's default.
      ...((options.isolation ?? this.defaults.isolation) ? { isolation: options.isolation ?? this.defaults.isolation } : {}),
      runWhen: canonicalRule(options.runWhen ?? 'all-succeeded'),
      conditional: typeof options.if === 'function',
      kind,
      ...(kind === 'map' ? { maxParallel: 0, ...mapSpec } : {}),
    });
    const store = this.store.specs.length === this.length ? this.store : copyPrefix(this.store, this.length);
    store.specs.push(spec);
    store.index.set(name, this.length);
    store.code.set(name, code);
    return new Pipeline(this.header, this.paramsSchema, this.defaults, store, this.length + 1);
  }
}

/** Starts a pipeline definition. See the README for the full DSL. */
export function definePipeline<S extends z.ZodType = z.ZodType<Record<string, never>>>(
  options: PipelineOptions<S>,
): Pipeline<z.output<S>, {}> {
  const parsed = parseOrThrow(pipelineOptionsSchema, options, `pipeline "${String((options as { id?: unknown })?.id ?? '?')}"`);
  if (parsed.params) checkParamDefaults(parsed.params, parsed.id);
  const schedules = parsed.schedule === undefined ? [] : Array.isArray(parsed.schedule) ? parsed.schedule : [parsed.schedule];
  schedules.forEach((s, i) => parseOrThrow(scheduleSchema, s, `pipeline "${parsed.id}": schedule[${i}]`));
  const defaults: ResolvedPolicy = { ...DEFAULT_POLICY, ...parsed.defaults };
  const header: Omit<PipelineSpec, 'steps'> = {
    id: parsed.id,
    description: parsed.description ?? '',
    schedules: schedules.map((s, i) => ({ ...s, name: s.name ?? String(i) })),
    triggers: parsed.triggers ?? [],
    ...(parsed.runOutcome && parsed.runOutcome !== 'leaves' ? { runOutcome: parsed.runOutcome } : {}),
    ...(parsed.versioning === 'pinned' ? { versioning: 'pinned' as const } : {}),
    ...(parsed.noWorkerTimeout !== undefined ? { noWorkerTimeoutMs: durationOption(parsed.noWorkerTimeout, `pipeline "${parsed.id}": noWorkerTimeout`) } : {}),
  };
  return new Pipeline(header, parsed.params, defaults, { specs: [], code: new Map(), index: new Map(), sourceFile: callerFile() }, 0);
}

function durationOption(value: string | number, where: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new ValidationError(`${where}: expected a duration such as '10m' or milliseconds, found ${JSON.stringify(value)}`);
  return ms;
}

export function isPipeline(value: unknown): value is Pipeline<any, any> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PIPELINE_BRAND] === true;
}

function requireFunction(value: unknown, where: string): StepCode['handler'] {
  if (typeof value !== 'function') throw new ValidationError(`${where}: expected a handler function, found ${typeof value}`);
  return value as StepCode['handler'];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
