import test from 'ava';
import { attemptErrorLines } from '../../src/cli/run-logs.ts';
import type { RunView } from '../../src/engine/run-view.ts';

const view = (steps: RunView['steps']) => ({ id: 'r1', pipeline: 'p', status: 'running', createdAt: new Date(0).toISOString(), steps }) as unknown as RunView;
const boom = { message: 'boom', name: 'Error' };

test('the failed attempt is named right: the last one of a failed or re-queued step, the one before the current otherwise', (t) => {
  const lines = attemptErrorLines(view({
    failed: { status: 'failed', attempts: 3, error: boom },
    requeued: { status: 'queued', attempts: 1, error: boom },
    rerunning: { status: 'running', attempts: 2, error: boom },
    recovered: { status: 'succeeded', attempts: 2, error: boom },
    clean: { status: 'succeeded', attempts: 1 },
  }));
  t.deepEqual(lines.map((l) => `${l.step}#${l.attempt} ${l.msg}`), [
    'failed#3 attempt 3 failed: boom',
    'requeued#1 attempt 1 failed (retried): boom',
    'rerunning#1 attempt 1 failed (retried): boom',
    'recovered#1 attempt 1 failed (retried): boom',
  ]);
});

test('a follower reports each failed attempt once as the step moves on', (t) => {
  const seen = new Set<string>();
  const reported = [
    attemptErrorLines(view({ s: { status: 'queued', attempts: 1, error: boom } }), undefined, seen),
    attemptErrorLines(view({ s: { status: 'running', attempts: 2, error: boom } }), undefined, seen),
    attemptErrorLines(view({ s: { status: 'failed', attempts: 2, error: { message: 'again' } } }), undefined, seen),
  ].flat();
  t.deepEqual(reported.map((l) => `${l.attempt} ${l.msg}`), ['1 attempt 1 failed (retried): boom', '2 attempt 2 failed: again']);
});

test('a step that recovered still reports its failed attempts: the view keeps their errors in its history, not in `error`', (t) => {
  const at = (s: number) => new Date(s * 1000).toISOString();
  const lines = attemptErrorLines(view({
    extract: {
      status: 'succeeded', attempts: 3,
      history: [
        { attempt: 1, generation: 0, worker: 'w', startedAt: at(1), finishedAt: at(2), outcome: 'retried', error: { message: 'connection reset', name: 'Error' } },
        { attempt: 2, generation: 0, worker: 'w', startedAt: at(3), finishedAt: at(4), outcome: 'retried', error: { message: 'timed out' } },
        { attempt: 3, generation: 0, worker: 'w', startedAt: at(5), finishedAt: at(6), outcome: 'succeeded' },
      ],
    },
  } as unknown as RunView['steps']));
  t.deepEqual(lines.map((l) => `${l.step}#${l.attempt} ${l.msg}`), [
    'extract#1 attempt 1 failed (retried): connection reset',
    'extract#2 attempt 2 failed (retried): timed out',
  ]);
  t.is(lines[0].t, 2000);
});
