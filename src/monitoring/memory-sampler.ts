/**
 * Samples the process's resident memory so a step's peak can be read when it finishes. Memory is a
 * process-wide figure: with concurrent steps, a step's "peak" is the worker's peak RSS while it ran.
 */
export class MemorySampler {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs = 250,
    /** How far back samples are kept (longer steps fall back to the whole window). */
    private readonly windowMs = 15 * 60_000,
    private readonly read: () => number = () => process.memoryUsage.rss(),
  ) {}

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(now = Date.now()): number {
    const value = this.read();
    this.times.push(now);
    this.values.push(value);
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! < cutoff) drop++;
    if (drop) {
      this.times.splice(0, drop);
      this.values.splice(0, drop);
    }
    return value;
  }

  /** Highest RSS seen between `from` and now, including a fresh reading. */
  peakSince(from: number, now = Date.now()): number {
    let peak = this.sample(now);
    for (let i = this.times.length - 1; i >= 0 && this.times[i]! >= from; i--) peak = Math.max(peak, this.values[i]!);
    return peak;
  }
}
