import { readdir, readFile } from 'node:fs/promises';

/**
 * Resource figures of one piece of step work. `null` means "not measurable here" (e.g. no /proc),
 * never zero: a dashboard must not chart a missing figure as an idle step.
 */
export interface ResourceUsage {
  wallMs: number;
  /** User + system CPU time. */
  cpuMs: number | null;
  cpuUserMs: number | null;
  cpuSystemMs: number | null;
  /** Highest resident set size seen (bytes). How it is measured depends on the source; see `measure` and `runCommand`. */
  peakRssBytes: number | null;
  /** In-process work only: highest V8 heap in use seen while sampling. */
  peakHeapUsedBytes?: number | null;
  /** How many memory samples the peak is based on. */
  samples: number;
}

export interface MeasureOptions {
  /** How often memory is sampled while `fn` runs. Default 50 ms. */
  sampleEveryMs?: number;
}

/**
 * Runs an in-process function and measures it: wall time, CPU time (`process.cpuUsage()` deltas)
 * and peak memory (`process.memoryUsage()` sampled every `sampleEveryMs`, plus once at start and end).
 *
 * These are figures of the whole worker process while `fn` ran: other steps running concurrently in
 * the same worker are counted too. For exact per-step figures run the work in its own process
 * (`runCommand`) or give the worker a concurrency of 1.
 */
export async function measure<T>(fn: () => T | Promise<T>, options: MeasureOptions = {}): Promise<{ value: T; resources: ResourceUsage }> {
  const every = Math.max(5, options.sampleEveryMs ?? 50);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let peakRss = 0;
  let peakHeap = 0;
  let samples = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    samples++;
  };
  sample();
  const timer = setInterval(sample, every);
  timer.unref();
  try {
    const value = await fn();
    return { value, resources: finish() };
  } finally {
    clearInterval(timer);
  }

  function finish(): ResourceUsage {
    sample();
    const cpu = process.cpuUsage(cpuBefore);
    const cpuUserMs = cpu.user / 1000;
    const cpuSystemMs = cpu.system / 1000;
    return {
      wallMs: round(performance.now() - started),
      cpuMs: round(cpuUserMs + cpuSystemMs),
      cpuUserMs: round(cpuUserMs),
      cpuSystemMs: round(cpuSystemMs),
      peakRssBytes: peakRss,
      peakHeapUsedBytes: peakHeap,
      samples,
    };
  }
}

/** A process as /proc shows it. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  /** Single-letter state: R, S, D, Z (zombie), T, ... */
  state: string;
}

/** Parses /proc/<pid>/stat. The command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): ProcInfo | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  const rest = text.slice(close + 2).split(' ');
  // rest[0] = state (field 3), rest[1] = ppid (4), rest[2] = pgrp (5)
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  if (!Number.isInteger(pid) || !rest[0] || !Number.isInteger(ppid) || !Number.isInteger(pgrp)) return null;
  return { pid, ppid, pgrp, state: rest[0] };
}

/** Processes of a process group that are still alive (zombies are dead: they only wait to be reaped). Empty without /proc. */
export async function processGroupMembers(pgid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  await Promise.all(
    entries.map(async (name) => {
      if (!/^\d+$/.test(name)) return;
      const info = await readProcStat(Number(name));
      if (info && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X') members.push(info.pid);
    }),
  );
  return members.sort((a, b) => a - b);
}

export async function readProcStat(pid: number): Promise<ProcInfo | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone between readdir and read, or not Linux
  }
}

/** VmRSS and VmHWM (peak RSS) of one process in bytes, from /proc/<pid>/status; null when gone or a zombie. */
export async function readProcMemory(pid: number): Promise<{ rss: number; hwm: number } | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (rss === null || hwm === null) return null; // zombies and kernel threads have no memory lines
  return { rss, hwm };
}

/** The direct children of a process (/proc/<pid>/task/<pid>/children); empty when gone or unsupported. */
async function directChildren(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Samples the memory of a process group through /proc (Linux). Per sample it sums VmRSS over the
 * group's live members (the tree's footprint at that moment), and it keeps each member's VmHWM
 * (the kernel's own peak for that process, so a spike between samples is still seen for a single
 * process). The peak reported is the larger of the two. Processes that live and die entirely between
 * two samples are not seen; `samples` says how many samples there were.
 */
export class ProcessGroupSampler {
  private peakSum = 0;
  private readonly hwm = new Map<number, number>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private leaderInFlight: Promise<void> | undefined;

  constructor(
    private readonly pgid: number,
    /** Pids not to count (e.g. a wrapper shell that only waits). */
    private readonly exclude: ReadonlySet<number> = new Set(),
    /** How the group's members are found (a scan of /proc; replaceable to test a slow scan). */
    private readonly members: (pgid: number) => Promise<number[]> = processGroupMembers,
  ) {}

  start(everyMs: number): void {
    const tick = () => {
      void this.sampleLeader();
      void this.sample();
    };
    tick();
    this.timer = setInterval(tick, Math.max(10, everyMs));
    this.timer.unref();
  }

  /** Samples taken so far (a caller may wait for the sampler to have looked at a state it set up). */
  get samples(): number {
    return this.count;
  }

  async stop(): Promise<{ peakRssBytes: number | null; samples: number }> {
    clearInterval(this.timer);
    await Promise.all([this.inFlight, this.leaderInFlight]);
    const peakHwm = Math.max(0, ...this.hwm.values());
    const peak = Math.max(this.peakSum, peakHwm);
    return { peakRssBytes: this.count > 0 && peak > 0 ? peak : null, samples: this.count };
  }

  /**
   * The group's leader alone: one /proc read, so it keeps its pace when a scan of /proc is slow (a
   * busy host with hundreds of processes: a scan of every /proc/<pid>/stat then takes longer than
   * a short command lives, and the command's memory would go unseen).
   */
  sampleLeader(): Promise<void> {
    if (this.leaderInFlight) return this.leaderInFlight;
    this.leaderInFlight = (async () => {
      // A wrapper leader (excluded: it only waits) is skipped for its direct children, the command:
      // one more small read, where the scan of /proc may be too slow to see a short command at all.
      const pids = this.exclude.has(this.pgid) ? await directChildren(this.pgid) : [this.pgid];
      const { sum, seen } = await this.read(pids);
      if (seen === 0) return;
      this.count++;
      this.peakSum = Math.max(this.peakSum, sum);
    })().finally(() => {
      this.leaderInFlight = undefined;
    });
    return this.leaderInFlight;
  }

  /** Reads `pids` once: their summed RSS, how many were alive, and each one's peak (kept). */
  private async read(pids: number[]): Promise<{ sum: number; seen: number }> {
    let sum = 0;
    let seen = 0;
    for (const pid of pids) {
      const mem = await readProcMemory(pid);
      if (!mem) continue;
      seen++;
      sum += mem.rss;
      this.hwm.set(pid, Math.max(this.hwm.get(pid) ?? 0, mem.hwm));
    }
    return { sum, seen };
  }

  /** One sample of the whole group; overlapping calls are skipped so a slow /proc never piles up reads. */
  sample(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = (async () => {
      const pids = (await this.members(this.pgid)).filter((p) => !this.exclude.has(p));
      const { sum, seen } = await this.read(pids);
      if (seen > 0) {
        // One sample per tick: the leader's own read (sampleLeader) counts a tick it saw the leader
        // (or, for a wrapper, its children) in.
        if (!this.exclude.has(this.pgid) && !pids.includes(this.pgid)) this.count++;
        this.peakSum = Math.max(this.peakSum, sum);
      }
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
