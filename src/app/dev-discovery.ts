import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors/conveyor-error.ts';

/**
 * `conveyor dev` runs a private Redis on a free port and writes its URL here, so other commands in
 * the same project (`conveyor run`, `status`...) find it when REDIS_URL is not set. The file is also
 * the lock that keeps a second `conveyor dev` from starting in the same folder.
 */
export function devStatePath(dataDir: string): string {
  return join(dataDir, 'dev.json');
}

export interface DevState {
  pid: number;
  /** Absent while the dev process is still starting. */
  redisUrl?: string;
  apiUrl?: string;
}

export type DevStateFound =
  | { status: 'none' }
  | { status: 'running'; state: DevState }
  /** The file named a process that is gone (killed, crashed): it has just been removed. */
  | { status: 'stale'; pid: number };

/** What `.conveyor/dev.json` says, after checking that its process still runs (stale files are removed). */
export function inspectDevState(dataDir: string): DevStateFound {
  const path = devStatePath(dataDir);
  if (!existsSync(path)) return { status: 'none' };
  let state: DevState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as DevState;
  } catch {
    rmSync(path, { force: true }); // unreadable (half-written by a killed process)
    return { status: 'stale', pid: 0 };
  }
  if (processAlive(state.pid)) return { status: 'running', state };
  rmSync(path, { force: true });
  return { status: 'stale', pid: state.pid };
}

/** The Redis of a `conveyor dev` running in this project, if one is up. */
export function readDevState(dataDir: string): (DevState & { redisUrl: string }) | undefined {
  const found = inspectDevState(dataDir);
  return found.status === 'running' && found.state.redisUrl ? (found.state as DevState & { redisUrl: string }) : undefined;
}

/**
 * Claims the folder for this `conveyor dev` process: refuses when another one is running, removes
 * the file of one that died. The exclusive create (`wx`) settles two starts racing each other.
 */
export function claimDevState(dataDir: string, pid = process.pid): { removedStalePid?: number } {
  const found = inspectDevState(dataDir);
  if (found.status === 'running') throw alreadyRunning(found.state);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(devStatePath(dataDir), JSON.stringify({ pid }), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = inspectDevState(dataDir);
    throw alreadyRunning(winner.status === 'running' ? winner.state : { pid: 0 });
  }
  return found.status === 'stale' ? { removedStalePid: found.pid } : {};
}

function alreadyRunning(state: DevState): ConfigError {
  return new ConfigError(
    `conveyor dev is already running in this folder (pid ${state.pid}, UI ${state.apiUrl ?? 'starting'}); ` +
      'stop it first, or use it: other commands here find its Redis',
  );
}

/** Records the Redis and UI of the claiming process (atomically: readers never see half a file). */
export function writeDevState(dataDir: string, state: DevState & { redisUrl: string }): void {
  mkdirSync(dataDir, { recursive: true });
  const temp = `${devStatePath(dataDir)}.${state.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state, null, 2));
  renameSync(temp, devStatePath(dataDir));
}

/** Removes the state file, only if it is this process's (never another dev's). */
export function clearDevState(dataDir: string, pid = process.pid): void {
  const found = inspectDevState(dataDir);
  if (found.status === 'running' && found.state.pid === pid) rmSync(devStatePath(dataDir), { force: true });
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}
