import t from 'tap';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import type { EngineDriver } from '../fixtures/engine/EngineDriver.js';
import { decodeEvent } from '../fixtures/engine/EngineDriver.js';
import { fastDriver } from '../fixtures/engine/fastDriver.js';
import { runRandom } from '../fixtures/engine/randomCommands.js';

const SEEDS = [1, 2, 0xdecaf];
const STEPS = 2500;

t.test('same commands give byte-identical events and the same state hash', (t) => {
  for (const seed of SEEDS) {
    const a = fastDriver(300, 16, 4, 8);
    const b = fastDriver(300, 16, 4, 64);
    runRandom(a, seed, STEPS);
    runRandom(b, seed, STEPS);
    t.equal(a.sink.count, b.sink.count, `seed ${seed}: event count`);
    t.ok(Buffer.from(a.sink.written()).equals(Buffer.from(b.sink.written())), `seed ${seed}: event bytes`);
    t.equal(a.engine.stateHash(), b.engine.stateHash(), `seed ${seed}: state hash`);
    // Replaying the recorded command log reproduces both.
    const c = fastDriver(300, 16, 4);
    for (const rec of a.log) {
      new Uint8Array(c.cmd.buffer).set(rec);
      c.run();
    }
    t.ok(Buffer.from(a.sink.written()).equals(Buffer.from(c.sink.written())), `seed ${seed}: replay bytes`);
    t.equal(a.engine.stateHash(), c.engine.stateHash(), `seed ${seed}: replay hash`);
  }
  t.end();
});

t.test('the state hash tracks state', (t) => {
  const a = fastDriver();
  const h0 = a.engine.stateHash();
  a.addSymbol();
  const h1 = a.engine.stateHash();
  a.order({ account: 1, side: 'buy', price: 100, qty: 1 });
  const h2 = a.engine.stateHash();
  a.amend(1, 1, 100, 2);
  const h3 = a.engine.stateHash();
  t.equal(new Set([h0, h1, h2, h3]).size, 4);
  t.match(h3, /^[0-9a-f]{16}$/);
  t.end();
});

/** Rebuilds L2 and BBO from the event stream and checks them, and the book invariants, after every command. */
function checkMarketData(d: EngineDriver) {
  const mirror = new Map<string, [number, number]>();
  const bbo = new Map<number, number[]>();
  let seen = 0;
  let lastSeq = 0;
  return () => {
    for (; seen < d.sink.count; seen++) {
      const e = decodeEvent(d.sink.view, seen * EVENT_SIZE);
      if (e.seq !== lastSeq + 1) throw new Error(`seq gap ${lastSeq} -> ${e.seq}`);
      lastSeq = e.seq;
      if (e.type === 'L2_UPDATE') {
        const key = `${e.symbolId}/${e.side}/${e.price}`;
        const prev = mirror.get(key) ?? [0, 0];
        if (prev[0] === e.quantity && prev[1] === e.orderCount) throw new Error(`no-op L2 ${key}`);
        if (e.quantity === 0) mirror.delete(key);
        else mirror.set(key, [e.quantity as number, e.orderCount as number]);
      } else if (e.type === 'BBO') {
        bbo.set(e.symbolId, [e.bidPrice, e.bidQty, e.askPrice, e.askQty] as number[]);
      } else if (e.type === 'FILL' && !((e.quantity as number) > 0)) {
        throw new Error('empty fill');
      }
    }
    for (let s = 1; s <= 3; s++) {
      const bids = d.l2('buy', s, 1000);
      const asks = d.l2('sell', s, 1000);
      const got = [
        ...bids.map((r) => [`${s}/1/${r[0]}`, r[1], r[2]]),
        ...asks.map((r) => [`${s}/2/${r[0]}`, r[1], r[2]]),
      ];
      for (const [k, q, c] of got) {
        const m = mirror.get(k as string);
        if (!m || m[0] !== q || m[1] !== c) throw new Error(`L2 mirror differs at ${k}: ${m} vs ${q}/${c}`);
      }
      const count = [...mirror.keys()].filter((k) => k.startsWith(`${s}/`)).length;
      if (count !== got.length)
        throw new Error(`L2 mirror has ${count} levels for symbol ${s}, book ${got.length}`);
      if (bids.length && asks.length && bids[0][0] >= asks[0][0]) throw new Error(`crossed book on ${s}`);
      const top = [bids[0]?.[0] ?? 0, bids[0]?.[1] ?? 0, asks[0]?.[0] ?? 0, asks[0]?.[1] ?? 0];
      const b = bbo.get(s) ?? [0, 0, 0, 0];
      if (top.join() !== b.join()) throw new Error(`BBO mirror ${b} vs book ${top} on ${s}`);
    }
  };
}

t.test('L2/BBO events rebuild the book exactly; no crossed book; seq has no gaps', (t) => {
  for (const seed of SEEDS) {
    const d = fastDriver(300, 16, 4, 4);
    const check = checkMarketData(d);
    t.doesNotThrow(() => runRandom(d, seed, STEPS, check), `seed ${seed}`);
  }
  t.end();
});
