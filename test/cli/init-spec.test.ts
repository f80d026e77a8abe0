/** `conveyor init --conveyor <from>`: what becomes the project's conveyor-mlops dependency, and what is refused before anything is written. */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaffoldProject } from '../../src/cli/scaffold.ts';

const work = mkdtempSync(join(tmpdir(), 'conveyor-init-spec-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
const spec = (from: string) => {
  const dir = join(work, `p${++n}`);
  const project = scaffoldProject(dir, { conveyorFrom: from });
  return { dir, spec: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['conveyor-mlops'] as string, project };
};

test('ranges, tags and npm/git specs are written as given; a tarball or package folder becomes a relative file: spec', (t) => {
  for (const from of ['0.1.0', '^0.1.0', 'latest', '1.0.0 - 2.0.0', 'npm:conveyor-mlops@0.1.0', 'github:org/conveyor', 'git+https://example.org/c.git']) t.is(spec(from).spec, from);
  const tarball = join(work, 'conveyor-mlops-0.1.0.tgz');
  writeFileSync(tarball, 'x');
  t.is(spec(tarball).spec, 'file:../conveyor-mlops-0.1.0.tgz');
  const folder = join(work, 'clone');
  mkdirSync(folder);
  writeFileSync(join(folder, 'package.json'), '{}');
  t.is(spec(folder).spec, 'file:../clone');
});

test('shell text, options, other files and empty values are refused with exit-2 errors, and no project folder is made', (t) => {
  const other = join(work, 'notatar.txt');
  writeFileSync(other, 'x');
  // Before: each of these was written into package.json as it stood (npm install failed later).
  for (const from of ['; rm -rf /', '$(touch x)', '--help', '-', other, work, '', './missing-0.1.0.tgz']) {
    const dir = join(work, `refused${++n}`);
    const error = t.throws(() => scaffoldProject(dir, { conveyorFrom: from }), undefined, JSON.stringify(from));
    t.is((error as { code?: string }).code, 'CONFIG', JSON.stringify(from));
    t.false(existsSync(dir), `nothing written for ${JSON.stringify(from)}`);
  }
});

test('the scaffolded project: `npm test` runs every test file, and its compose API needs a real token from the environment', (t) => {
  const dir = join(work, 'scaffold-check');
  scaffoldProject(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // A second test file (a user's own pipeline) must run too, not only the example's.
  t.regex(pkg.scripts.test, /--test test\/\*\.test\.ts$/);
  const compose = readFileSync(join(dir, 'compose.yaml'), 'utf8');
  // A placeholder token makes `conveyor serve` exit 2 ("a placeholder, not a secret"): compose must ask for one.
  t.regex(compose, /CONVEYOR_API_TOKEN: \$\{CONVEYOR_API_TOKEN:\?/);
  t.notRegex(compose, /change-me/);
});
