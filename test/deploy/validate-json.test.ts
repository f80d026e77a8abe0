import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const CONVEYOR = pathToFileURL(resolve('src/index.ts')).href;

interface ValidateJson {
  valid: boolean;
  pipelines: Array<{ id: string; file: string; dagHash: string }>;
  errors: Array<{ file: string; line?: number; column?: number; code: string; message: string }>;
}

let dir: string;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-validate-'));
  // A pipelines folder outside this repo needs its own ESM package marker, as a user's project has.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'good.ts'), `import { definePipeline } from '${CONVEYOR}';\nexport default definePipeline({ id: 'good' }).step('a', () => 1);\n`);
  writeFileSync(
    join(dir, 'syntax.ts'),
    `import { definePipeline } from '${CONVEYOR}';\n\nexport default definePipeline({ id: 'syntax' })\n  .step('a', async () => {\n    return { a: 1 \n  });\n`,
  );
  writeFileSync(join(dir, 'throws.ts'), `const settings = undefined as unknown as { path: string };\n\n\nconsole.log(settings.path);\nexport default 1;\n`);
  writeFileSync(
    join(dir, 'dup.ts'),
    `import { definePipeline } from '${CONVEYOR}';\nexport default definePipeline({ id: 'dup' })\n  .step('a', () => 1)\n  .step('a', () => 2);\n`,
  );
});

test.after.always(() => rmSync(dir, { recursive: true, force: true }));

async function validate(): Promise<{ code: number; json: ValidateJson }> {
  try {
    const { stdout } = await exec('node', ['bin/conveyor.js', 'validate', dir, '--json'], { timeout: 60_000 });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

test('validate --json: exit 2 (bad input), the good file still loads, each bad file has file, line, column and the reason', async (t) => {
  const { code, json } = await validate();
  t.is(code, 2);
  t.false(json.valid);
  t.deepEqual(json.pipelines.map((p) => p.id), ['good']);
  const byFile = Object.fromEntries(json.errors.map((e) => [e.file.split('/').pop(), e]));

  // `  });` — esbuild expected the object literal's ";"-less end: the ")" at line 6, column 4 (1-based).
  t.like(byFile['syntax.ts'], { code: 'SYNTAX', line: 6, column: 4 });
  t.regex(byFile['syntax.ts'].message, /syntax\.ts:6:4: Expected ";" but found "\)"/);

  // A TypeError thrown while importing: the line of the statement that threw (source-mapped).
  t.like(byFile['throws.ts'], { code: 'IMPORT', line: 4 });
  t.regex(byFile['throws.ts'].message, /throws\.ts: Cannot read properties of undefined \(reading 'path'\) \(at .*throws\.ts:4:\d+\)/);

  // A DSL error raised while the file is evaluated: the line of the offending `.step(...)` call.
  t.like(byFile['dup.ts'], { code: 'VALIDATION', line: 4 });
  t.regex(byFile['dup.ts'].message, /duplicate step "a"/);
});
