import { deterministicRunId, newRunId } from '../core/ids.ts';
import { coerceError } from '../core/coerce-error.ts';
import type { Pipeline } from '../dsl/pipeline.ts';
import type { TriggerSpec } from '../dsl/types.ts';
import type { EngineEvent } from '../engine/engine.ts';
import type { AliasMovedEvent } from '../registry/types.ts';
import { deliverFollowUps } from './outbox.ts';
import type { Runtime } from './runtime.ts';

export interface FiredRun {
  pipeline: string;
  runId: string;
  created: boolean;
}

/**
 * Starts pipelines whose `triggers` match something that happened: another pipeline succeeded
 * (`onSucceeded`), an external event (`event`, from `conveyor trigger-event` or the API), or a model
 * alias moved (`onModelAlias`). Run ids derive from what happened, so several processes reacting to
 * the same fact create one run.
 */
export class EventTriggers {
  constructor(
    private readonly runtime: Runtime,
    private readonly pipelines: Pipeline<any, any>[],
  ) {}

  /**
   * Engine listener: delivers the follow-ups of a run this process finished, at once. Should this fail
   * or the process die first, the outbox sweeper of any live worker or scheduler delivers them.
   */
  readonly onEngineEvent = (event: EngineEvent): void => {
    if (event.type !== 'run-finished' || event.status !== 'succeeded') return;
    void deliverFollowUps(this.runtime, this, event.runId).catch((error) =>
      this.runtime.logger.error('onSucceeded trigger failed; the outbox sweep retries it', { error: coerceError(error).message }),
    );
  };

  /** Starts the pipelines with `onSucceeded: <upstream pipeline>`, once per upstream run (idempotent). */
  fireOnSucceeded(upstreamPipeline: string, upstreamRunId: string): Promise<FiredRun[]> {
    return this.fire(
      (t) => 'onSucceeded' in t && t.onSucceeded === upstreamPipeline,
      (p) => deterministicRunId('e', p.id, upstreamRunId),
      { type: 'event', event: `succeeded:${upstreamPipeline}`, upstreamRunId },
    );
  }

  /** Registry listener: `onModelAlias` triggers. The audit sequence number makes the run id unique per move. */
  readonly onAliasMoved = (event: AliasMovedEvent): void => {
    void this.fire(
      (t) => 'onModelAlias' in t && t.onModelAlias.model === event.model && t.onModelAlias.alias === event.alias,
      (p) => deterministicRunId('ma', p.id, event.model, event.alias, String(event.seq)),
      { type: 'event', event: `model-alias:${event.model}:${event.alias}`, data: { from: event.from, to: event.to, actor: event.actor } },
    ).catch((error) => this.runtime.logger.error('onModelAlias trigger failed', { error: coerceError(error).message }));
  };

  /** An external event: every pipeline with `triggers: [{ event: name }]` starts, with `data` on its trigger. */
  fireEvent(name: string, data: unknown, idempotencyKey?: string): Promise<FiredRun[]> {
    return this.fire(
      (t) => 'event' in t && t.event === name,
      (p) => (idempotencyKey ? deterministicRunId('ev', p.id, name, idempotencyKey) : newRunId()),
      { type: 'event', event: name, data },
    );
  }

  private async fire(
    matches: (trigger: TriggerSpec) => boolean,
    runIdFor: (pipeline: Pipeline<any, any>) => string,
    trigger: { type: 'event'; event: string; upstreamRunId?: string; data?: unknown },
  ): Promise<FiredRun[]> {
    const fired: FiredRun[] = [];
    for (const pipeline of this.pipelines) {
      for (const spec of pipeline.spec.triggers) {
        if (!matches(spec)) continue;
        const runId = runIdFor(pipeline);
        const result = await this.runtime.engine.trigger(pipeline, { runId, params: spec.params ?? {}, trigger });
        fired.push({ pipeline: pipeline.id, runId: result.runId, created: result.created });
      }
    }
    return fired;
  }
}
