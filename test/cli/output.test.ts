import test from 'ava';
import { describeRun } from '../../src/cli/output.ts';
import type { RunView } from '../../src/engine/run-view.ts';

const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

function mapRun(): RunView {
  const steps: RunView['steps'] = { load: { status: 'succeeded', attempts: 1 }, score: { status: 'running', attempts: 1 } };
  for (let i = 0; i < 500; i++) {
    const status = i < 312 ? 'succeeded' : i < 315 ? 'failed' : 'running';
    steps[`score[${i}]`] = { status, attempts: 1, ...(status === 'failed' ? { error: { message: `item ${i} broke` } } : {}) };
  }
  steps.report = { status: 'pending', attempts: 0 };
  return { id: 'r1', pipeline: 'p', status: 'running', params: {}, trigger: { type: 'manual' }, logicalTime: '', dagHash: 'h', createdAt: new Date(0).toISOString(), generation: 0, steps } as unknown as RunView;
}

test('a map step prints as one line with counts and its failed items first, not a line per item', (t) => {
  const lines = plain(describeRun(mapRun())).split('\n');
  t.true(lines.length < 12, `${lines.length} lines`);
  const at = lines.findIndex((l) => /items 315\/500 {2}312 ✓ {2}3 ✗ {2}185 running/.test(l));
  t.true(at > 0, lines.join('\n'));
  t.regex(lines[at - 1]!, /score/, 'under its map step');
  t.regex(lines[at + 1]!, /score\[312\] {2}item 312 broke/);
  t.regex(lines.at(-1)!, /report/);
});

test('--all lists every item', (t) => {
  t.is(plain(describeRun(mapRun(), { all: true })).split('\n').length, 1 + 3 + 500);
});

test('one time format for tables: UTC to the second with the zone marked (minutes for fire times)', async (t) => {
  const { formatTime } = await import('../../src/cli/output.ts');
  t.is(formatTime(Date.UTC(2026, 2, 1, 10, 0, 5, 123)), '2026-03-01 10:00:05 UTC');
  t.is(formatTime('2026-03-01T11:00:05+01:00'), '2026-03-01 10:00:05 UTC');
  t.is(formatTime('2026-03-01T10:00:05Z', { minutes: true }), '2026-03-01 10:00 UTC');
  t.is(formatTime(undefined), '');
});
