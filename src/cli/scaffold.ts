import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors/index.ts';

/** templates/project/ of this package (the same depth from src/cli/ and dist/cli/). */
const TEMPLATE = fileURLToPath(new URL('../../templates/project/', import.meta.url));
const OWN_PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));

interface OwnPackage {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

/** npm drops `.gitignore` from published tarballs, so the template keeps it as `gitignore`. */
const RENAMED: Record<string, string> = { gitignore: '.gitignore' };

/** The files `conveyor init` writes, relative to the project folder. */
export function scaffoldFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(TEMPLATE, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, RENAMED[e.name] ?? e.name)]));
  return [...walk(''), 'package.json'].sort();
}

/**
 * Writes a new project into `dir`: the template plus a package.json that depends on this version of
 * Conveyor and the versions of zod and tsx it was tested with. Refuses to overwrite any file.
 */
export function scaffoldProject(dir: string, options: { conveyorFrom?: string } = {}): { dir: string; name: string; files: string[]; conveyorSpec: string } {
  const target = resolve(dir);
  const conveyorSpec = options.conveyorFrom === undefined ? undefined : dependencySpec(options.conveyorFrom, target);
  const files = scaffoldFiles();
  const existing = files.filter((f) => existsSync(join(target, f)));
  if (existing.length > 0) throw new ConfigError(`conveyor init: ${relative(process.cwd(), target) || '.'} already has ${existing.join(', ')}; choose an empty folder`);
  const name = basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'pipelines';
  mkdirSync(target, { recursive: true });
  cpSync(TEMPLATE, target, { recursive: true });
  for (const [from, to] of Object.entries(RENAMED)) if (existsSync(join(target, from))) renameSync(join(target, from), join(target, to));
  const readme = join(target, 'README.md');
  writeFileSync(readme, readFileSync(readme, 'utf8').replaceAll('{{name}}', name));
  const manifest = projectPackage(name, conveyorSpec);
  writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: target, name, files, conveyorSpec: manifest.dependencies[ownPackage().name] };
}

const ownPackage = (): OwnPackage => JSON.parse(readFileSync(OWN_PACKAGE, 'utf8')) as OwnPackage;

/** Specs taken as npm writes them: a version range or tag, or an `npm:`, `git+https:`, `git+ssh:`, `github:` or `https:` spec. */
const REGISTRY_SPEC = /^(?:[0-9A-Za-z.^~<>=|*+ -]*[0-9A-Za-z*](?<!^-.*)|(?:npm|github|git\+https|git\+ssh|https):[\x21-\x7e]+)$/;

/**
 * `--conveyor <from>` as a package.json dependency spec: a tarball or folder that exists becomes
 * `file:` relative to the new project (so the project can move with its neighbour); anything else
 * is taken as npm writes it (a version range, `npm:`, `git+https:`…). Until the package is on the
 * registry, a tarball from `npm pack` is how a team installs it.
 */
function dependencySpec(from: string, target: string): string {
  if (from.trim() === '') throw new ConfigError('conveyor init --conveyor: expected a version range, a tarball or a folder, found an empty value');
  const local = resolve(from);
  if (!existsSync(local)) {
    if (/^(\.{0,2}\/|\/)|\.t(ar\.)?gz$/.test(from)) throw new ConfigError(`conveyor init --conveyor: ${from} does not exist (expected the tarball from \`npm pack\` or a folder)`);
    if (!REGISTRY_SPEC.test(from)) {
      throw new ConfigError(`conveyor init --conveyor: expected a version range (0.1.0, ^0.1.0), npm:/git+https:/github: spec, a tarball or a folder, found ${JSON.stringify(from.slice(0, 80))}`);
    }
    return from;
  }
  const isTarball = /\.t(ar\.)?gz$/.test(local) && statSync(local).isFile();
  const isPackageDir = statSync(local).isDirectory() && existsSync(join(local, 'package.json'));
  if (!isTarball && !isPackageDir) {
    throw new ConfigError(`conveyor init --conveyor: ${from} is neither a .tgz tarball (from \`npm pack\`) nor a folder with a package.json`);
  }
  const path = relative(target, local) || '.';
  return `file:${path.startsWith('.') ? path : `./${path}`}`;
}

function projectPackage(name: string, conveyorSpec: string | undefined) {
  const own = ownPackage();
  return {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      dev: 'conveyor dev',
      validate: 'conveyor validate',
      // Every test file of the project (the shell expands the pattern), not only the example's.
      test: 'node --import tsx --test test/*.test.ts',
    },
    dependencies: {
      [own.name]: conveyorSpec ?? `^${own.version}`,
      zod: own.dependencies.zod,
    },
    // Install scripts of Conveyor's dependencies that are not needed (prebuilt binaries come as
    // optional dependencies): reviewed and denied, so npm neither runs them nor warns about them.
    allowScripts: own.allowScripts,
    devDependencies: {
      '@types/node': '^22.0.0',
      tsx: own.dependencies.tsx,
      typescript: `^${own.devDependencies?.typescript ?? '5.9'}`,
    },
  };
}
