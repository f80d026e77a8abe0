/**
 * Conveyor as a team installs it: `npm pack` → `conveyor init` in a folder outside this repository
 * → `npm install` of the tarball (dependencies from the registry or npm's cache) → `validate` with
 * its type check → the scaffold's own `npm test` → `conveyor dev --run` end to end, with the
 * one-dev-per-folder lock seen from a second `conveyor dev`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import test from 'ava';
import { freePort } from '../helpers/redis-server.ts';

const REPO = resolve('.');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without this repository's or the caller's Conveyor settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key === 'REDIS_URL' || key.startsWith('CONVEYOR_') || key.startsWith('npm_')) delete env[key];
  return env;
}

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', fail);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'conveyor-package-'));
const project = join(work, 'team-pipelines');
const conveyor = (args: string[], timeoutMs?: number) => run(join(project, 'node_modules/.bin/conveyor'), args, project, timeoutMs);
let dev: ChildProcess | undefined;

test.after.always(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev!.once('exit', r));
    dev.kill('SIGKILL');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

let tarball = '';

test.serial('npm pack: compiled JavaScript, declarations, run-time files; no sources or tests', async (t) => {
  const packed = await run(NPM, ['pack', '--pack-destination', work, '--json'], REPO);
  t.is(packed.code, 0, packed.stderr);
  const [{ filename, files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  for (const expected of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.d.ts', 'dist/cli/bin.js', 'dist/redis/lua/run-trigger.lua', 'dist/api/ui/index.html', 'bin/conveyor.js', 'templates/project/gitignore', 'LICENSE', 'CHANGELOG.md']) {
    t.true(paths.includes(expected), `tarball has ${expected}`);
  }
  t.false(paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.endsWith('.tsbuildinfo')), 'no sources, tests or build state in the tarball');
  tarball = join(work, filename);
});

test.serial('conveyor init outside the repository, then npm install of the tarball: no engine or install-script warnings', async (t) => {
  // As the README says: the scaffold takes conveyor-mlops from the tarball (`--conveyor`), written
  // as a file: path relative to the project, and the default (no flag) is this version's range.
  const init = await run(process.execPath, [join(REPO, 'bin/conveyor.js'), 'init', project, '--conveyor', tarball], work);
  t.is(init.code, 0, init.stderr);
  t.regex(init.stdout, /npm install && npx conveyor dev --run example-training/);
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  t.is(manifest.dependencies['conveyor-mlops'], `file:${relative(project, tarball)}`);
  const byDefault = await run(process.execPath, [join(REPO, 'bin/conveyor.js'), 'init', join(work, 'default-spec')], work);
  t.is(byDefault.code, 0, byDefault.stderr);
  t.is(JSON.parse(readFileSync(join(work, 'default-spec', 'package.json'), 'utf8')).dependencies['conveyor-mlops'], `^${JSON.parse(readFileSync('package.json', 'utf8')).version}`);
  const missing = await run(process.execPath, [join(REPO, 'bin/conveyor.js'), 'init', join(work, 'missing-spec'), '--conveyor', './nope-0.1.0.tgz'], work);
  t.is(missing.code, 2, 'a tarball that is not there is bad input');
  t.regex(missing.stderr, /nope-0\.1\.0\.tgz does not exist/);

  const install = await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline'], project, 300_000);
  t.is(install.code, 0, install.stderr);
  t.notRegex(install.stderr, /install-scripts|not yet covered by allowScripts/, 'no unreviewed install scripts');
  if (Number(process.versions.node.split('.')[0]) >= 22) t.notRegex(install.stderr, /EBADENGINE/, 'no engine warnings on a supported Node');
});

// One type check per test (each is a tsc program over the pipelines and their imports).
test.serial('validate type-checks the scaffold with the project\'s tsconfig and passes', async (t) => {
  const ok = await conveyor(['validate', '--json']);
  t.is(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
  t.deepEqual(JSON.parse(ok.stdout).typecheck, { status: 'checked' });
});

const typos = join(project, 'pipelines/typos.ts');

test.serial('validate --json: a wrong upstream field, params type or needs entry is a TYPE error at file:line:column', async (t) => {
  writeFileSync(
    typos,
    [
      "import { z } from 'zod';",
      "import { definePipeline } from 'conveyor-mlops';",
      "export default definePipeline({ id: 'typos', params: z.object({ rows: z.number().default(1) }) })",
      "  .step('extract', async () => ({ rows: [1, 2] }))",
      "  .step('count', { needs: ['extract'] }, async ({ upstream }) => upstream.extract.rowz.length)",
      "  .step('shout', { needs: ['extract'] }, async ({ params }) => params.rows.toUpperCase())",
      "  .step('lost', { needs: ['extrakt'] }, async () => 1);",
      '',
    ].join('\n'),
  );
  const failed = await conveyor(['validate', '--json']);
  t.is(failed.code, 2); // bad input (README: validate exits 2 when a file has problems)
  const errors = (JSON.parse(failed.stdout).errors as { file: string; line?: number; column?: number; code: string; message: string }[]).filter((e) => e.code === 'TYPE');
  // upstream field, params type, needs entry: one error each, at its expression
  t.deepEqual(errors.map((e) => [e.file, e.line]), [['pipelines/typos.ts', 5], ['pipelines/typos.ts', 6], ['pipelines/typos.ts', 7]]);
  t.deepEqual(errors.slice(0, 2).map((e) => e.column), [83, 76]);
  t.regex(errors[0].message, /^pipelines\/typos\.ts:5:83: TS\d+: Property 'rowz' does not exist/);
  t.regex(errors[2].message, /^pipelines\/typos\.ts:7:\d+: TS\d+: Type '"extrakt"' is not assignable/);
});

test.serial('validate (text) prints the same errors at file:line:column; --no-typecheck skips the check', async (t) => {
  const text = await conveyor(['validate']);
  t.is(text.code, 2);
  t.regex(text.stderr, /✗ pipelines\/typos\.ts:5:83: TS\d+: Property 'rowz'/);
  t.regex(text.stderr, /✗ pipelines\/typos\.ts:6:76: TS\d+: Property 'toUpperCase' does not exist on type 'number'/);
  const skipped = await conveyor(['validate', '--no-typecheck', '--json']);
  t.deepEqual(JSON.parse(skipped.stdout).typecheck, { status: 'skipped', reason: '--no-typecheck' });
  t.false(JSON.parse(skipped.stdout).errors.some((e: { code: string }) => e.code === 'TYPE'));
  rmSync(typos);
});

test.serial('the scaffold\'s own npm test passes', async (t) => {
  const tested = await run(NPM, ['test'], project);
  t.is(tested.code, 0, `${tested.stdout}\n${tested.stderr}`);
  t.regex(tested.stdout, /\bpass 2\b/); // TAP ("# pass 2") or spec ("ℹ pass 2") reporter, by Node version
});

test.serial('conveyor dev --run example-training: the run succeeds (train retried), one dev per folder, other commands use its Redis', async (t) => {
  const port = await freePort();
  dev = spawn(join(project, 'node_modules/.bin/conveyor'), ['dev', '--run', 'example-training', '--port', String(port)], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  dev.stderr!.on('data', (d: Buffer) => (stderr += d));
  const finished = new Promise<void>((done, fail) => {
    dev!.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      if (/open the run in the UI: /.test(stdout)) done();
    });
    dev!.once('exit', (code) => fail(new Error(`conveyor dev exited (${code}) before the run finished\n${stdout}\n${stderr}`)));
  });
  await finished;
  t.regex(stdout, /succeeded/);
  t.regex(stderr, /train failed|attempt 2/, 'the retried step shows its retry');
  t.regex(stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/#/runs/`));

  const second = await conveyor(['dev']);
  t.is(second.code, 2);
  t.regex(second.stderr, new RegExp(`already running in this folder \\(pid ${dev.pid}, UI http://127\\.0\\.0\\.1:${port}\\)`));

  const runs = await conveyor(['runs', '--json']);
  t.is(runs.code, 0, runs.stderr);
  t.is(JSON.parse(runs.stdout)[0].status, 'succeeded');
  t.regex(runs.stderr, new RegExp(`^using Redis redis://127\\.0\\.0\\.1:\\d+ \\(the conveyor dev running here \\(pid ${dev.pid}\\)\\)`));

  const exited = new Promise<number | null>((r) => dev!.once('exit', r));
  dev.kill('SIGINT');
  t.is(await exited, 0);
  t.false(existsSync(join(project, '.conveyor/dev.json')), 'dev removes its state file on exit');
});
