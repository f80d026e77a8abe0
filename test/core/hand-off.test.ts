import test from 'ava';
import { decodeHandOff, encodeHandOff, findUnhandable, handOffForDisplay } from '../../src/core/hand-off.ts';
import { serialiseOutput } from '../../src/worker/output-check.ts';

/** The codec alone; the round trip through Redis and workers is in test/testing/equivalence.test.ts. */

test('each supported type comes back as it left, nested in arrays, objects, Maps and Sets', (t) => {
  const value = {
    when: new Date(Date.UTC(2024, 5, 1)),
    byKey: new Map<unknown, unknown>([[1, new Set([2n])], ['x', { at: new Date(0) }]]),
    list: [undefined, -0, Number.NaN, Number.POSITIVE_INFINITY, /x/u],
    nothing: undefined,
  };
  const back = decodeHandOff(encodeHandOff(value)) as typeof value;
  t.deepEqual(back, value);
  t.true(back.when instanceof Date);
  t.true(Object.is(back.list[1], -0));
  t.true('nothing' in back);
});

test('a collected map output and a minSuccess output (as the Lua collector joins them) decode per item', (t) => {
  const a = encodeHandOff({ day: new Date(0) });
  const b = encodeHandOff(new Set([1]));
  t.deepEqual(decodeHandOff(`[${a},${b}]`), [{ day: new Date(0) }, new Set([1])]);
  const partial = `{"succeeded":[${a}],"failed":[{"index":1,"item":${b},"error":{"message":"boom"}}]}`;
  t.deepEqual(decodeHandOff(partial), { succeeded: [{ day: new Date(0) }], failed: [{ index: 1, item: new Set([1]), error: { message: 'boom' } }] });
  t.deepEqual(handOffForDisplay(partial), { succeeded: [{ day: '1970-01-01T00:00:00.000Z' }], failed: [{ index: 1, item: [1], error: { message: 'boom' } }] });
});

test('user data shaped like an envelope is not mistaken for one; outputs stored as plain JSON still read', (t) => {
  const lookalike = { handoff: 1, json: 'mine' };
  t.deepEqual(decodeHandOff(encodeHandOff([lookalike])), [lookalike]);
  t.deepEqual(decodeHandOff('{"accuracy":0.9}'), { accuracy: 0.9 });
});

test('what cannot round-trip is named by its path inside the value', (t) => {
  class Booster {
    fit() {}
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  t.is(findUnhandable({ model: { fit: new Booster() } }, 'output'), 'output.model.fit: a class instance (Booster) cannot be handed off; return plain data');
  t.is(findUnhandable({ m: new Map([['k', () => 1]]) }, 'output'), 'output.m<"k">: a function cannot be handed off; return plain data');
  t.is(findUnhandable(new Set([1, Symbol('s')]), 'output'), 'output<item 1>: a Symbol cannot be handed off; use a string');
  t.is(findUnhandable({ a: [{ [Symbol('k')]: 1 }] }, 'output'), 'output.a[0]: a Symbol key (Symbol(k)) cannot be handed off; use a string key');
  t.is(findUnhandable({ c: cyclic }, 'output'), 'output.c.self: a circular reference cannot be handed off');
  t.is(findUnhandable({ bytes: new Uint8Array(2) }, 'output'), 'output.bytes: binary data cannot be handed off; store it as an artifact');
  const shared = { n: 1 };
  t.is(findUnhandable([shared, shared], 'output'), undefined, 'a value used twice is not a cycle');
  t.throws(() => serialiseOutput('train', { model: { fit: new Booster() } }), {
    message: 'step "train" output.model.fit: a class instance (Booster) cannot be handed off; return plain data',
  });
});
