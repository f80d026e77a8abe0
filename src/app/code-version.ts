import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Specifiers of static imports, re-exports and dynamic imports with a literal path. */
const IMPORT_SPECIFIER = /(?:\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?|\bexport\s*[\w*{}\s,$]*\s*from\s*|\bimport\s*\(\s*)["']([^"']+)["']/g;
const EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs', '.tsx', '/index.ts', '/index.js'];

/**
 * The code version of a pipeline module: a hash of its source and of every local file it imports,
 * followed recursively. Only relative specifiers count: packages (node_modules) are the deployment's
 * business, and the DAG hash already covers the structure. 12 hex digits, like a short commit id.
 */
export function computeCodeVersion(entry: string): string {
  const root = dirname(resolve(entry));
  const seen = new Map<string, string>();
  const pending = [resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    seen.set(file, source);
    for (const match of source.matchAll(IMPORT_SPECIFIER)) {
      const specifier = match[1];
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      const target = resolveLocal(join(dirname(file), specifier));
      if (target && !target.includes(`${'/'}node_modules${'/'}`)) pending.push(target);
    }
  }
  const hash = createHash('sha256');
  for (const file of [...seen.keys()].sort()) hash.update(`${relative(root, file)}\0${seen.get(file)}\0`);
  return hash.digest('hex').slice(0, 12);
}

/** Resolves `./x`, `./x.js` (written for a `.ts` file, as TypeScript's ESM style wants) or `./x/index.ts`. */
function resolveLocal(base: string): string | undefined {
  const candidates = [...EXTENSIONS.map((ext) => base + ext), base.replace(/\.[mc]?js$/, '.ts'), base.replace(/\.[mc]?js$/, '.mts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}
