import test from 'ava';
import { canonicalRule, decideTrigger, TRIGGER_RULES, type TriggerRule } from '../../src/dsl/trigger-rules.ts';

/** Two upstream steps, both finished: how each rule decides for each pair of outcomes. */
const done = (failed: number, skipped: number) => ({ total: 2, pending: 0, failed, skipped });
const verdict = (rule: TriggerRule, tally: ReturnType<typeof done>) => {
  const d = decideTrigger(rule, tally);
  return d === undefined ? 'wait' : d.run ? 'run' : d.byFailure ? 'x' : 'k';
};

test('every rule over every pair of finished upstream outcomes (succeeded / failed / skipped)', (t) => {
  const pairs = { 'ok+ok': done(0, 0), 'ok+fail': done(1, 0), 'ok+skip': done(0, 1), 'fail+fail': done(2, 0), 'fail+skip': done(1, 1), 'skip+skip': done(0, 2) };
  const table = Object.fromEntries(TRIGGER_RULES.map((rule) => [rule, Object.fromEntries(Object.entries(pairs).map(([k, v]) => [k, verdict(rule, v)]))]));
  t.deepEqual(table, {
    'all-succeeded': { 'ok+ok': 'run', 'ok+fail': 'x', 'ok+skip': 'k', 'fail+fail': 'x', 'fail+skip': 'x', 'skip+skip': 'k' },
    'all-done': { 'ok+ok': 'run', 'ok+fail': 'run', 'ok+skip': 'run', 'fail+fail': 'run', 'fail+skip': 'run', 'skip+skip': 'run' },
    'one-succeeded': { 'ok+ok': 'run', 'ok+fail': 'run', 'ok+skip': 'run', 'fail+fail': 'x', 'fail+skip': 'x', 'skip+skip': 'k' },
    'one-failed': { 'ok+ok': 'k', 'ok+fail': 'run', 'ok+skip': 'k', 'fail+fail': 'run', 'fail+skip': 'run', 'skip+skip': 'k' },
    'none-failed': { 'ok+ok': 'run', 'ok+fail': 'x', 'ok+skip': 'run', 'fail+fail': 'x', 'fail+skip': 'x', 'skip+skip': 'run' },
    'none-failed-min-one-succeeded': { 'ok+ok': 'run', 'ok+fail': 'x', 'ok+skip': 'run', 'fail+fail': 'x', 'fail+skip': 'x', 'skip+skip': 'k' },
    'all-failed': { 'ok+ok': 'k', 'ok+fail': 'x', 'ok+skip': 'k', 'fail+fail': 'run', 'fail+skip': 'x', 'skip+skip': 'k' },
    'all-skipped': { 'ok+ok': 'k', 'ok+fail': 'x', 'ok+skip': 'k', 'fail+fail': 'x', 'fail+skip': 'x', 'skip+skip': 'run' },
    'none-skipped': { 'ok+ok': 'run', 'ok+fail': 'run', 'ok+skip': 'k', 'fail+fail': 'run', 'fail+skip': 'x', 'skip+skip': 'k' },
  });
});

test('one-succeeded and one-failed fire on the first qualifying upstream; every other rule waits for all', (t) => {
  const oneOkOnePending = { total: 2, pending: 1, failed: 0, skipped: 0 };
  const oneFailedOnePending = { total: 2, pending: 1, failed: 1, skipped: 0 };
  t.deepEqual(decideTrigger('one-succeeded', oneOkOnePending), { run: true });
  t.deepEqual(decideTrigger('one-failed', oneFailedOnePending), { run: true });
  t.is(decideTrigger('one-succeeded', oneFailedOnePending), undefined);
  t.is(decideTrigger('one-failed', oneOkOnePending), undefined);
  for (const rule of TRIGGER_RULES.filter((r) => r !== 'one-succeeded' && r !== 'one-failed')) {
    t.is(decideTrigger(rule, oneOkOnePending), undefined, rule);
    t.is(decideTrigger(rule, oneFailedOnePending), undefined, rule);
  }
});

test('skip reasons and kinds say why; the default rule keeps its old texts', (t) => {
  t.deepEqual(decideTrigger('all-succeeded', done(1, 0)), { run: false, byFailure: true, kind: 'upstream-failed', reason: 'an upstream step failed' });
  t.deepEqual(decideTrigger('all-succeeded', done(0, 1)), { run: false, byFailure: false, kind: 'upstream-skipped', reason: 'an upstream step was skipped' });
  t.deepEqual(decideTrigger('one-failed', done(0, 0)), { run: false, byFailure: false, kind: 'trigger-rule', reason: 'no upstream step failed (runWhen: one-failed)' });
});

test('the old runWhen names are aliases', (t) => {
  t.is(canonicalRule('upstream-succeeded'), 'all-succeeded');
  t.is(canonicalRule('upstream-done'), 'all-done');
  t.is(canonicalRule('upstream-failed'), 'one-failed');
  t.is(canonicalRule('none-skipped'), 'none-skipped');
});
