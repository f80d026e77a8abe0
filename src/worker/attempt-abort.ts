/**
 * How one attempt is told to stop: the reason it was aborted (its timeout, `conveyor cancel`, a drain
 * timeout, a lost lock) and the AbortSignal its handler sees as `ctx.signal`.
 *
 * The signal is made on first use only. A Node AbortController and its signal (an EventTarget) cost
 * ~15 µs to make and listen to, a tenth of a no-op step, and most handlers never read `ctx.signal`;
 * the runner itself listens here, with a plain callback. Abort before the signal exists and the
 * signal is born aborted with the same reason, so a handler sees exactly what it would have.
 */
export class AttemptAbort {
  private controller: AbortController | undefined;
  private listeners: Array<(reason: Error) => void> | undefined;
  private why: Error | undefined;

  get aborted(): boolean {
    return this.why !== undefined;
  }

  /** Why the attempt was aborted (the first reason given), or undefined while it runs. */
  get reason(): Error | undefined {
    return this.why;
  }

  /** The first abort wins: later reasons are ignored, as an AbortController ignores them. */
  abort(reason: Error): void {
    if (this.why !== undefined) return;
    this.why = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener(reason);
  }

  /** Calls `listener` once with the reason: now when already aborted, else when it is. */
  onAbort(listener: (reason: Error) => void): void {
    if (this.why !== undefined) listener(this.why);
    else (this.listeners ??= []).push(listener);
  }

  /** The handler's `ctx.signal`. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.why !== undefined) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }
}
