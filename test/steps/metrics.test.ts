import test from 'ava';
import { ValidationError } from '../../src/errors/index.ts';
import { binaryRocAuc, classificationMetrics, flattenMetrics, regressionMetrics } from '../../src/steps/evaluate/index.ts';

const close = (actual: number | null, expected: number, eps = 1e-9): boolean => actual !== null && Math.abs(actual - expected) < eps;

test('3-class confusion matrix, accuracy, per-class and macro precision/recall/F1 match the hand computation', (t) => {
  const labels = ['cat', 'cat', 'cat', 'dog', 'dog', 'dog', 'bird', 'bird'];
  const predictions = ['cat', 'dog', 'cat', 'dog', 'dog', 'cat', 'bird', 'dog'];
  const m = classificationMetrics({ labels, predictions });
  // Label order: sorted → bird, cat, dog. Rows = actual, columns = predicted.
  //   bird: bird→bird, bird→dog            → [1, 0, 1]
  //   cat:  cat→cat, cat→dog, cat→cat      → [0, 2, 1]
  //   dog:  dog→dog, dog→dog, dog→cat      → [0, 1, 2]
  t.deepEqual(m.confusionMatrix, { labels: ['bird', 'cat', 'dog'], matrix: [[1, 0, 1], [0, 2, 1], [0, 1, 2]] });
  // Accuracy = diagonal / n = (1 + 2 + 2) / 8
  t.is(m.accuracy, 5 / 8);
  // Precision = diagonal / column sum: bird 1/1, cat 2/(0+2+1), dog 2/(1+1+2)
  // Recall    = diagonal / row sum:    bird 1/2, cat 2/3,       dog 2/3
  // F1 = 2PR/(P+R): bird 2·1·½/(3/2) = 2/3; cat 2/3; dog 2·½·⅔/(½+⅔) = (2/3)/(7/6) = 4/7
  const byLabel = Object.fromEntries(m.perClass.map((c) => [c.label, c]));
  t.true(close(byLabel.bird.precision, 1) && close(byLabel.bird.recall, 1 / 2) && close(byLabel.bird.f1, 2 / 3));
  t.true(close(byLabel.cat.precision, 2 / 3) && close(byLabel.cat.recall, 2 / 3) && close(byLabel.cat.f1, 2 / 3));
  t.true(close(byLabel.dog.precision, 1 / 2) && close(byLabel.dog.recall, 2 / 3) && close(byLabel.dog.f1, 4 / 7));
  t.deepEqual(m.perClass.map((c) => c.support), [2, 3, 3]);
  // Macro = unweighted mean: P (1 + 2/3 + 1/2)/3 = 13/18; R (1/2 + 2/3 + 2/3)/3 = 11/18; F1 (2/3 + 2/3 + 4/7)/3 = 40/63
  t.true(close(m.macro.precision, 13 / 18));
  t.true(close(m.macro.recall, 11 / 18));
  t.true(close(m.macro.f1, 40 / 63));
  t.is(m.rocAuc, null);
  t.is(m.logLoss, null);
});

test('explicit class order is used for the matrix, and a class never predicted gets precision 0 (not NaN)', (t) => {
  const m = classificationMetrics({ labels: ['b', 'a', 'c'], predictions: ['b', 'a', 'a'], classes: ['c', 'b', 'a'] });
  t.deepEqual(m.confusionMatrix.labels, ['c', 'b', 'a']);
  // c→a is the one miss: row c, column a.
  t.deepEqual(m.confusionMatrix.matrix, [[0, 0, 1], [0, 1, 0], [0, 0, 1]]);
  t.is(m.perClass[0].precision, 0);
  t.is(m.perClass[0].f1, 0);
});

test('binary ROC-AUC with ties equals the Mann–Whitney count done by hand; log-loss matches', (t) => {
  const labels = [1, 0, 1, 0, 1, 0];
  const scores = [0.8, 0.8, 0.6, 0.4, 0.4, 0.2];
  // Positives score 0.8, 0.6, 0.4; negatives 0.8, 0.4, 0.2. Over the 3×3 = 9 (pos, neg) pairs,
  // count 1 when the positive scores higher and ½ on a tie:
  //   pos 0.8: vs 0.8 → ½, vs 0.4 → 1, vs 0.2 → 1   = 2.5
  //   pos 0.6: vs 0.8 → 0, vs 0.4 → 1, vs 0.2 → 1   = 2
  //   pos 0.4: vs 0.8 → 0, vs 0.4 → ½, vs 0.2 → 1   = 1.5
  // AUC = 6 / 9 = 2/3
  t.true(close(binaryRocAuc(labels.map((l) => l === 1), scores), 2 / 3));
  const predictions = scores.map((s) => (s >= 0.5 ? 1 : 0));
  const m = classificationMetrics({ labels, predictions, probabilities: scores });
  t.is(m.positiveLabel, 1);
  t.true(close(m.rocAuc, 2 / 3));
  // Log-loss = mean of −ln p(true class). p(true) per row: 0.8, 1−0.8=0.2, 0.6, 1−0.4=0.6, 0.4, 1−0.2=0.8
  // = (2·ln(1/0.8) + ln(1/0.2) + 2·ln(1/0.6) + ln(1/0.4)) / 6
  // = (2·0.22314 + 1.60944 + 2·0.51083 + 0.91629) / 6 ≈ 3.99367 / 6 ≈ 0.665612
  const expected = (2 * Math.log(1 / 0.8) + Math.log(1 / 0.2) + 2 * Math.log(1 / 0.6) + Math.log(1 / 0.4)) / 6;
  t.true(close(m.logLoss, expected));
  t.true(close(m.logLoss, 0.665612, 1e-6));
});

test('log-loss clips a zero probability for the true class to epsilon, giving a large finite loss', (t) => {
  // One row, true class 1, predicted probability of class 1 = 0 → clipped to 1e-15 → −ln(1e-15) = 15·ln 10 ≈ 34.5388
  const m = classificationMetrics({ labels: [1, 0], predictions: [0, 0], probabilities: [0, 0] });
  // Row 2: true 0 with p(1) = 0 → p(0) = 1 → clipped to 1 − 1e-15 → loss ≈ 1e-15. Mean ≈ 34.5388 / 2
  t.true(Number.isFinite(m.logLoss!));
  t.true(close(m.logLoss, (15 * Math.LN10) / 2, 1e-6));
});

test('multi-class one-vs-rest macro ROC-AUC from per-class probability records', (t) => {
  const labels = ['a', 'b', 'c', 'a'];
  const probabilities = [
    { a: 0.6, b: 0.3, c: 0.1 },
    { a: 0.2, b: 0.5, c: 0.3 },
    { a: 0.3, b: 0.3, c: 0.4 },
    { a: 0.4, b: 0.5, c: 0.1 },
  ];
  const predictions = ['a', 'b', 'c', 'b'];
  const m = classificationMetrics({ labels, predictions, probabilities });
  // a vs rest: positives 0.6, 0.4; negatives 0.2, 0.3 → every pair won → 1
  // b vs rest: positive 0.5; negatives 0.3, 0.3, 0.5 → 1 + 1 + ½ = 2.5 of 3 → 5/6
  // c vs rest: positive 0.4; negatives 0.1, 0.3, 0.1 → 1
  t.deepEqual(m.perClass.map((c) => c.rocAuc), [1, 5 / 6, 1]);
  t.true(close(m.rocAuc, (1 + 5 / 6 + 1) / 3)); // = 17/18
  // Log-loss: p(true) = 0.6, 0.5, 0.4, 0.4
  t.true(close(m.logLoss, -(Math.log(0.6) + Math.log(0.5) + Math.log(0.4) + Math.log(0.4)) / 4));
  // Same numbers from array rows in label order a, b, c.
  const fromArrays = classificationMetrics({ labels, predictions, probabilities: probabilities.map((p) => [p.a, p.b, p.c]) });
  t.is(fromArrays.rocAuc, m.rocAuc);
  t.deepEqual(flattenMetrics(m), { accuracy: 3 / 4, precision: m.macro.precision, recall: m.macro.recall, f1: m.macro.f1, rocAuc: m.rocAuc!, logLoss: m.logLoss! });
});

test('ROC-AUC is null, with a note, when the labels hold a single class', (t) => {
  const m = classificationMetrics({ labels: [1, 1], predictions: [1, 0], probabilities: [0.9, 0.4] });
  t.is(m.rocAuc, null);
  t.true(m.notes.some((n) => n.includes('only one class')));
});

test('regression RMSE, MAE and R² match the hand computation', (t) => {
  const actual = [3, -0.5, 2, 7];
  const predicted = [2.5, 0, 2, 8];
  // errors: 0.5, −0.5, 0, −1 → SSE = 0.25 + 0.25 + 0 + 1 = 1.5; RMSE = √(1.5/4) = √0.375 ≈ 0.612372
  // MAE = (0.5 + 0.5 + 0 + 1)/4 = 0.5
  // mean(actual) = 11.5/4 = 2.875; SST = 0.125² + 3.375² + 0.875² + 4.125² = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
  // R² = 1 − 1.5/29.1875 ≈ 0.948608
  const m = regressionMetrics(actual, predicted);
  t.true(close(m.rmse, Math.sqrt(0.375)));
  t.true(close(m.mae, 0.5));
  t.true(close(m.r2, 1 - 1.5 / 29.1875));
  t.true(close(m.r2, 0.948608, 1e-6));
  t.deepEqual(flattenMetrics(m), { rmse: m.rmse, mae: m.mae, r2: m.r2 });
});

test('R² on a constant target is 1 for a perfect fit and 0 otherwise, not NaN', (t) => {
  t.is(regressionMetrics([2, 2], [2, 2]).r2, 1);
  t.is(regressionMetrics([2, 2], [2, 3]).r2, 0);
});

test('bad inputs raise ValidationErrors that say what was expected and found', (t) => {
  const empty = t.throws(() => classificationMetrics({ labels: [], predictions: [] }), { instanceOf: ValidationError });
  t.regex(empty.message, /at least one row, found labels empty/);
  const mismatch = t.throws(() => classificationMetrics({ labels: [1, 0], predictions: [1] }), { instanceOf: ValidationError });
  t.regex(mismatch.message, /same length, found 2 and 1/);
  const probs = t.throws(() => classificationMetrics({ labels: ['a', 'b', 'c'], predictions: ['a', 'b', 'c'], probabilities: [[1, 0], [0, 1], [0, 1]] }), {
    instanceOf: ValidationError,
  });
  t.regex(probs.message, /probabilities\[0\]: expected 3 values/);
  const sum = t.throws(() => classificationMetrics({ labels: [0, 1], predictions: [0, 1], probabilities: [[0.5, 0.6], [0, 1]] }), { instanceOf: ValidationError });
  t.regex(sum.message, /summing to 1, found sum 1.1/);
  const stray = t.throws(() => classificationMetrics({ labels: ['a'], predictions: ['z'], classes: ['a', 'b'] }), { instanceOf: ValidationError });
  t.regex(stray.message, /found z/);
  const reg = t.throws(() => regressionMetrics([1, Number.NaN], [1, 2]), { instanceOf: ValidationError });
  t.regex(reg.message, /actual\[1\]: expected a finite number, found NaN/);
  t.throws(() => regressionMetrics([1, 2], [1]), { instanceOf: ValidationError, message: /same length/ });
});
