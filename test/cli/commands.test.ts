/** The `conveyor` binary as users call it: exit codes, --json shapes, --help, against a real worker. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { BROKEN_PIPELINES, CLI_PIPELINES, ROOT, killAll, newPrefix, runCli, startCliWorker, waitFor, type WorkerProc } from '../fixtures/procs.ts';
import { fxClient } from '../fixtures/fx-runtime.ts';
import { idempotentRunId } from '../../src/core/ids.ts';
import { readRecords } from '../fixtures/fx-effects.ts';

let redis: TestRedis;
let journal: Redis;
let worker: WorkerProc | undefined;
let env: Record<string, string>;

test.before(async () => {
  redis = await startTestRedis();
  journal = fxClient(redis.url);
  const prefix = newPrefix();
  env = { REDIS_URL: redis.url, CONVEYOR_PREFIX: prefix, CONVEYOR_PIPELINES: CLI_PIPELINES, CONVEYOR_LOG_LEVEL: 'warn' };
  worker = await startCliWorker({ redisUrl: redis.url, prefix, pipelines: CLI_PIPELINES, concurrency: 4 });
});

test.after.always(async () => {
  if (worker) await killAll([worker]);
  journal?.disconnect();
  await redis?.destroy();
});

const cli = (...args: string[]) => runCli(args, env);
const json = (text: string) => JSON.parse(text) as any;

test('--help works on the program and every command (exit 0)', async (t) => {
  const commands = ['', 'validate', 'graph', 'run', 'status', 'runs', 'logs', 'cancel', 'retry', 'prune', 'worker', 'dev', 'demo'];
  const results = await Promise.all(commands.map((c) => cli(...(c ? [c] : []), '--help')));
  results.forEach((r, i) => {
    t.is(r.code, 0, `conveyor ${commands[i]} --help: ${r.stderr}`);
    t.regex(r.stdout, /Usage: conveyor/, commands[i]);
  });
});

// The loader's own checks; the type check (tsc over src/ here: slow) is covered by test/package/install-from-tarball.test.ts.
test('validate: a valid folder exits 0; a folder with broken files exits 2 (bad input, as README and --help say), lists the errors and still the valid pipelines', async (t) => {
  const ok = await cli('validate', CLI_PIPELINES, '--json', '--no-typecheck');
  t.is(ok.code, 0, ok.stderr);
  const okJson = json(ok.stdout);
  t.true(okJson.valid);
  t.deepEqual(okJson.pipelines.map((p: { id: string }) => p.id).sort(), ['cli-flaky', 'cli-ok', 'cli-slow']);
  t.deepEqual(okJson.errors, []);

  const bad = await cli('validate', BROKEN_PIPELINES, '--json', '--no-typecheck');
  t.is(bad.code, 2);
  const badJson = json(bad.stdout);
  t.false(badJson.valid);
  t.deepEqual(badJson.pipelines.map((p: { id: string }) => p.id).sort(), ['good-one', 'good-two']);
  const errorFiles = badJson.errors.map((e: { file: string }) => e.file).sort();
  t.is(errorFiles.length, 2);
  t.regex(errorFiles[0], /syntax-error\.mjs$/);
  t.regex(errorFiles[1], /unknown-need\.ts$/);
  t.regex(badJson.errors.find((e: { file: string }) => /unknown-need/.test(e.file)).message, /unknown step "nope"/);

  const human = await cli('validate', BROKEN_PIPELINES, '--no-typecheck');
  t.is(human.code, 2);
  t.regex(human.stdout, /good-one/);
  t.regex(human.stdout, /good-two/);
  t.regex(human.stderr, /syntax-error\.mjs/);
  t.regex(human.stderr, /unknown-need\.ts/);
});

test.serial('run --wait: 0 when the run succeeds, 1 when it fails, 2 for bad params with the zod message', async (t) => {
  const ok = await cli('run', 'cli-ok', '-p', 'n=3', '--wait', '--json');
  t.is(ok.code, 0, ok.stderr);
  const view = json(ok.stdout);
  t.is(view.status, 'succeeded');
  t.deepEqual(view.steps.report.output, { text: 'doubled: 6' });

  const failed = await cli('run', 'cli-flaky', '--wait', '--json');
  t.is(failed.code, 1, failed.stderr);
  const failedView = json(failed.stdout);
  t.is(failedView.status, 'failed');
  t.is(failedView.steps.flaky.status, 'failed');
  t.is(failedView.steps.flaky.error.message, 'not allowed yet');

  const bad = await cli('run', 'cli-ok', '-p', 'n=0', '--wait');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /cli-ok/);
  t.regex(bad.stderr, /\bn\b/);
  t.regex(bad.stderr, />=\s*1|too small/i, 'the zod message');
  t.is(bad.stdout, '');
  const missing = await cli('run', 'cli-ok', '--wait');
  t.is(missing.code, 2);
  t.regex(missing.stderr, /\bn\b/);
});

test.serial('status --json, runs --json, and retry --wait of a failed run keeping succeeded outputs', async (t) => {
  const failed = json((await cli('run', 'cli-flaky', '--wait', '--json')).stdout);
  const runId: string = failed.id;

  const status = await cli('status', runId, '--json');
  t.is(status.code, 0, status.stderr);
  const shape = json(status.stdout);
  t.like(shape, { id: runId, pipeline: 'cli-flaky', status: 'failed', params: {} });
  t.deepEqual(Object.keys(shape.steps), ['first', 'flaky']);
  t.like(shape.steps.first, { status: 'succeeded', attempts: 1 });
  t.is(typeof shape.steps.first.output.nonce, 'string');
  t.like(shape.steps.flaky, { status: 'failed', attempts: 1, error: { message: 'not allowed yet' } });
  t.false('output' in shape.steps.flaky);

  const unknown = await cli('status', 'no-such-run', '--json');
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /no-such-run/);

  const runs = await cli('runs', '--json', '--pipeline', 'cli-flaky');
  t.is(runs.code, 0, runs.stderr);
  const list = json(runs.stdout);
  t.true(Array.isArray(list));
  t.like(list.find((r: { id: string }) => r.id === runId), { id: runId, pipeline: 'cli-flaky', status: 'failed' });
  t.true(list.every((r: { pipeline: string }) => r.pipeline === 'cli-flaky'));
  const table = (await cli('runs', '--pipeline', 'cli-flaky')).stdout.split('\n');
  t.regex(table[0]!, /^RUN\s+PIPELINE\s+STATUS\s+TRIGGER\s+CREATED\s+DURATION$/);
  t.regex(table.find((l) => l.startsWith(runId))!, /\bfailed\s+manual\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\b/, 'one time format, zone marked');
  const onlyFailed = json((await cli('runs', '--json', '--status', 'failed')).stdout);
  t.true(onlyFailed.length > 0 && onlyFailed.every((r: { status: string }) => r.status === 'failed'));

  await journal.set(`fx:allow:${runId}`, '1');
  const retried = await cli('retry', runId, '--wait', '--json');
  t.is(retried.code, 0, retried.stderr);
  const after = json(retried.stdout);
  t.is(after.status, 'succeeded');
  t.deepEqual(after.steps.first.output, shape.steps.first.output, 'the succeeded step kept its output');
  t.deepEqual(after.steps.flaky.output, { sawNonce: shape.steps.first.output.nonce });
  t.is((await readRecords(journal, runId, 'first')).length, 1, 'the succeeded step did not run again');
  t.is((await readRecords(journal, runId, 'flaky')).length, 2);
});

test.serial('cancel: a running run ends cancelled', async (t) => {
  const started = await cli('run', 'cli-slow', '--json');
  t.is(started.code, 0, started.stderr);
  const { runId, created } = json(started.stdout);
  t.true(created);
  await waitFor(async () => json((await cli('status', runId, '--json')).stdout).steps.wait.status === 'running', 30_000, 'the step to run');
  const cancelled = await cli('cancel', runId, '--json');
  t.is(cancelled.code, 0, cancelled.stderr);
  t.like(json(cancelled.stdout), { runId, cancelledSteps: ['wait'] });
  const view = json((await cli('status', runId, '--json')).stdout);
  t.is(view.status, 'cancelled');
  t.is(view.steps.wait.status, 'cancelled');
});

/** Like runCli, with text on stdin. */
function cliWithStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/conveyor.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.once('exit', (code) => res({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

test('run: an unknown --param exits 2 naming the known ones; --json errors are JSON on stderr with the same code', async (t) => {
  const typo = await cli('run', 'cli-ok', '-p', 'm=3');
  t.is(typo.code, 2);
  t.regex(typo.stderr, /unknown param "m" \(known: n\)/);
  const asJson = await cli('run', 'cli-ok', '-p', 'm=3', '--json');
  t.is(asJson.code, 2);
  t.deepEqual(json(asJson.stderr.trim()), { error: { code: 'VALIDATION', message: 'pipeline "cli-ok": unknown param "m" (known: n)' } });
  const usage = await cli('run', 'cli-ok', '--bogus', '--json');
  t.is(usage.code, 2, 'unknown options are bad input too');
  t.is(json(usage.stderr.trim()).error.code, 'USAGE');
  const missing = await cli('status', 'r-does-not-exist', '--json');
  t.is(missing.code, 1);
  t.is(json(missing.stderr.trim()).error.code, 'NOT_FOUND');
});

test.serial('run: params from --params-file, @file and stdin', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-params-'));
  try {
    const file = join(dir, 'params.json');
    writeFileSync(file, JSON.stringify({ n: 21 }));
    for (const args of [['--params-file', file], ['--params-json', `@${file}`]]) {
      const r = await cli('run', 'cli-ok', ...args, '--wait', '--json');
      t.is(r.code, 0, r.stderr);
      t.is(json(r.stdout).steps.double.output.value, 42, args.join(' '));
    }
    const piped = await cliWithStdin(['run', 'cli-ok', '--params-file', '-', '--wait', '--json'], '{"n": 5}');
    t.is(piped.code, 0, piped.stderr);
    t.is(json(piped.stdout).steps.double.output.value, 10);
    const absent = await cli('run', 'cli-ok', '--params-file', join(dir, 'nope.json'));
    t.is(absent.code, 2);
    t.regex(absent.stderr, /--params-file: could not read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('logs: --step of an unknown step exits 2 naming the steps; the error that ended an attempt is in the logs', async (t) => {
  const failed = await cli('run', 'cli-flaky', '--wait', '--json');
  t.is(failed.code, 1);
  const runId = json(failed.stdout).id;
  const nope = await cli('logs', runId, '--step', 'nope');
  t.is(nope.code, 2);
  t.regex(nope.stderr, /no step "nope" \(steps: first, flaky\)/);
  const logs = await cli('logs', runId, '--step', 'flaky');
  t.is(logs.code, 0, logs.stderr);
  t.regex(logs.stdout, /error flaky#1 attempt 1 failed: not allowed yet/);
});

test.serial('run --wait --logs streams the step log lines and the failed attempt on stderr, then exits as the run ended', async (t) => {
  const failed = await cli('run', 'cli-flaky', '--wait', '--logs');
  t.is(failed.code, 1, failed.stderr);
  const lines = failed.stderr.split('\n');
  const logged = lines.findIndex((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z info  flaky#1 asking for permission /.test(l));
  const error = lines.findIndex((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z error flaky#1 attempt 1 failed: not allowed yet/.test(l));
  t.true(logged >= 0 && error > logged, failed.stderr);
  t.is(lines.filter((l) => / flaky#1 attempt 1 failed/.test(l)).length, 1, 'the failure once');
  t.regex(failed.stdout, /✗ flaky/, 'the summary stays on stdout');

  const asJson = await cli('run', 'cli-flaky', '--wait', '--logs', '--json');
  t.is(asJson.code, 1);
  t.is(json(asJson.stdout).status, 'failed', 'stdout is the run as JSON');
  const entries = asJson.stderr.trim().split('\n').map((l) => json(l));
  t.like(entries.find((e) => e.msg === 'asking for permission'), { level: 'info', step: 'flaky', attempt: 1 });
  t.like(entries.at(-1), { level: 'error', step: 'flaky', attempt: 1, msg: 'attempt 1 failed: not allowed yet' });

  const noWait = await cli('run', 'cli-ok', '-p', 'n=1', '--logs');
  t.is(noWait.code, 2);
  t.regex(noWait.stderr, /--logs: expected --wait/);
});

test('backfill reports how each of its runs stands (here: --no-wait, so queued), per run in --json', async (t) => {
  const pipelines = join(ROOT, 'test/fixtures/pipelines/metrics');
  const r = await runCli(['backfill', 'metrics-demo', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T00:00:02Z', '--max-parallel', '3', '--no-wait', '--json'], { ...env, CONVEYOR_PIPELINES: pipelines, CONVEYOR_PREFIX: newPrefix() });
  t.is(r.code, 0, r.stderr);
  const result = json(r.stdout);
  t.is(result.total, 3);
  t.deepEqual(result.runs.map((x: { status: string }) => x.status), ['queued', 'queued', 'queued']);
  t.deepEqual(result.runs.map((x: { runId: string }) => x.runId), result.runIds);
  const human = await runCli(['backfill', 'metrics-demo', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T00:00:02Z', '--max-parallel', '3', '--no-wait'], { ...env, CONVEYOR_PIPELINES: pipelines, CONVEYOR_PREFIX: newPrefix() });
  t.regex(human.stdout, /runs: 3 queued/);
});

test('run --idempotency-key: the API’s run id for the same key; keys that differ in punctuation stay different runs', async (t) => {
  const first = await cli('run', 'cli-ok', '-p', 'n=1', '--idempotency-key', 'deploy/2026-11-29');
  t.is(first.code, 0, first.stderr);
  const id = first.stdout.trim();
  // Before the fix the CLI spelled the key into the id itself: `deploy/…` and `deploy:…` were one run,
  // and the API (which hashes the key) gave the same key another run.
  t.is(id, idempotentRunId('cli-ok', 'deploy/2026-11-29'));
  const repeat = await cli('run', 'cli-ok', '-p', 'n=1', '--idempotency-key', 'deploy/2026-11-29');
  t.is(repeat.stdout.trim().split(/\s+/)[0], id);
  t.regex(repeat.stdout, /existing run for this idempotency key/);
  const other = await cli('run', 'cli-ok', '-p', 'n=1', '--idempotency-key', 'deploy:2026-11-29');
  t.not(other.stdout.trim().split(/\s+/)[0], id);
  const bad = await cli('run', 'cli-ok', '--idempotency-key', 'has space');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /idempotency-key: expected 1-255 printable ASCII/);
});
