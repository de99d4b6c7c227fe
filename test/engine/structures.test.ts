import t from 'tap';
import { BitIndex } from '../../engine/book/BitIndex.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { OrderPool } from '../../engine/book/OrderPool.js';
import { StateHasher } from '../../engine/book/StateHasher.js';
import { EngineDriver } from '../fixtures/engine/EngineDriver.js';
import { prng } from '../fixtures/engine/randomCommands.js';

t.test('BitIndex next/prev agree with a naive set', (t) => {
  for (const size of [1, 31, 32, 33, 1000, 1 << 15, 100_003]) {
    const bits = new BitIndex(size);
    const set = new Uint8Array(size);
    const rnd = prng(size);
    let bad = 0;
    for (let i = 0; i < 3000; i++) {
      const k = Math.floor(rnd() * size);
      if (rnd() < 0.6) {
        bits.set(k);
        set[k] = 1;
      } else {
        bits.clear(k);
        set[k] = 0;
      }
      const q = Math.floor(rnd() * (size + 2)) - 1;
      let next = -1;
      for (let j = Math.max(q, 0); j < size; j++) {
        if (set[j]) {
          next = j;
          break;
        }
      }
      let prev = -1;
      for (let j = Math.min(q, size - 1); j >= 0; j--) {
        if (set[j]) {
          prev = j;
          break;
        }
      }
      if (bits.next(q) !== next || bits.prev(q) !== prev || bits.has(k) !== (set[k] === 1)) bad++;
    }
    t.equal(bad, 0, `size ${size}`);
  }
  t.throws(() => new BitIndex(0), { code: 'EXC_ERR_ENGINE_CONFIG' });
  t.end();
});

t.test('configuration errors name the bad value', (t) => {
  const ok = { shardId: 0, maxOrders: 8, maxSymbols: 1, maxAccounts: 1 };
  t.throws(() => new MatchingEngine({ ...ok, shardId: 8192 }), { message: /shardId .* got 8192/ });
  t.throws(() => new MatchingEngine({ ...ok, shardId: 1.5 }), { code: 'EXC_ERR_ENGINE_CONFIG' });
  t.throws(() => new MatchingEngine({ ...ok, maxSymbols: 0 }), { message: /maxSymbols .* got 0/ });
  t.throws(() => new MatchingEngine({ ...ok, maxOrders: 0 }), { message: /maxOrders .* got 0/ });
  t.throws(() => new MatchingEngine({ ...ok, maxAccounts: -1 }), { message: /maxAccounts .* got -1/ });
  t.throws(() => new MatchingEngine({ ...ok, initialLevels: 0 }), { message: /level capacity .* got 0/ });
  t.throws(() => new OrderPool(2 ** 30), { code: 'EXC_ERR_ENGINE_CONFIG' });
  const e = new MatchingEngine(ok);
  t.throws(
    () =>
      e.process(new DataView(new ArrayBuffer(10)), 0, {
        view: new DataView(new ArrayBuffer(0)),
        claim: () => 0,
        commit: () => {},
      }),
    {
      code: 'EXC_ERR_RECORD_BOUNDS',
    },
  );
  t.end();
});

t.test('order ids and trade ids carry the shard', (t) => {
  const d = new EngineDriver(new MatchingEngine({ shardId: 5, maxOrders: 8, maxSymbols: 1, maxAccounts: 2 }));
  t.equal(d.engine.sequence, 0);
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 1 });
  d.writeOrder({ account: 2, side: 'buy', price: 100, qty: 1 });
  const [accepted, fill] = d.run();
  t.equal(accepted.orderId, 5 * 2 ** 40 + 2);
  t.equal(fill.makerOrderId, 5 * 2 ** 40 + 1);
  t.equal(fill.tradeId, 5 * 2 ** 40 + 1);
  t.same(d.cancel(1, 5 * 2 ** 40 + 1), ['REJECTED ORDER_NOT_FOUND']);
  t.end();
});

t.test('StateHasher: order and value sensitive, 16 hex digits', (t) => {
  const h = (xs: number[]) => {
    const s = new StateHasher();
    for (const x of xs) s.add(x);
    return s.digest();
  };
  t.equal(h([1, 2, 3]), h([1, 2, 3]));
  t.not(h([1, 2, 3]), h([3, 2, 1]));
  t.not(h([2 ** 32]), h([1]));
  t.not(h([]), h([0]));
  t.match(h([Number.MAX_SAFE_INTEGER]), /^[0-9a-f]{16}$/);
  t.end();
});
