import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { StepLogger } from '../../dsl/context.ts';
import { CancelledError, NonRetriableError, TimeoutError, ValidationError, formatZodIssues } from '../../errors/index.ts';
import { ProcessGroupSampler, type ResourceUsage } from '../resources.ts';
import { LineSplitter, Tail } from './line-splitter.ts';
import { groupAlive, terminateGroup } from './process-group.ts';

/** What `runCommand` needs of a step context (so it also works outside a step, e.g. in scripts and tests). */
export interface CommandContext {
  log: StepLogger;
  signal?: AbortSignal;
}

export interface RunCommandOptions<T = unknown> {
  command: string;
  args?: readonly string[];
  /** Added to (or, with `inheritEnv: false`, instead of) the worker's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default true. */
  inheritEnv?: boolean;
  cwd?: string;
  /** Kills the process tree after this long. The step's own timeout (ctx.signal) applies as well. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. Default 5 s. */
  killGraceMs?: number;
  /**
   * Read the result from this JSON file (relative to `cwd`) instead of stdout. It is deleted before
   * the command starts, so a file left by an earlier attempt is never mistaken for this one's.
   */
  resultFile?: string;
  /** Validates (and types) the result; a result that does not match fails the step without retries. */
  resultSchema?: z.ZodType<T>;
  /** Written to the command's stdin, which is then closed. Default: no stdin. */
  input?: string;
  /** Lines of stderr quoted in the error of a failed command. Default 20. */
  tailLines?: number;
  /** Output lines sent to ctx.log at most; the rest are counted (they still reach the stderr tail and the result). Default 1000. */
  maxLogLines?: number;
  /** Memory sampling period. Default 100 ms. */
  sampleEveryMs?: number;
  /** Exit codes that mean "will fail again" (bad usage, bad data): they fail the step without retries. */
  nonRetriableExitCodes?: readonly number[];
  /** Kill processes the command left running in its group after it exited. Default true. */
  killLeftovers?: boolean;
}

export interface CommandResult<T = unknown> {
  /** The JSON result (last JSON object/array line of stdout, or `resultFile`); null when there was none. */
  result: T;
  exitCode: 0;
  pid: number;
  /** Output lines written (stdout + stderr), including those not logged. */
  lines: { stdout: number; stderr: number };
  resources: ResourceUsage;
}

/** A command that exited with a non-zero code (or was killed by a signal it did not ask for). */
export class CommandFailedError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly exitSignal: string | null,
    readonly stderrTail: string[],
  ) {
    super(message);
    this.name = 'CommandFailedError';
  }
}

/** A POSIX shell wraps the command only to report its CPU time (`times` prints the rusage of waited children). */
const SHELL = '/bin/sh';
const WRAPPER = '"$0" "$@" 3>&-; s=$?; times >&3; exit $s';
const LOG_LINE_CHARS = 2_000;

/**
 * Runs a command as a step's work: its own process group (so the whole tree can be killed), output
 * lines streamed to `ctx.log` (stdout → info, stderr → warn), the whole tree killed on timeout or when
 * `ctx.signal` aborts (SIGTERM, SIGKILL after `killGraceMs`), and the step output taken from a JSON
 * result. A non-zero exit fails the attempt with the tail of stderr: a `CommandFailedError`, which the
 * step's retry policy retries, or a `NonRetriableError` for the codes in `nonRetriableExitCodes`.
 * The worker's graceful shutdown aborts ctx.signal too, so a drained worker leaves no command behind;
 * a worker killed with SIGKILL cannot, and its command (in its own group, by design) runs on.
 *
 * Resource figures of the child (Linux), in `resources`:
 * - `wallMs`: spawn to exit, measured here.
 * - CPU: the command runs under `/bin/sh -c '"$0" "$@"; times'`; after it exits the shell's `times`
 *   prints the user and system CPU of its waited-for children (getrusage(RUSAGE_CHILDREN)), which
 *   covers the command and every descendant it waited for. Exact to the kernel's clock tick (10 ms).
 *   Node exposes no per-child rusage, and sampling /proc/<pid>/stat misses the last interval.
 * - `peakRssBytes`: /proc is sampled every `sampleEveryMs`; per sample the VmRSS of the group's live
 *   processes is summed, and each process's VmHWM (kernel-tracked peak) is kept; the larger wins.
 *   A process that lives less than one sampling period may be missed. Null where there is no /proc.
 */
export async function runCommand<T = unknown>(ctx: CommandContext, options: RunCommandOptions<T>): Promise<CommandResult<T>> {
  const { command, args = [], killGraceMs = 5_000, tailLines = 20, maxLogLines = 1_000, sampleEveryMs = 100, killLeftovers = true } = options;
  if (!command) throw new ValidationError('runCommand: expected a command, found an empty string');
  const cwd = resolve(options.cwd ?? '.');
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) throw new NonRetriableError(`runCommand: cwd ${cwd}: expected a directory, found none`);
  const shown = [command, ...args].map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  if (ctx.signal?.aborted) throw abortReason(ctx.signal, shown);

  const resultPath = options.resultFile ? resolve(cwd, options.resultFile) : undefined;
  if (resultPath) await rm(resultPath, { force: true });

  const wrapped = existsSync(SHELL);
  // Passing the worker's environment through to the child is not reading configuration: the
  // child expects what a shell would give it (PATH, HOME, ...).
  const env = options.inheritEnv === false ? { ...options.env } : options.env ? { ...process.env, ...options.env } : undefined;
  const started = performance.now();
  const child = spawn(wrapped ? SHELL : command, wrapped ? ['-c', WRAPPER, command, ...args] : [...args], {
    cwd,
    env,
    detached: true, // setsid(): the child leads a new process group, pgid = pid
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', wrapped ? 'pipe' : 'ignore'],
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) {
    const error = await spawnError;
    throw new NonRetriableError(`runCommand: could not start ${shown} in ${cwd}: ${error.message}`, { cause: error });
  }

  if (options.input !== undefined) {
    child.stdin!.on('error', () => {}); // a command that does not read its stdin closes the pipe early
    child.stdin!.end(options.input);
  }

  const sampler = new ProcessGroupSampler(pid, wrapped ? new Set([pid]) : new Set());
  sampler.start(sampleEveryMs);

  let logged = 0;
  let notLogged = 0;
  const counts = { stdout: 0, stderr: 0 };
  const stderrTail = new Tail(tailLines);
  let lastJson: { value: unknown } | undefined;
  const emit = (stream: 'stdout' | 'stderr', line: string) => {
    counts[stream]++;
    if (stream === 'stderr') stderrTail.push(line);
    else {
      const t = line.trim();
      // Only objects and arrays count as a result: a progress line such as "42" is valid JSON too.
      if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
        try {
          lastJson = { value: JSON.parse(t) };
        } catch {
          // not JSON after all: an ordinary output line
        }
      }
    }
    if (logged >= maxLogLines) {
      notLogged++;
      return;
    }
    logged++;
    const msg = line.length > LOG_LINE_CHARS ? `${line.slice(0, LOG_LINE_CHARS)}… (${line.length} chars)` : line;
    if (stream === 'stdout') ctx.log.info(msg);
    else ctx.log.warn(msg);
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    const splitter = new LineSplitter();
    const readable = child[stream]!;
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => splitter.push(chunk).forEach((line) => emit(stream, line)));
    readable.on('end', () => splitter.end().forEach((line) => emit(stream, line)));
  }
  let times = '';
  if (wrapped) {
    const fd3 = child.stdio[3] as Readable;
    fd3.setEncoding('utf8');
    fd3.on('data', (chunk: string) => (times += chunk));
  }

  // Timeout and cancellation end the whole tree.
  let stopReason: Error | undefined;
  let terminated: Promise<boolean> | undefined;
  const stop = (reason: Error) => {
    if (stopReason) return;
    stopReason = reason;
    terminated = terminateGroup(pid, killGraceMs);
  };
  let ownTimeout = false;
  const timer = options.timeoutMs !== undefined
    ? setTimeout(() => {
        ownTimeout = true;
        stop(new TimeoutError(`command ${shown}`, options.timeoutMs!));
      }, options.timeoutMs)
    : undefined;
  const onAbort = () => stop(abortReason(ctx.signal!, shown));
  ctx.signal?.addEventListener('abort', onAbort, { once: true });

  const outcome = await Promise.race([exited, spawnError.then((error) => ({ error }))]);
  clearTimeout(timer);
  ctx.signal?.removeEventListener('abort', onAbort);
  const wallMs = Math.round(performance.now() - started);
  if ('error' in outcome) {
    await sampler.stop();
    throw new NonRetriableError(`runCommand: could not start ${shown} in ${cwd}: ${outcome.error.message}`, { cause: outcome.error });
  }
  // Whatever the command left behind in its group dies with it, unless asked otherwise.
  if (terminated) await terminated;
  else if (killLeftovers && (await groupAlive(pid))) {
    ctx.log.warn('the command left processes running in its group: terminating them', { pgid: pid });
    await terminateGroup(pid, killGraceMs);
  }
  // Pipes close when the last holder exits; a leftover that kept them open (killLeftovers: false) is not waited for.
  const closedInTime = await Promise.race([closed.then(() => true), sleep(1_000).then(() => false)]);
  if (!closedInTime) for (const s of [child.stdout, child.stderr, child.stdio[3]]) s?.destroy();
  const memory = await sampler.stop();
  if (notLogged > 0) ctx.log.warn(`${notLogged} more output lines not logged (maxLogLines ${maxLogLines})`);

  const tail = stderrTail.lines();
  const tailText = tail.length ? `; last ${tail.length === 1 ? "line" : `${tail.length} lines`} of stderr:\n${tail.join('\n')}` : '; stderr was empty';
  if (stopReason) {
    // Only our own timeout error is ours to annotate: an abort reason is shared with the step runner.
    if (stopReason instanceof TimeoutError && ownTimeout) stopReason.message += tailText;
    throw stopReason;
  }
  // The wrapper shell reports a command killed by signal n as exit code 128 + n.
  const code = outcome.code ?? 128 + (outcome.signal ? (constants.signals[outcome.signal] ?? 0) : 0);
  if (code !== 0) {
    const signalName = code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] : undefined;
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${code}${signalName ? ` (killed by ${signalName}?)` : ''}${code === 127 ? ' (command not found?)' : ''}`;
    const failed = new CommandFailedError(`command ${shown} ${how} (cwd ${cwd})${tailText}`, code, outcome.signal ?? signalName ?? null, tail);
    if (options.nonRetriableExitCodes?.includes(code)) throw new NonRetriableError(failed.message, { cause: failed });
    throw failed;
  }

  let result: unknown = lastJson ? lastJson.value : null;
  if (resultPath) {
    let text: string;
    try {
      text = await readFile(resultPath, 'utf8');
    } catch {
      throw new NonRetriableError(`runCommand: expected ${shown} to write its JSON result to ${resultPath}, found no file`);
    }
    try {
      result = JSON.parse(text);
    } catch (error) {
      throw new NonRetriableError(`runCommand: result file ${resultPath}: expected JSON, found ${JSON.stringify(text.slice(0, 80))}: ${(error as Error).message}`);
    }
  }
  if (options.resultSchema) {
    const parsed = options.resultSchema.safeParse(result);
    if (!parsed.success) {
      const issues = formatZodIssues(parsed.error, 'result');
      throw new ValidationError(`runCommand: result of ${shown} does not match its schema: ${issues.join('; ')}`, issues);
    }
    result = parsed.data;
  }
  return { result: result as T, exitCode: 0, pid, lines: counts, resources: { wallMs, ...parseTimes(times), ...memory } };
}

/** Parses the second line of `times` (children's user and system time), e.g. "0m1.890000s 0m0.010000s". */
export function parseTimes(text: string): Pick<ResourceUsage, 'cpuMs' | 'cpuUserMs' | 'cpuSystemMs'> {
  const line = text.trim().split('\n')[1] ?? '';
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
  if (parts.length !== 2 || parts.some((p) => !Number.isFinite(p))) return { cpuMs: null, cpuUserMs: null, cpuSystemMs: null };
  const [user, system] = parts.map((p) => Math.round(p));
  return { cpuMs: user + system, cpuUserMs: user, cpuSystemMs: system };
}

/** The signal's own reason (the step runner reports that one anyway), or a CancelledError. */
function abortReason(signal: AbortSignal, shown: string): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledError(`command ${shown}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
