#!/usr/bin/env node
// Trains a multinomial logistic regression (softmax, batch gradient descent on standardised features)
// on data/iris.csv, holds out every n-th row for evaluation, prints progress lines, and ends with one
// JSON line { accuracy, model, ... } — the contract `runCommand` reads. Plain Node, no dependencies,
// deterministic: the same arguments give the same model.
//
//   node scripts/train-iris.mjs [--data data/iris.csv] [--epochs 300] [--lr 0.5] [--l2 0.001]
//                               [--holdout-every 5] [--result-file out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/iris.csv' },
    epochs: { type: 'string', default: '300' },
    lr: { type: 'string', default: '0.5' },
    l2: { type: 'string', default: '0.001' },
    'holdout-every': { type: 'string', default: '5' },
    'result-file': { type: 'string' },
  },
});
const epochs = positiveInt('epochs', values.epochs);
const holdoutEvery = positiveInt('holdout-every', values['holdout-every']);
const lr = Number(values.lr);
const l2 = Number(values.l2);
if (!(lr > 0) || !(l2 >= 0)) fail(`expected --lr > 0 and --l2 ≥ 0, found --lr ${values.lr} --l2 ${values.l2}`);

// ---- data
const path = resolve(values.data);
let text;
try {
  text = readFileSync(path, 'utf8');
} catch (error) {
  fail(`cannot read ${path}: ${error.message}`);
}
const [header, ...lines] = text.trim().split(/\r?\n/);
const columns = header.split(',');
const labelColumn = columns.length - 1;
const featureNames = columns.slice(0, labelColumn);
const X = [];
const labels = [];
lines.forEach((line, i) => {
  const cells = line.split(',');
  const row = cells.slice(0, labelColumn).map(Number);
  if (cells.length !== columns.length || row.some((v) => !Number.isFinite(v))) fail(`${path}:${i + 2}: expected ${columns.length} cells with numeric features, found "${line}"`);
  X.push(row);
  labels.push(cells[labelColumn]);
});
const classes = [...new Set(labels)].sort();
const y = labels.map((l) => classes.indexOf(l));
const trainIdx = [];
const testIdx = [];
y.forEach((_, i) => (i % holdoutEvery === 0 ? testIdx : trainIdx).push(i));
console.log(`loaded ${X.length} rows from ${path}: ${featureNames.length} features, ${classes.length} classes; ${trainIdx.length} train / ${testIdx.length} held out`);

// ---- standardise with training statistics only
const d = featureNames.length;
const mean = featureNames.map((_, j) => avg(trainIdx.map((i) => X[i][j])));
const std = featureNames.map((_, j) => Math.sqrt(avg(trainIdx.map((i) => (X[i][j] - mean[j]) ** 2))) || 1);
const Z = X.map((row) => row.map((v, j) => (v - mean[j]) / std[j]));

// ---- softmax regression
const k = classes.length;
const W = Array.from({ length: k }, () => new Array(d).fill(0));
const b = new Array(k).fill(0);
const started = Date.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  const gW = Array.from({ length: k }, () => new Array(d).fill(0));
  const gb = new Array(k).fill(0);
  let loss = 0;
  for (const i of trainIdx) {
    const p = softmax(W, b, Z[i]);
    loss -= Math.log(Math.max(p[y[i]], 1e-12));
    for (let c = 0; c < k; c++) {
      const err = p[c] - (c === y[i] ? 1 : 0);
      gb[c] += err;
      for (let j = 0; j < d; j++) gW[c][j] += err * Z[i][j];
    }
  }
  const n = trainIdx.length;
  for (let c = 0; c < k; c++) {
    b[c] -= (lr * gb[c]) / n;
    for (let j = 0; j < d; j++) W[c][j] -= lr * (gW[c][j] / n + l2 * W[c][j]);
  }
  if (epoch === 1 || epoch % Math.max(1, Math.floor(epochs / 10)) === 0 || epoch === epochs) {
    console.log(`epoch ${epoch}/${epochs} loss ${(loss / n).toFixed(4)} train accuracy ${accuracyOn(trainIdx).toFixed(3)}`);
  }
}

// ---- evaluate on the held-out rows
const accuracy = accuracyOn(testIdx);
const confusion = classes.map(() => new Array(k).fill(0));
for (const i of testIdx) confusion[y[i]][predict(Z[i])]++;
console.error(`note: held-out accuracy ${accuracy.toFixed(4)} on ${testIdx.length} rows`); // stderr: shows as a warning in the step log
const result = {
  accuracy,
  trainAccuracy: accuracyOn(trainIdx),
  testRows: testIdx.length,
  trainRows: trainIdx.length,
  classes,
  confusion,
  hyperparameters: { epochs, lr, l2, holdoutEvery },
  trainingMs: Date.now() - started,
  model: { type: 'softmax-regression', features: featureNames, mean: round(mean), std: round(std), weights: W.map(round), bias: round(b) },
};
if (values['result-file']) writeFileSync(values['result-file'], JSON.stringify(result));
console.log(JSON.stringify(result));

function softmax(W, b, z) {
  const logits = W.map((w, c) => b[c] + w.reduce((s, wj, j) => s + wj * z[j], 0));
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}
function predict(z) {
  const p = softmax(W, b, z);
  return p.indexOf(Math.max(...p));
}
function accuracyOn(idx) {
  return idx.filter((i) => predict(Z[i]) === y[i]).length / idx.length;
}
function avg(xs) {
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}
function round(xs) {
  return xs.map((v) => Math.round(v * 1e6) / 1e6);
}
function positiveInt(name, raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(`expected --${name} to be a positive integer, found ${raw}`);
  return n;
}
function fail(message) {
  console.error(`train-iris: ${message}`);
  process.exit(2);
}
