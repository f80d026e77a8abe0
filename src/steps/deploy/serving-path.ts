import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ValidationError } from '../../errors/conveyor-error.ts';

/**
 * Where a directory deploy may write: a folder inside the configured deploy root (CONVEYOR_DEPLOY_ROOT),
 * named by the run (`name: 'churn'`) or given as a path inside the root. Anything that resolves
 * outside — `..`, an absolute path elsewhere, a symlink pointing out — is refused before anything is
 * written, moved or deleted.
 */
export async function resolveServingDir(root: string, choice: { name?: string; path?: string }): Promise<string> {
  const rootReal = await realpath(resolve(root)).catch(() => resolve(root));
  const asked = choice.name ?? choice.path ?? '';
  const target = isAbsolute(asked) ? resolve(asked) : resolve(rootReal, asked);
  // The deepest part of the target that exists, with symlinks resolved: a link may not lead out.
  const real = await realExisting(target);
  if (!isInside(rootReal, target) || !isInside(rootReal, real) || real === rootReal) {
    throw new ValidationError(
      `deploy: target "${asked}" resolves to ${real}, which is not a folder inside the deploy root ${rootReal} (CONVEYOR_DEPLOY_ROOT); nothing was written`,
    );
  }
  return target;
}

async function realExisting(path: string): Promise<string> {
  let current = path;
  let rest = '';
  for (;;) {
    try {
      return resolve(await realpath(current), rest);
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      rest = rest ? `${current.slice(parent.length + 1)}${sep}${rest}` : current.slice(parent.length + 1);
      current = parent;
    }
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
