/**
 * Thrown by `ctx.park(state, afterMs)`: not an error, a request to end this attempt and resume the
 * step later from a delayed job. The step runner recognises it and never retries or fails on it.
 */
export class ParkSignal extends Error {
  constructor(
    readonly state: unknown,
    readonly afterMs: number,
  ) {
    super(`step parked for ${afterMs} ms`);
    this.name = 'ParkSignal';
  }
}

/** The `ctx.park` function given to step handlers. */
export function parkStep(state: unknown, afterMs: number): never {
  if (!Number.isFinite(afterMs) || afterMs < 0) throw new TypeError(`ctx.park: expected afterMs ≥ 0, found ${afterMs}`);
  throw new ParkSignal(state, Math.round(afterMs));
}
