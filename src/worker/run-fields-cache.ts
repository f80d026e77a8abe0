import type { RunFixedFields } from '../engine/worker-backend.ts';

/** Runs whose fixed fields a worker keeps (a few hundred bytes each, more with large params). */
const CAPACITY = 2_000;

/**
 * A worker's cache of each run's fixed fields (params, trigger, logical time, DAG hash), fetched with
 * the first step of the run it starts. Params and trigger are deep-frozen: the run's steps share them,
 * so a step that mutated its params would otherwise change them for the next one.
 */
export class RunFieldsCache {
  private readonly byRun = new Map<string, RunFixedFields>();

  get(runId: string): RunFixedFields | undefined {
    return this.byRun.get(runId);
  }

  remember(runId: string, fixed: RunFixedFields): RunFixedFields {
    if (this.byRun.size >= CAPACITY) {
      const oldest = this.byRun.keys().next().value;
      if (oldest !== undefined) this.byRun.delete(oldest);
    }
    const frozen = { ...fixed, params: deepFreeze(fixed.params), trigger: deepFreeze(fixed.trigger) };
    this.byRun.set(runId, frozen);
    return frozen;
  }

  forget(runId: string): void {
    this.byRun.delete(runId);
  }
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
