import t from 'tap';
import { fastDriver } from '../fixtures/engine/fastDriver.js';

t.test('worked example of docs/matching.md section 10', (t) => {
  const d = fastDriver();
  t.same(d.addSymbol(), ['SYMBOL_ADDED']);
  t.same(d.order({ account: 1, side: 'sell', price: 100, qty: 10 }), [
    'ACCEPTED 1',
    'L2 S 100 10/1',
    'BBO 0x0 100x10',
  ]);
  t.same(d.order({ account: 2, side: 'buy', price: 101, qty: 15, tif: 'ioc' }), [
    'ACCEPTED 2',
    'FILL m1 t2 100x10 ml0 tl5',
    'CANCELLED 2 IOC_UNFILLED',
    'L2 S 100 0/0',
    'BBO 0x0 0x0',
  ]);
  t.end();
});

t.test('price-time priority across levels, partial fill of the last maker', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 5 });
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  d.order({ account: 3, side: 'sell', price: 99, qty: 5 });
  t.same(d.l2('sell'), [
    [99, 5, 1],
    [100, 10, 2],
  ]);
  t.same(d.order({ account: 9, side: 'buy', price: 100, qty: 12 }), [
    'ACCEPTED 4',
    'FILL m3 t4 99x5 ml0 tl7',
    'FILL m1 t4 100x5 ml0 tl2',
    'FILL m2 t4 100x2 ml3 tl0',
    'L2 S 99 0/0',
    'L2 S 100 3/1',
    'BBO 0x0 100x3',
  ]);
  t.same(d.order({ account: 9, side: 'buy', price: 98, qty: 1 }), [
    'ACCEPTED 5',
    'L2 B 98 1/1',
    'BBO 98x1 100x3',
  ]);
  t.end();
});

t.test('limit order rests its remainder; sell side matches highest bid first', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'buy', price: 98, qty: 2 });
  d.order({ account: 1, side: 'buy', price: 99, qty: 2 });
  t.same(d.order({ account: 2, side: 'sell', price: 98, qty: 5 }), [
    'ACCEPTED 3',
    'FILL m2 t3 99x2 ml0 tl3',
    'FILL m1 t3 98x2 ml0 tl1',
    'L2 B 99 0/0',
    'L2 B 98 0/0',
    'L2 S 98 1/1',
    'BBO 0x0 98x1',
  ]);
  t.end();
});

t.test('event headers: seq, timestamp, correlation and session echo, account', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.ts = 50;
  d.order({ account: 4, side: 'sell', price: 100, qty: 1, session: 11, clientId: 77 });
  const ev = (() => {
    d.writeOrder({ account: 5, side: 'buy', price: 100, qty: 1, session: 12, correlation: 99, ts: 60 });
    return d.run();
  })();
  t.same(
    ev.map((e) => e.seq),
    [5, 6, 7, 8],
  );
  for (const e of ev) {
    t.equal(e.timestamp, 60);
    t.equal(e.correlationId, 99);
    t.equal(e.sessionId, 12);
  }
  t.equal(ev[0].accountId, 5);
  t.equal(ev[1].type, 'FILL');
  t.equal(ev[1].makerSessionId, 11);
  t.equal(ev[1].takerSessionId, 12);
  t.equal(ev[1].makerAccountId, 4);
  t.equal(ev[1].takerAccountId, 5);
  t.equal(ev[1].makerClientOrderId, 77);
  t.equal(ev[1].tradeId, 1);
  t.equal(ev[1].side, 1);
  t.equal(d.engine.sequence, 8);
  // A command with an older timestamp does not move time back.
  d.writeOrder({ account: 5, side: 'buy', price: 90, qty: 1, ts: 10 });
  t.equal(d.run()[0].timestamp, 60);
  t.end();
});

t.test('unknown command type and unknown symbol', (t) => {
  const d = fastDriver();
  d.cmd.setUint8(0, 99);
  const [e] = d.run();
  t.equal(e.type, 'REJECTED');
  t.equal(e.reason, 'UNKNOWN_COMMAND');
  t.equal(e.commandType, 99);
  t.same(d.order({ account: 1, side: 'buy', qty: 1 }), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.order({ account: 1, side: 'buy', qty: 1, symbol: 70000 }), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.cancel(1, 1), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.amend(1, 1, 100, 1), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.cancelByClientId(1, 5), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.massCancel(1, 3), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.advance(5), []);
  t.equal(d.sink.commits, 8);
  t.end();
});

t.test('l2() query', (t) => {
  const d = fastDriver();
  d.addSymbol();
  for (let p = 90; p < 100; p++) d.order({ account: 1, side: 'buy', price: p, qty: p });
  t.same(d.l2('buy', 1, 2), [
    [99, 99, 1],
    [98, 98, 1],
  ]);
  t.same(d.l2('sell'), []);
  t.same(d.l2('buy', 2), []);
  t.equal(d.engine.l2(1, 3, new Float64Array(3)), 0);
  t.equal(d.engine.l2(0, 1, new Float64Array(3)), 0);
  t.end();
});
