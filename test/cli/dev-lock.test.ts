/**
 * One `conveyor dev` per folder: its state file (.conveyor/dev.json) is the lock; a file left by a
 * process that is gone is removed; commands that find their Redis there (or fall back to the
 * default) say which Redis they use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Command } from 'commander';
import { claimDevState, clearDevState, devStatePath, inspectDevState, writeDevState } from '../../src/app/dev-discovery.ts';
import { configFrom, implicitRedisOrigin } from '../../src/cli/context.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { Redis } from 'ioredis';
import { runCli, waitFor } from '../fixtures/procs.ts';

let redis: TestRedis;
const holders: ChildProcess[] = [];
const dirs: string[] = [];

test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  for (const child of holders) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await redis?.destroy();
});

const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-devlock-'));
  dirs.push(dir);
  return join(dir, '.conveyor');
};

/** A live process that is not this one: stands in for a running `conveyor dev`. */
function liveHolder(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  holders.push(child);
  return child.pid!;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function writeRawState(dir: string, state: object): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(devStatePath(dir), JSON.stringify(state));
}

test('claiming a folder where a dev runs refuses, naming its pid and UI, and leaves its file alone', (t) => {
  const dir = dataDir();
  const pid = liveHolder();
  writeRawState(dir, { pid, redisUrl: 'redis://127.0.0.1:1', apiUrl: 'http://127.0.0.1:8080' });
  const error = t.throws(() => claimDevState(dir));
  t.is(error?.message, `conveyor dev is already running in this folder (pid ${pid}, UI http://127.0.0.1:8080); stop it first, or use it: other commands here find its Redis`);
  t.is(JSON.parse(readFileSync(devStatePath(dir), 'utf8')).pid, pid);
  clearDevState(dir); // not ours: must stay
  t.true(existsSync(devStatePath(dir)));
});

test('a stale state file (its process gone) is removed and the folder claimed; clearing removes only our own file', async (t) => {
  const dir = dataDir();
  const gone = await deadPid();
  writeRawState(dir, { pid: gone, redisUrl: 'redis://127.0.0.1:1', apiUrl: 'http://127.0.0.1:8080' });
  t.deepEqual(claimDevState(dir), { removedStalePid: gone });
  t.deepEqual(inspectDevState(dir), { status: 'running', state: { pid: process.pid } });
  writeDevState(dir, { pid: process.pid, redisUrl: redis.url, apiUrl: 'http://127.0.0.1:9999' });
  t.is(inspectDevState(dir).status, 'running');
  clearDevState(dir);
  t.false(existsSync(devStatePath(dir)));
});

test('two claims of one folder: the second refuses', (t) => {
  const dir = dataDir();
  claimDevState(dir);
  t.throws(() => claimDevState(dir), { message: new RegExp(`already running in this folder \\(pid ${process.pid}, UI starting\\)`) });
});

test('without flag or REDIS_URL the config says where its Redis came from: a running dev, or the default after a stale file', async (t) => {
  const saved = { REDIS_URL: process.env.REDIS_URL, CONVEYOR_DATA_DIR: process.env.CONVEYOR_DATA_DIR };
  t.teardown(() => {
    // Assigning undefined would set the string "undefined": unset what was unset.
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  delete process.env.REDIS_URL;
  const dir = dataDir();
  process.env.CONVEYOR_DATA_DIR = dir;
  const command = () => new Command('x').option('--redis-url <url>').option('--prefix <p>').option('--pipelines <d>').option('--log-level <l>');

  const pid = liveHolder();
  writeRawState(dir, { pid, redisUrl: redis.url, apiUrl: 'http://127.0.0.1:8080' });
  const fromDev = configFrom(command());
  t.is(fromDev.redisUrl, redis.url);
  t.is(implicitRedisOrigin(fromDev), `the conveyor dev running here (pid ${pid})`);

  const gone = await deadPid();
  writeRawState(dir, { pid: gone, redisUrl: redis.url });
  const fallback = configFrom(command());
  t.regex(implicitRedisOrigin(fallback) ?? '', new RegExp(`^the default: the conveyor dev that wrote .*dev\\.json \\(pid ${gone}\\) no longer runs, its file was removed$`));
  t.false(existsSync(devStatePath(dir)));

  const explicit = command();
  explicit.parse(['--redis-url', redis.url], { from: 'user' });
  t.is(implicitRedisOrigin(configFrom(explicit)), undefined);
});

test('CLI: a second `conveyor dev` refuses (exit 2); `runs` uses the running dev\'s Redis and says so on stderr', async (t) => {
  const dir = dataDir();
  const pid = liveHolder();
  writeRawState(dir, { pid, redisUrl: redis.url, apiUrl: 'http://127.0.0.1:8123' });
  const env = { CONVEYOR_DATA_DIR: dir, CONVEYOR_PREFIX: `devlock${process.pid}` };
  const second = await runCli(['dev', '--pipelines', 'test/fixtures/pipelines/cli'], env);
  t.is(second.code, 2, second.stderr);
  t.regex(second.stderr, new RegExp(`already running in this folder \\(pid ${pid}, UI http://127\\.0\\.0\\.1:8123\\)`));
  t.is(JSON.parse(readFileSync(devStatePath(dir), 'utf8')).pid, pid);

  const runs = await runCli(['runs', '--json'], env);
  t.is(runs.code, 0, runs.stderr);
  t.deepEqual(JSON.parse(runs.stdout), []);
  t.is(runs.stderr, `using Redis ${redis.url} (the conveyor dev running here (pid ${pid}))\n`);
});

/** A port nothing listens on now (the OS's pick): dev's own search from 8080 races other tests' devs. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `conveyor dev` as a terminal starts it: the leader of its own process group (the foreground job). */
async function startDev(dir: string): Promise<{ child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(process.cwd(), 'bin/conveyor.js'), 'dev', '--pipelines', 'test/fixtures/pipelines/cli', '--no-scheduler', '--port', String(port)], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', CONVEYOR_DATA_DIR: dir, CONVEYOR_PREFIX: `devstop${process.pid}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  holders.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const output = () => out;
  await waitFor(() => out.includes('Ctrl-C to stop') || child.exitCode !== null, 60_000, 'conveyor dev to start');
  if (!out.includes('Ctrl-C to stop')) throw new Error(`conveyor dev did not start (exit ${child.exitCode}):\n${out}`);
  return { child, output };
}

async function exitWithin(child: ChildProcess, ms: number, output: () => string): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`conveyor dev still running ${ms} ms after Ctrl-C:\n${output()}`)), ms);
    child.once('exit', (code) => (clearTimeout(timer), resolve(code)));
  });
}

test.serial('Ctrl-C stops `conveyor dev` even when its embedded Redis died first (the terminal signals the whole group)', async (t) => {
  t.timeout(90_000);
  const dir = dataDir();
  const dev = await startDev(dir);
  const { redisUrl } = JSON.parse(readFileSync(devStatePath(dir), 'utf8')) as { redisUrl: string };
  // A Redis gone before the Ctrl-C (or with it: the terminal signals the embedded Redis too) must not
  // keep conveyor waiting for a reconnect.
  const admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on('error', () => {});
  await admin.connect();
  await admin.call('SHUTDOWN', 'NOSAVE').catch(() => {});
  admin.disconnect();
  process.kill(-dev.child.pid!, 'SIGINT');
  t.is(await exitWithin(dev.child, 30_000, dev.output), 0, dev.output());
  t.false(existsSync(devStatePath(dir)), 'the state file is removed');
});

test.serial('Ctrl-C to the terminal\'s group stops `conveyor dev` and its embedded Redis; none is left behind', async (t) => {
  t.timeout(90_000);
  const dir = dataDir();
  const dev = await startDev(dir);
  const { redisUrl } = JSON.parse(readFileSync(devStatePath(dir), 'utf8')) as { redisUrl: string };
  process.kill(-dev.child.pid!, 'SIGINT');
  t.is(await exitWithin(dev.child, 30_000, dev.output), 0, dev.output());
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  await t.throwsAsync(probe.connect(), undefined, 'the embedded Redis is gone');
  probe.disconnect();
});
