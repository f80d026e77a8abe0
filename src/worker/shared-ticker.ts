/**
 * One timer for many items: every `everyMs` it calls `tick` on each item added and not yet removed.
 * Per-attempt work that repeats (log flushes, lease renewals) uses it instead of a timer per attempt,
 * which cost a setInterval/clearInterval pair per step, a few per cent of a no-op step's CPU. The
 * timer starts with the first item and is unref'd: it never keeps a process alive.
 */
export class SharedTicker<T> {
  private readonly items = new Set<T>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly everyMs: number,
    private readonly tick: (item: T) => void,
  ) {}

  /** Ticks `item` until the returned function is called. */
  add(item: T): () => void {
    this.items.add(item);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const each of this.items) this.tick(each);
      }, Math.max(1, this.everyMs));
      this.timer.unref();
    }
    return () => {
      this.items.delete(item);
    };
  }
}
