const SAMPLE_MS = 5;

/**
 * A process figure read at most every 5 ms. Each finished step records the process's CPU time and
 * resident memory; reading them per step (getrusage, a /proc read) was ~7% and ~4% of the engine's
 * CPU per no-op step. Both figures are process-wide anyway (concurrent steps share them), so a few
 * milliseconds of resolution loses nothing they ever measured.
 */
class SampledGauge {
  private sampledAt = Number.NEGATIVE_INFINITY;
  private sample = 0;

  constructor(private readonly read: () => number) {}

  value(): number {
    const now = performance.now();
    if (now - this.sampledAt >= SAMPLE_MS) {
      this.sample = this.read();
      this.sampledAt = now;
    }
    return this.sample;
  }
}

/** Process CPU time, user + system, in µs. */
export function cpuClock(): SampledGauge {
  return new SampledGauge(() => {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  });
}

/** Process resident memory in bytes. */
export function rssGauge(): SampledGauge {
  return new SampledGauge(() => process.memoryUsage.rss());
}
