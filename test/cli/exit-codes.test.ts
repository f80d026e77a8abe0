/**
 * README's exit-code table and every command's `--help` say the same as the one table in code
 * (src/cli/exit-codes.ts), for every command of the command table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { COMMANDS } from '../../src/cli/command-table.ts';
import { COMMAND_EXIT_CODES, PROGRAM_EXIT_CODES, exitCodesHelp } from '../../src/cli/exit-codes.ts';
import { ROOT, runCli } from '../fixtures/procs.ts';

const names = COMMANDS.map(([name]) => name);

/** README rows `| \`<command>\` | <0> | <1> | <2> |` of the table under the `| command | 0 | 1 | 2 |` header. */
function readmeTable(): Map<string, [string, string, string]> {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const start = lines.indexOf('| command | 0 | 1 | 2 |');
  if (start < 0) throw new Error('README.md: no exit-code table (header "| command | 0 | 1 | 2 |")');
  const rows = new Map<string, [string, string, string]>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    rows.set(cells[0]!.replace(/`/g, ''), [cells[1]!, cells[2]!, cells[3]!]);
  }
  return rows;
}

test('the code table has a row for exactly the commands of the command table', (t) => {
  t.deepEqual(Object.keys(COMMAND_EXIT_CODES), names);
});

test("README's exit-code table equals the code table, row by row", (t) => {
  const readme = readmeTable();
  t.deepEqual([...readme.keys()], names);
  for (const name of names) {
    const codes = COMMAND_EXIT_CODES[name]!;
    t.deepEqual(readme.get(name), [codes[0], codes[1], codes[2]], `README row of ${name}`);
  }
});

test('every command prints its exit codes in --help (subcommands their parent’s); the program its general ones', async (t) => {
  const program = await runCli(['--help'], {});
  t.is(program.code, 0, program.stderr);
  t.true(program.stdout.includes(exitCodesHelp(PROGRAM_EXIT_CODES)), program.stdout);
  const calls = [...names.map((name) => [name]), ['models', 'promote'], ['schedules', 'pause']];
  // A few at a time: each is a node process, and the machine is shared.
  for (let i = 0; i < calls.length; i += 4) {
    const batch = calls.slice(i, i + 4);
    const results = await Promise.all(batch.map((args) => runCli([...args, '--help'], {})));
    results.forEach((r, j) => {
      const args = batch[j]!;
      t.is(r.code, 0, `conveyor ${args.join(' ')} --help: ${r.stderr}`);
      t.true(r.stdout.includes(exitCodesHelp(COMMAND_EXIT_CODES[args[0]!]!)), `conveyor ${args.join(' ')} --help:\n${r.stdout}`);
    });
  }
});
