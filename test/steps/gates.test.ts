import test from 'ava';
import { ValidationError } from '../../src/errors/index.ts';
import { evaluateGates } from '../../src/steps/evaluate/index.ts';

test('threshold gates pass and fail with sentences that carry the numbers', (t) => {
  const ok = evaluateGates({ accuracy: 0.93, logLoss: 0.42 }, { thresholds: { accuracy: { min: 0.9 }, logLoss: { max: 0.5 } } });
  t.true(ok.passed);
  t.deepEqual(
    ok.gates.map((g) => [g.name, g.passed, g.reason]),
    [
      ['accuracy.min', true, 'accuracy 0.93 ≥ min 0.90'],
      ['logLoss.max', true, 'logLoss 0.42 ≤ max 0.50'],
    ],
  );
  const bad = evaluateGates({ accuracy: 0.85, logLoss: 0.61 }, { thresholds: { accuracy: { min: 0.9 }, logLoss: { max: 0.5 } } });
  t.false(bad.passed);
  t.deepEqual(bad.gates.map((g) => g.reason), ['accuracy 0.85 < min 0.90', 'logLoss 0.61 > max 0.50']);
});

test('one failing gate fails the whole outcome, and a missing metric fails its gate with the known names', (t) => {
  const out = evaluateGates({ accuracy: 0.95, f1: 0.9 }, { thresholds: { accuracy: { min: 0.9 }, rocAuc: { min: 0.8 } } });
  t.false(out.passed);
  t.true(out.gates[0].passed);
  t.false(out.gates[1].passed);
  t.is(out.gates[1].reason, 'the candidate has no finite value for metric "rocAuc" (available: accuracy, f1)');
});

test('numbers that differ beyond 4 decimals are printed with enough digits to see why the gate failed', (t) => {
  const out = evaluateGates({ accuracy: 0.899996 }, { thresholds: { accuracy: { min: 0.9 } } });
  t.false(out.passed);
  t.is(out.gates[0].reason, 'accuracy 0.899996 < min 0.90');
});

test('challenger beats the champion by the required margin (higher is better)', (t) => {
  const spec = { challenger: { champion: { metrics: { accuracy: 0.91 }, name: 'v3' }, metric: 'accuracy', minImprovement: 0.01 } };
  const win = evaluateGates({ accuracy: 0.93 }, spec);
  t.true(win.passed);
  t.is(win.gates[0].reason, 'accuracy 0.93 vs champion v3 0.91 (higher is better): improvement +0.02 ≥ required +0.01');
  // Exactly the required margin passes despite floating-point (0.92 − 0.91 = 0.010000000000000009 or less).
  t.true(evaluateGates({ accuracy: 0.92 }, spec).passed);
  const lose = evaluateGates({ accuracy: 0.915 }, spec);
  t.false(lose.passed);
  t.is(lose.gates[0].reason, 'accuracy 0.915 vs champion v3 0.91 (higher is better): improvement +0.005 < required +0.01');
});

test('challenger on a loss metric: lower is better by default for logLoss, overridable', (t) => {
  const out = evaluateGates({ logLoss: 0.4 }, { challenger: { champion: { metrics: { logLoss: 0.45 } }, metric: 'logLoss', minImprovement: 0.02 } });
  t.true(out.passed);
  t.is(out.gates[0].reason, 'logLoss 0.40 vs champion 0.45 (lower is better): improvement +0.05 ≥ required +0.02');
  const custom = evaluateGates({ score: 0.4 }, { challenger: { champion: { metrics: { score: 0.45 } }, metric: 'score', higherIsBetter: false } });
  t.true(custom.passed);
  const worse = evaluateGates({ score: 0.4 }, { challenger: { champion: { metrics: { score: 0.45 } }, metric: 'score' } });
  t.false(worse.passed);
  t.regex(worse.gates[0].reason, /improvement -0.05 < required \+0.00/);
});

test('no champion yet passes; a champion without the metric fails', (t) => {
  const first = evaluateGates({ accuracy: 0.8 }, { challenger: { champion: null, metric: 'accuracy' } });
  t.true(first.passed);
  t.regex(first.gates[0].reason, /no champion/);
  const noMetric = evaluateGates({ accuracy: 0.8 }, { challenger: { champion: { metrics: { f1: 0.7 } }, metric: 'accuracy' } });
  t.false(noMetric.passed);
  t.regex(noMetric.gates[0].reason, /champion has no finite value for metric "accuracy" \(available: f1\)/);
});

test('invalid gate specs are rejected with every problem listed', (t) => {
  const err = t.throws(() => evaluateGates({ accuracy: 1 }, { thresholds: { accuracy: {}, f1: { min: 0.9, max: 0.5 } } }), { instanceOf: ValidationError });
  t.deepEqual(err.issues, ['thresholds.accuracy: expected min and/or max, found neither', 'thresholds.f1: expected min ≤ max, found min 0.9 > max 0.5']);
  t.throws(() => evaluateGates({ accuracy: 1 }, {}), { instanceOf: ValidationError, message: /at least one threshold/ });
});
