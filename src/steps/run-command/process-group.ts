import { existsSync } from 'node:fs';
import { processGroupMembers } from '../resources.ts';

const HAS_PROC = existsSync('/proc/self/stat');

/** Sends a signal to every process of a group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw error;
  }
}

/**
 * Whether any live process is left in the group. With /proc, zombies do not count (an orphaned
 * grandchild that PID 1 has not reaped yet is dead); without it, `kill(-pgid, 0)` is the best test.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (HAS_PROC) return (await processGroupMembers(pgid)).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a whole process group: SIGTERM, then SIGKILL for whatever is still alive after `graceMs`.
 * Resolves once no live process is left (or, if something survives even SIGKILL — a process stuck
 * in uninterruptible I/O — after a further 5 s, with `false`).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<boolean> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return true;
  signalGroup(pgid, 'SIGKILL');
  return waitGone(pgid, 5_000);
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!(await groupAlive(pgid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
  }
}
