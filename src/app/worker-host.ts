import type { Pipeline } from '../dsl/pipeline.ts';
import { Reconciler } from '../engine/reconciler.ts';
import { createWorkerBackend } from '../engine/worker-backend.ts';
import { ConveyorWorker, type WorkerEvent } from '../worker/worker.ts';
import type { StepServices, RunInfo } from '../dsl/context.ts';
import type { Runtime } from './runtime.ts';
import { createStepRegistryClient } from '../registry/step-client.ts';
import { EventTriggers } from './event-triggers.ts';
import { createRedactor } from '../core/redact.ts';
import { loadSecrets } from './secrets.ts';

export interface WorkerHostOptions {
  pipelines: Pipeline<any, any>[];
  /** Queues to serve; default: every queue the pipelines use. */
  queues?: string[];
  concurrency?: number;
  onEvent?: (event: WorkerEvent) => void;
  /** Overrides of the step services (registry, monitor, events) per attempt; the rest get defaults. `secrets` always come from the host (masked in logs and outputs). */
  services?: (run: RunInfo, step: string) => Partial<Omit<StepServices, 'secrets'>>;
  /** Extra masking, applied after the host's secret redactor. */
  redact?: (value: unknown) => unknown;
  /** Secrets for `ctx.secrets`; default: CONVEYOR_SECRET_* env vars and CONVEYOR_SECRETS_FILE. */
  secrets?: Readonly<Record<string, string>>;
  /** How often the reconciler looks for stuck runs, and how idle a run must be. */
  reconcileEveryMs?: number;
  reconcileIdleMs?: number;
}

export interface WorkerHost {
  worker: ConveyorWorker;
  reconciler: Reconciler;
  queues: string[];
  /** Adds a listener for this worker's events (besides options.onEvent); returns its remover. */
  onEvent(listener: (event: WorkerEvent) => void): () => void;
  stop(drainMs?: number): Promise<void>;
}

/** Every queue named by the steps of these pipelines, sorted. */
export function queuesOf(pipelines: Pipeline<any, any>[]): string[] {
  return [...new Set(pipelines.flatMap((p) => p.spec.steps.map((s) => s.queue)))].sort();
}

/** Starts a worker (and its reconciler) on a connected runtime. */
export async function startWorkerHost(runtime: Runtime, options: WorkerHostOptions): Promise<WorkerHost> {
  const queues = options.queues?.length ? options.queues : queuesOf(options.pipelines);
  const listeners = new Set<(event: WorkerEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);
  // Secrets stay in this process: steps get them through ctx.secrets, and every log line, error and
  // output they produce passes the redactor before it reaches Redis.
  const secrets = options.secrets ?? loadSecrets(runtime.config);
  const maskSecrets = createRedactor(Object.values(secrets));
  const extra = options.redact;
  const redact = extra ? (value: unknown) => extra(maskSecrets(value)) : maskSecrets;
  const triggers = new EventTriggers(runtime, options.pipelines);
  const { artifacts } = runtime.store;
  const services = (run: RunInfo, step: string): StepServices => {
    const base = options.services?.(run, step);
    return {
      registry: base?.registry ?? createStepRegistryClient(runtime.registry, { runId: run.id, step, dagHash: run.dagHash }),
      monitor: base?.monitor ?? {},
      events: base?.events ?? { emit: (name, data) => triggers.fireEvent(name, data, `${run.id}.${step}.${name}`) },
      artifacts: base?.artifacts ?? {
        put: async (name, content, put = {}) => {
          const meta = await artifacts.put(run.id, step, name, typeof content === 'string' ? (redact(content) as string) : content, put.contentType);
          return { name: meta.name, bytes: meta.bytes, sha256: meta.sha256 };
        },
      },
      secrets,
    };
  };
  const backend = createWorkerBackend({
    redis: runtime.redis,
    bullConnection: runtime.extraClient(true),
    subscriber: runtime.extraClient(true),
    keys: runtime.keys,
    store: runtime.store,
    engine: runtime.engine,
    clock: runtime.clock,
    logger: runtime.logger,
    lockDurationMs: runtime.config.lockDurationMs,
    stalledIntervalMs: runtime.config.stalledIntervalMs,
    oomWindowMs: runtime.config.redisOomWindowMs,
    fanOutPickups: runtime.config.fanOutPickups,
  });
  const worker = new ConveyorWorker({
    backend,
    engine: runtime.engine,
    pipelines: options.pipelines,
    queues,
    concurrency: options.concurrency ?? runtime.config.workerConcurrency,
    redisOomWindowMs: runtime.config.redisOomWindowMs,
    clock: runtime.clock,
    logger: runtime.logger,
    services,
    redact,
    isolation: runtime.config.stepIsolation,
    eagerDispatch: runtime.config.eagerDispatch,
    onEvent: (event) => {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          runtime.logger.warn('worker event listener threw', { error: (error as Error).message });
        }
      }
    },
  });
  await worker.start();
  const reconciler = new Reconciler({
    engine: runtime.engine,
    store: runtime.store,
    queues: runtime.queues,
    clock: runtime.clock,
    logger: runtime.logger,
    idleMs: options.reconcileIdleMs ?? Math.max(5_000, runtime.config.stalledIntervalMs),
    intervalMs: options.reconcileEveryMs ?? 5_000,
  });
  reconciler.start();
  return {
    worker,
    reconciler,
    queues,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop(drainMs = runtime.config.drainTimeoutMs) {
      reconciler.stop();
      await worker.close(drainMs);
    },
  };
}
