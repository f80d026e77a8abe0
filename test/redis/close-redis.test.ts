/**
 * A one-shot CLI command closes connections that may still be mid-handshake (the runtime opens a
 * queue connection it never uses). Closing such a client must leave nothing behind that keeps the
 * process alive: ioredis used to arm a 2 s timer on an already closed socket, so every command
 * waited 2 s after its output.
 */
import { spawn } from 'node:child_process';
import test from 'ava';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
test.before(async () => {
  redis = await startTestRedis();
});
test.after.always(async () => {
  await redis?.destroy();
});

// Closes the client the moment its socket connects (before the ready check answers), then reports
// which resources still keep the event loop alive once the client has ended.
const CHILD = `
import { createRedis, closeRedis } from './src/redis/connection.ts';
const client = createRedis(process.env.URL);
client.once('connect', () => {
  // Printed from an immediate after a short timer, so that timer itself is no longer listed.
  closeRedis(client).then(() => setTimeout(() => setImmediate(() => {
    process.stdout.write(JSON.stringify({ status: client.status, alive: process.getActiveResourcesInfo() }));
  }), 50));
});
`;

function runChild(url: string): Promise<{ status: string; alive: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', CHILD], { env: { ...process.env, URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`child printed ${JSON.stringify(out)}; stderr: ${err}`));
      }
    });
  });
}

test('closing a client mid-handshake leaves no timer or socket keeping the process alive', async (t) => {
  // Several attempts: where exactly the handshake is when 'connect' fires varies a little.
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await runChild(redis.url);
    t.is(result.status, 'end');
    t.deepEqual(result.alive.filter((r) => r === 'Timeout' || r === 'TCPSocketWrap'), [], `attempt ${attempt}: ${result.alive.join(', ')}`);
  }
});
