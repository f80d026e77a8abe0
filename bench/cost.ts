import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { round } from './stats.ts';
import { readScriptSource, resolveIncludes } from '../src/redis/lua-scripts.ts';

/** Commands the bench itself sends to read figures; never counted. */
const BENCH_COMMANDS = new Set(['info', 'config', 'memory', 'monitor', 'ping', 'select', 'client', 'hello']);

export interface CostFigures {
  steps: number;
  /** Every command Redis executed (inside scripts and MULTI too), per step: INFO commandstats delta. */
  commandsPerStep: number;
  /** Requests clients sent (a script call or a MULTI…EXEC block counts once), per step: from MONITOR. */
  roundTripsPerStep: number;
  /** used_memory delta from before the trigger to after the run finished (before retention), per step. */
  bytesPerStep: number;
  /** MEMORY USAGE of the run's own keys (record, snapshot, step hashes), per step: the rest is BullMQ's. */
  runStateBytesPerStep: number;
  /** Top-level requests per step by command (scripts by their first KEYS-less name: evalsha). */
  requestsByCommand: Record<string, number>;
  /** Every command executed per step by name (inside scripts too), largest first: where commandsPerStep goes. */
  commandsByName: Record<string, number>;
}

function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) calls.set(m[1], Number(m[2]));
  }
  return calls;
}

function usedMemory(info: string): number {
  const m = /^used_memory:(\d+)/m.exec(info);
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * SHA1 of each Conveyor script as Redis runs it → its name, to name EVALSHA requests. ioredis sends
 * the SHA1 of the text it was given, which is the file with its `--- @include`s resolved: hashing
 * the file alone named every script with includes as BullMQ's.
 */
const CONVEYOR_SCRIPTS = (() => {
  const dir = fileURLToPath(new URL('../src/redis/lua/', import.meta.url));
  const names: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
    const lua = resolveIncludes(file, readScriptSource(file).text);
    names[createHash('sha1').update(lua).digest('hex')] = file.replace(/\.lua$/, '');
  }
  return names;
})();

/** A request's display name: scripts are named by whose keys they touch (Conveyor's run keys or BullMQ's). */
function requestName(args: string[]): string {
  const cmd = String(args[0] ?? '').toLowerCase();
  if (cmd !== 'evalsha' && cmd !== 'eval') return cmd;
  const name = CONVEYOR_SCRIPTS[String(args[1])];
  return name ? `${cmd}:${name}` : `${cmd}:bullmq/${args[2]}keys`;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the workload twice. Pass 1, plain: `INFO commandstats` and `INFO memory` deltas. Pass 2 under
 * MONITOR (which slows Redis, so it is never a timed run): every request a client sent is classified —
 * lines from `lua` are commands inside a script (not a round trip), commands between a client's MULTI
 * and EXEC travel with it (one request). Pipelining can put several requests in one network round trip,
 * so this count is an upper bound on round trips.
 */
export async function measureCost(url: string, steps: number, run: () => Promise<string>, runKeys: (runId: string) => string[]): Promise<CostFigures> {
  const admin = new Redis(url);
  try {
    await admin.config('RESETSTAT');
    const mem0 = usedMemory(await admin.info('memory'));
    const runId = await run();
    await settle(300); // let the last job's own completion (after the run-finished event) land
    const mem1 = usedMemory(await admin.info('memory'));
    let runStateBytes = 0;
    for (const key of runKeys(runId)) runStateBytes += Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
    const stats = parseCommandStats(await admin.info('commandstats'));
    let commands = 0;
    const commandsByName: Record<string, number> = {};
    for (const [name, calls] of [...stats].sort((a, b) => b[1] - a[1])) {
      if (BENCH_COMMANDS.has(name.split('|')[0])) continue;
      commands += calls;
      commandsByName[name] = round(calls / steps, 2);
    }

    const monitor = await admin.duplicate().monitor();
    const inMulti = new Set<string>();
    const byCommand = new Map<string, number>();
    let requests = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const cmd = requestName(args);
      if (source === 'lua' || BENCH_COMMANDS.has(cmd)) return;
      if (inMulti.has(source)) {
        if (cmd === 'exec' || cmd === 'discard') inMulti.delete(source);
        return;
      }
      if (cmd === 'multi') inMulti.add(source);
      if (cmd === 'exec' || cmd === 'discard') return; // a stray EXEC after a MULTI already counted
      requests++;
      byCommand.set(cmd, (byCommand.get(cmd) ?? 0) + 1);
    });
    await settle(50);
    await run();
    await settle(300);
    monitor.disconnect();
    const requestsByCommand: Record<string, number> = {};
    for (const [cmd, n] of [...byCommand].sort((a, b) => b[1] - a[1])) requestsByCommand[cmd] = round(n / steps, 3);
    return {
      steps,
      commandsPerStep: round(commands / steps, 2),
      roundTripsPerStep: round(requests / steps, 2),
      bytesPerStep: Math.round((mem1 - mem0) / steps),
      runStateBytesPerStep: Math.round(runStateBytes / steps),
      requestsByCommand,
      commandsByName,
    };
  } finally {
    admin.disconnect();
  }
}
