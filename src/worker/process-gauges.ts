/**
 * A process figure read at most every `everyMs`. Each finished step records the process's CPU time
 * and resident memory; reading them per step (getrusage, a /proc read) was ~7% and ~4% of the
 * engine's CPU per no-op step. Both figures are process-wide anyway (concurrent steps share them).
 */
class SampledGauge {
  private sampledAt = Number.NEGATIVE_INFINITY;
  private sample = 0;

  constructor(
    private readonly read: () => number,
    private readonly everyMs: number,
  ) {}

  value(): number {
    const now = performance.now();
    if (now - this.sampledAt >= this.everyMs) {
      this.sample = this.read();
      this.sampledAt = now;
    }
    return this.sample;
  }
}

/**
 * Process CPU time, user + system, in µs. A step's CPU is the difference of two readings, so the
 * resolution is what a short step's figure can be off by: 5 ms (a 10 ms busy step never shows 0).
 */
export function cpuClock(): SampledGauge {
  return new SampledGauge(() => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  }, 5);
}

/**
 * Process resident memory in bytes: a level, not a difference, so 50 ms old is as good as fresh
 * (at 5 ms the /proc read was still ~2% of a no-op step's CPU).
 */
export function rssGauge(): SampledGauge {
  return new SampledGauge(() => process.memoryUsage.rss(), 50);
}
