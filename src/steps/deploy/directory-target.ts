import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, readlink, rename, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConveyorError } from '../../errors/conveyor-error.ts';

/** Written into every release Conveyor makes; pruning removes only folders that carry it, naming themselves. */
export const RELEASE_MARKER = '.conveyor-release';

export interface DirectoryPublish {
  /** Serving folder; consumers read `<root>/current/` (a symlink to the live release). */
  root: string;
  releaseName: string;
  artifactPath: string;
  filename: string;
  manifest: Record<string, unknown>;
  /** Releases kept besides current and previous (default 0: only current and previous stay). */
  keepExtra?: number;
}

export interface DirectoryPublishResult {
  /** Absolute path of the new release directory. */
  release: string;
  /** Absolute path of the release that was live before (kept for rollback), or null. */
  previous: string | null;
}

/**
 * Publishes an artifact and its manifest.json atomically:
 *
 *   <root>/releases/<releaseName>/{<filename>, manifest.json}   one folder per deployment
 *   <root>/current  -> releases/<new>                            what serving reads
 *   <root>/previous -> releases/<old>                            kept for rollback
 *
 * The release is written into `<root>/.tmp-*` and renamed into `releases/` when complete; `current`
 * is then swapped by renaming a fresh symlink over it (rename replaces atomically on POSIX), so a
 * reader that resolves `current` once always sees a whole release: old or new, never a mix.
 */
export async function publishToDirectory(options: DirectoryPublish): Promise<DirectoryPublishResult> {
  const root = resolve(options.root);
  const releases = join(root, 'releases');
  await mkdir(releases, { recursive: true });
  const releasesInfo = await lstat(releases);
  if (!releasesInfo.isDirectory()) {
    throw new ConveyorError('CONFLICT', `deploy target ${root}: expected "releases" to be a folder made by Conveyor, found a ${releasesInfo.isSymbolicLink() ? 'symlink' : 'file'}; nothing was written`, { root });
  }
  const nonce = randomBytes(6).toString('hex');
  const tmp = join(root, `.tmp-${nonce}`);
  const release = join(releases, options.releaseName);
  try {
    await mkdir(tmp);
    await copyFile(options.artifactPath, join(tmp, options.filename));
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(options.manifest, null, 2)}\n`);
    await writeFile(join(tmp, RELEASE_MARKER), `${JSON.stringify({ release: options.releaseName, writtenBy: 'conveyor' })}\n`);
    await syncFile(join(tmp, options.filename));
    await syncFile(join(tmp, 'manifest.json'));
    await rename(tmp, release);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }

  const currentLink = join(root, 'current');
  const oldTarget = await linkTarget(currentLink, root);
  await swapLink(root, currentLink, join('releases', options.releaseName), nonce);
  if (oldTarget) await swapLink(root, join(root, 'previous'), oldTarget, nonce);
  await prune(releases, root, options.keepExtra ?? 0);
  return { release, previous: oldTarget ? join(root, oldTarget) : null };
}

/** The relative target of a symlink at `path`, undefined when absent; a real directory there is an error. */
async function linkTarget(path: string, root: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isSymbolicLink()) {
    throw new ConveyorError('CONFLICT', `deploy target ${root}: expected "current" to be a symlink made by Conveyor, found a ${info.isDirectory() ? 'directory' : 'file'}; move it away first`, { root });
  }
  return readlink(path);
}

async function swapLink(root: string, path: string, target: string, nonce: string): Promise<void> {
  const tmpLink = join(root, `.link-${nonce}`);
  await rm(tmpLink, { force: true });
  await symlink(target, tmpLink);
  await rename(tmpLink, path);
}

/**
 * Removes releases that are neither current nor previous (beyond `keepExtra` of the newest others).
 * Only folders Conveyor wrote (their marker names them) are candidates: anything else someone put
 * into `releases/` — files, symlinks, foreign folders — stays.
 */
async function prune(releases: string, root: string, keepExtra: number): Promise<void> {
  const live = new Set<string>();
  for (const link of ['current', 'previous']) {
    const target = await readlink(join(root, link)).catch(() => undefined);
    if (target) live.add(resolve(root, target));
  }
  const ours: string[] = [];
  for (const name of await readdir(releases)) if (await isOurRelease(releases, name)) ours.push(name);
  const others = ours.map((name) => join(releases, name)).filter((path) => !live.has(path));
  // Release names start with a sortable timestamp: keep the newest `keepExtra`.
  others.sort();
  for (const path of others.slice(0, Math.max(0, others.length - keepExtra))) await rm(path, { recursive: true, force: true });
}

async function isOurRelease(releases: string, name: string): Promise<boolean> {
  const info = await lstat(join(releases, name)).catch(() => undefined);
  if (!info?.isDirectory()) return false;
  try {
    const marker = JSON.parse(await readFile(join(releases, name, RELEASE_MARKER), 'utf8')) as { release?: unknown };
    return marker.release === name;
  } catch {
    return false;
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
