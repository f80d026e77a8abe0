import { randomBytes } from 'node:crypto';
/**
 * What a real Prometheus sees: `conveyor worker`, two `conveyor scheduler` replicas and `conveyor serve`
 * run as processes, each serving /metrics on its own CONVEYOR_METRICS_PORT as deploy/prometheus/
 * prometheus.yml expects; promtool checks the rules, the config and every live endpoint; a Prometheus
 * (Debian's `prometheus` package, on loopback, with its own data directory) scrapes them while a small
 * workload runs, and every dashboard and alert expression must return data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { freePort, startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ROOT, newPrefix, waitFor } from '../fixtures/procs.ts';
import { alertExprs, dashboardExprs } from './dashboard-exprs.ts';

const PIPELINES = join(ROOT, 'test/fixtures/pipelines/metrics');
// A real random token: serve refuses placeholder-looking ones.
const TOKEN = randomBytes(32).toString('hex');
const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0 && spawnSync('promtool', ['--version']).status === 0;

interface Proc {
  name: string;
  job: string;
  metricsPort: number;
  child: ChildProcess;
  output(): string;
}

let redis: TestRedis;
let tmp: string;
const procs: Proc[] = [];
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';
let apiUrl = '';

function start(name: string, job: string, args: string[], metricsPort: number, extra: Record<string, string>, prefix: string): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin/conveyor.js'), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redis.url,
      CONVEYOR_PREFIX: prefix,
      CONVEYOR_PIPELINES: PIPELINES,
      CONVEYOR_DATA_DIR: join(tmp, 'data'),
      CONVEYOR_LOG_LEVEL: 'warn',
      CONVEYOR_METRICS_PORT: String(metricsPort),
      CONVEYOR_METRICS_HOST: '127.0.0.1',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const proc = { name, job, metricsPort, child, output: () => out };
  procs.push(proc);
  return proc;
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function stop(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise((res) => child.once('exit', res));
  child.kill('SIGKILL');
  await exited;
}

async function get(url: string, init?: RequestInit): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
}

async function ok(url: string): Promise<boolean> {
  try {
    return (await get(url)).ok;
  } catch {
    return false;
  }
}

test.before(async () => {
  if (!hasPrometheus) return;
  redis = await startTestRedis();
  tmp = mkdtempSync(join(tmpdir(), 'conveyor-prom-'));
  const prefix = newPrefix();
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  start('worker', 'conveyor-worker', ['worker', '--concurrency', '4'], await freePort(), {}, prefix);
  for (const n of [1, 2]) start(`scheduler-${n}`, 'conveyor-scheduler', ['scheduler'], await freePort(), {}, prefix);
  start('api', 'conveyor-api', ['serve'], await freePort(), { CONVEYOR_API_PORT: String(apiPort), CONVEYOR_API_HOST: '127.0.0.1', CONVEYOR_API_TOKEN: TOKEN }, prefix);
  for (const p of procs) {
    await waitFor(async () => !alive(p.child) || (await ok(`http://127.0.0.1:${p.metricsPort}/healthz`)), 30_000, `${p.name} /healthz on its metrics port`).catch((error: Error) => {
      throw new Error(`${error.message}; its output:\n${p.output()}`);
    });
    if (!alive(p.child)) throw new Error(`${p.name} exited at start:\n${p.output()}`);
  }

  // Prometheus with the shipped rules and the shipped job names, pointed at these processes.
  const shipped = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string }> };
  const jobs = shipped.scrape_configs.map((c) => c.job_name);
  writeFileSync(join(tmp, 'alerts.yml'), readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml')));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(tmp, 'alerts.yml')],
    scrape_configs: [...new Set(procs.map((p) => p.job))].map((job) => {
      if (!jobs.includes(job)) throw new Error(`deploy/prometheus/prometheus.yml has no job ${job} (has ${jobs.join(', ')})`);
      return { job_name: job, static_configs: [{ targets: procs.filter((p) => p.job === job).map((p) => `127.0.0.1:${p.metricsPort}`) }] };
    }),
  };
  writeFileSync(join(tmp, 'prometheus.yml'), stringify(config));
  const promPort = await freePort();
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  let promOut = '';
  prometheus = spawn('prometheus', [`--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stderr!.on('data', (d: Buffer) => (promOut += d));
  await waitFor(async () => !alive(prometheus!) || (await ok(`${prometheusUrl}/-/ready`)), 30_000, 'prometheus ready');
  if (!alive(prometheus)) throw new Error(`prometheus exited at start:\n${promOut}`);

  // The workload: manual runs through the API (counted by the API process), scheduled ones by the schedulers.
  for (const pipeline of ['metrics-demo', 'metrics-demo', 'metrics-fails']) {
    const res = await get(`${apiUrl}/api/v1/pipelines/${pipeline}/runs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw new Error(`trigger ${pipeline}: ${res.status} ${await res.text()}`);
  }
});

test.after.always(async () => {
  if (prometheus) await stop(prometheus);
  await Promise.all(procs.map((p) => stop(p.child)));
  await redis?.destroy();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Without the tools the file fails with one line saying how to get them, instead of skipping: a
// skipped check reads as a passed one in a CI log.
const skipWithout = hasPrometheus ? test.serial : test.serial.skip;
if (!hasPrometheus) {
  test('prometheus and promtool are installed', (t) => {
    t.fail('the metrics tests need `prometheus` and `promtool` on PATH: apt-get install prometheus (Debian/Ubuntu) or brew install prometheus (macOS)');
  });
}

skipWithout('promtool: the shipped rules and config are valid', (t) => {
  const rules = spawnSync('promtool', ['check', 'rules', join(ROOT, 'deploy/prometheus/alerts.yml')], { encoding: 'utf8' });
  t.is(rules.status, 0, rules.stdout + rules.stderr);
  // The shipped config names the rules at their path inside the container: check a copy pointing here.
  const shipped = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as Record<string, unknown>;
  const copy = join(tmp, 'shipped-prometheus.yml');
  writeFileSync(copy, stringify({ ...shipped, rule_files: [join(ROOT, 'deploy/prometheus/alerts.yml')] }));
  const config = spawnSync('promtool', ['check', 'config', copy], { encoding: 'utf8' });
  t.is(config.status, 0, config.stdout + config.stderr);
});

skipWithout('every process serves /metrics on its metrics port and promtool check metrics passes on each', async (t) => {
  for (const p of procs) {
    const res = await get(`http://127.0.0.1:${p.metricsPort}/metrics`);
    t.is(res.status, 200, p.name);
    const text = await res.text();
    t.regex(text, /^conveyor_runs_started_total\{pipeline="metrics-demo",trigger="manual"\} \d+$/m, `${p.name}: labelled counters start at 0`);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    t.is(lint.status, 0, `${p.name}: ${lint.stdout}${lint.stderr}`);
  }
});

interface QueryResult {
  status: string;
  error?: string;
  data?: { result: unknown[] };
}

async function query(expr: string): Promise<QueryResult> {
  const res = await get(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await res.json()) as QueryResult;
}

/** An alert fires only past its threshold; what must return data is its input: the expression without the final comparison. */
function alertInput(expr: string): string {
  return expr
    .replace(/\s+or\s+absent\(.*\)\s*$/s, '')
    .replace(/\s*(>|<|==|!=|>=|<=)\s*[\d.*\s]+$/s, '')
    .trim();
}

skipWithout('a real Prometheus gets data for every dashboard and alert expression after a small workload', async (t) => {
  const exprs = [
    ...dashboardExprs().map((e) => ({ ...e, expr: e.expr.replaceAll('$pipeline', '.*').replaceAll('$model', '.*') })),
    ...alertExprs().map((e) => ({ ...e, expr: alertInput(e.expr) })),
  ].filter((e) => !e.where.startsWith('variable'));
  const empty = new Map<string, string>();
  await waitFor(
    async () => {
      empty.clear();
      for (const { where, expr } of exprs) {
        const r = await query(expr);
        if (r.status !== 'success') empty.set(where + ': ' + expr, `error ${r.error}`);
        else if (!r.data?.result.length) empty.set(where + ': ' + expr, 'no data');
      }
      return empty.size === 0;
    },
    45_000,
    'every expression to return data',
  ).catch(() => undefined);
  t.deepEqual(Object.fromEntries(empty), {});

  const targets = (await (await get(`${prometheusUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> } };
  t.is(targets.data.activeTargets.length, procs.length, 'one target per process (each scheduler replica its own)');
  t.deepEqual(targets.data.activeTargets.filter((x) => x.health !== 'up').map((x) => `${x.labels.job}: ${x.lastError}`), []);
  const rules = (await (await get(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
  const bad = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok');
  t.deepEqual(bad.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`), []);
  // Manual runs are counted by the API process; Prometheus collected them from its metrics port.
  const manual = await query('sum(conveyor_runs_started_total{job="conveyor-api",trigger="manual"})');
  t.is(Number((manual.data!.result[0] as { value: [number, string] }).value[1]), 3);
});
