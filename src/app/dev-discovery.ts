import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `conveyor dev` runs a private Redis on a free port and writes its URL here, so other commands in
 * the same project (`conveyor run`, `status`...) find it when REDIS_URL is not set.
 */
export function devStatePath(dataDir: string): string {
  return join(dataDir, 'dev.json');
}

export function writeDevState(dataDir: string, state: { redisUrl: string; apiUrl?: string; pid: number }): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(devStatePath(dataDir), JSON.stringify(state, null, 2));
}

export function readDevState(dataDir: string): { redisUrl: string; apiUrl?: string; pid: number } | undefined {
  const path = devStatePath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8'));
    process.kill(state.pid, 0); // throws when that dev process is gone
    return state;
  } catch {
    return undefined;
  }
}

export function clearDevState(dataDir: string): void {
  rmSync(devStatePath(dataDir), { force: true });
}
