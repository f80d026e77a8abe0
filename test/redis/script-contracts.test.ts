import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { includesOf, readScriptSource, resolveIncludes } from '../../src/redis/lua-scripts.ts';
import { RUN_SCRIPTS, SCRIPT_REPLIES, scriptReason, type ScriptName } from '../../src/redis/scripts.ts';
import { isConveyorError } from '../../src/errors/conveyor-error.ts';

/**
 * The Lua scripts' contract headers are the one description of each script: the number of KEYS is
 * read from them, the reply table in scripts.ts must list exactly the codes they document, every
 * `--- @include` resolves, and no block of code is copied between scripts (it goes in an include).
 */

const LUA = join(import.meta.dirname, '..', '..', 'src', 'redis', 'lua');
const scripts = readdirSync(LUA).filter((f) => f.endsWith('.lua'));
const includes = readdirSync(join(LUA, 'includes')).filter((f) => f.endsWith('.lua'));

test('every script declares its KEYS in its header and uses no other', (t) => {
  for (const file of scripts) {
    const source = readScriptSource(file);
    const body = resolveIncludes(file, source.text).slice(source.header.length);
    const used = [...body.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
    const declared = [...source.header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
    t.true(source.keys > 0, `${file}: the header declares no KEYS[n]`);
    t.deepEqual([...new Set(declared)].sort((a, b) => a - b), Array.from({ length: source.keys }, (_, i) => i + 1), `${file}: KEYS[1..${source.keys}] declared without gaps`);
    t.true(used.every((n) => n <= source.keys), `${file}: uses KEYS[${Math.max(...used)}] but its header declares ${source.keys}`);
  }
});

test('every include resolves, every include file is used, and none is left unresolved', (t) => {
  const used = new Set<string>();
  for (const file of scripts) {
    const text = readScriptSource(file).text;
    for (const name of includesOf(text)) used.add(`${name}.lua`);
    const lua = resolveIncludes(file, text);
    t.false(/@include/.test(lua), `${file}: an include is left unresolved`);
  }
  t.deepEqual([...used].sort(), [...includes].sort(), 'include files that no script uses, or includes without a file');
  t.throws(() => resolveIncludes('x.lua', '--- @include "no-such-snippet"\n'), { message: /x\.lua: --- @include "no-such-snippet": expected src\/redis\/lua\/includes\/no-such-snippet\.lua/ });
});

test('no block of 4 code lines is copied between scripts or includes (shared code goes in an include)', (t) => {
  // Lines that say nothing on their own ('end', 'else', a lone return) do not start or make a copy.
  const trivial = /^(end\)?|else|return reply|local reply = \{ 1 \}|for i = 1, #ready do reply\[#reply \+ 1\] = ready\[i\] end)?$/;
  const seen = new Map<string, string>();
  const copies: string[] = [];
  for (const file of [...scripts, ...includes.map((f) => `includes/${f}`)]) {
    const text = readFileSync(join(LUA, file), 'utf8').replace(/^--\[\[[\s\S]*?\]\]/, '');
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('--') && !trivial.test(l));
    for (let i = 0; i + 4 <= lines.length; i++) {
      const block = lines.slice(i, i + 4).join('\n');
      const other = seen.get(block);
      if (other && other !== file) copies.push(`${file} repeats ${other}:\n${block}`);
      else seen.set(block, file);
    }
  }
  t.deepEqual(copies, []);
});

test('the reply table of each run script lists exactly the error codes its header documents', (t) => {
  for (const [name, file] of Object.entries(RUN_SCRIPTS) as Array<[ScriptName, string]>) {
    const header = readScriptSource(file).header;
    const errors = header.slice(header.search(/Errors?:/) >= 0 ? header.search(/Errors?:/) : header.length);
    const documented = [...new Set([...errors.matchAll(/(^|\s)(-\d+)\b/g)].map((m) => Number(m[2])))].sort();
    const mapped = Object.keys(SCRIPT_REPLIES[name]).map(Number).sort();
    t.deepEqual(mapped, documented, `${file}: codes in its header vs SCRIPT_REPLIES.${name}`);
  }
});

test('a code a script does not return is an error, never a reason', (t) => {
  const error = t.throws(() => scriptReason('stepComplete', -42, { runId: 'r1', step: 'train', action: 'complete' }));
  t.true(isConveyorError(error) && error.code === 'INTERNAL');
  t.regex(error!.message, /run r1 step "train": complete: step-complete\.lua returned code -42; expected 1 or one of its listed codes \(-1, -2, -3, -4, -5\)|listed codes/);
  // -6 exists (run-cancel's "already finished") but step-start never returns it.
  t.throws(() => scriptReason('stepStart', -6, { runId: 'r1', action: 'start' }), { message: /step-start\.lua returned code -6/ });
  t.is(scriptReason('stepStart', -8, { runId: 'r1', action: 'start' }), 'wrong-version');
  t.throws(() => scriptReason('runCancel', -6, { runId: 'r1', action: 'cancel' }), { message: /cannot cancel: the run has already finished/ });
});
