import test from 'ava';
import { silentLogger } from '../../src/core/logger.ts';
import { LeaseKeeper } from '../../src/worker/lease-keeper.ts';

/** Polls `check` every 5 ms for up to `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('one timer renews every held lease until it is released; a lease another delivery took stops its attempt once', async (t) => {
  const keeper = new LeaseKeeper(30, silentLogger);
  const renewals = { a: 0, b: 0 };
  let lost = 0;
  const stopA = keeper.keep(async () => (renewals.a++, true), () => t.fail('a was never lost'));
  const stopB = keeper.keep(async () => (renewals.b++, renewals.b < 2), () => lost++);
  await until(() => renewals.a >= 3 && renewals.b >= 3, 5_000, 'three renewals of each lease');
  t.is(lost, renewals.b - 1, 'every renewal after the first that found the lease gone reported it');
  stopA();
  stopB();
  const after = { ...renewals };
  // Released leases are never renewed again: wait for several more ticks of the shared timer.
  const tick = keeper.keep(async () => true, () => {});
  let ticks = 0;
  const stopTick = keeper.keep(async () => (ticks++, true), () => {});
  await until(() => ticks >= 3, 5_000, 'three more ticks');
  stopTick();
  tick();
  t.deepEqual(renewals, after);
});
