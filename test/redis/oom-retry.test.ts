import test from 'ava';
import { retryWhileOom } from '../../src/redis/oom.ts';

const refused = () => new Error('OOM command not allowed when used memory > \'maxmemory\'.');

test('a refused write is retried until Redis takes it; each refusal is reported, the first as first', async (t) => {
  let calls = 0;
  const seen: boolean[] = [];
  const value = await retryWhileOom(async () => {
    calls++;
    if (calls < 3) throw refused();
    return 'written';
  }, { windowMs: 10_000, onRefused: (_oom, first) => seen.push(first) });
  t.is(value, 'written');
  t.is(calls, 3);
  t.deepEqual(seen, [true, false]);
});

test('any other error is thrown at once, also one thrown synchronously, and never retried', async (t) => {
  let calls = 0;
  await t.throwsAsync(retryWhileOom(async () => (calls++, Promise.reject(new Error('NOSCRIPT'))), { windowMs: 10_000 }), { message: 'NOSCRIPT' });
  await t.throwsAsync(retryWhileOom(() => {
    calls++;
    throw new Error('bad argument');
  }, { windowMs: 10_000 }), { message: 'bad argument' });
  t.is(calls, 2);
});

test('a refusal past the window is thrown as "Redis refused writes", the refusal as its cause', async (t) => {
  let calls = 0;
  const error = await t.throwsAsync(retryWhileOom(async () => {
    calls++;
    throw refused();
  }, { windowMs: 120 }));
  t.regex(error!.message, /^Redis refused writes: OOM command not allowed/);
  t.regex(String((error as Error & { cause?: Error }).cause?.message), /^OOM/);
  t.true(calls >= 2, `retried within the window (${calls} calls)`);
});
