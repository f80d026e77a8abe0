const SAMPLE_MS = 5;

/**
 * Process CPU time in µs, sampled at most every 5 ms: two getrusage calls per step were ~7% of the
 * engine's CPU per no-op step. A step's CPU figure is process-wide anyway (concurrent steps share
 * it), so a few milliseconds of resolution loses nothing it ever measured.
 */
export class CpuClock {
  private sampledAt = Number.NEGATIVE_INFINITY;
  private sample = 0;

  nowUs(): number {
    const now = performance.now();
    if (now - this.sampledAt >= SAMPLE_MS) {
      const usage = process.cpuUsage();
      this.sample = usage.user + usage.system;
      this.sampledAt = now;
    }
    return this.sample;
  }
}
