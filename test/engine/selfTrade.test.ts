import t from 'tap';
import { StpMode } from '../../engine/records/OrderCodes.js';
import { fastDriver } from '../fixtures/engine/fastDriver.js';

function twoMakers() {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 5 });
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  return d;
}

t.test('EXPIRE_TAKER (default): the taker is cancelled, the maker stays', (t) => {
  const d = twoMakers();
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 8 }), [
    'ACCEPTED 3',
    'STP EXPIRE_TAKER m1 t3 q5 ml5 tl8',
    'CANCELLED 3 SELF_TRADE',
  ]);
  const e = (() => {
    d.writeOrder({ account: 1, side: 'buy', price: 100, qty: 8, stp: StpMode.EXPIRE_TAKER });
    return d.run();
  })();
  t.equal(e[1].type, 'SELF_TRADE_PREVENTED');
  t.equal(e[1].stpMode, 0);
  t.equal(e[1].price, 100);
  t.equal(e[1].tradeId, undefined);
  t.end();
});

t.test('EXPIRE_TAKER after partial fills against others', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  d.order({ account: 1, side: 'sell', price: 100, qty: 5 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 8 }), [
    'ACCEPTED 3',
    'FILL m1 t3 100x5 ml0 tl3',
    'STP EXPIRE_TAKER m2 t3 q3 ml5 tl3',
    'CANCELLED 3 SELF_TRADE',
    'L2 S 100 5/1',
    'BBO 0x0 100x5',
  ]);
  t.end();
});

t.test('EXPIRE_MAKER: the maker is cancelled, matching continues', (t) => {
  const d = twoMakers();
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 8, stp: StpMode.EXPIRE_MAKER }), [
    'ACCEPTED 3',
    'STP EXPIRE_MAKER m1 t3 q5 ml5 tl8',
    'CANCELLED 1 SELF_TRADE',
    'FILL m2 t3 100x5 ml0 tl3',
    'L2 B 100 3/1',
    'L2 S 100 0/0',
    'BBO 100x3 0x0',
  ]);
  t.end();
});

t.test('EXPIRE_BOTH: maker then taker cancelled', (t) => {
  const d = twoMakers();
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 8, stp: StpMode.EXPIRE_BOTH }), [
    'ACCEPTED 3',
    'STP EXPIRE_BOTH m1 t3 q5 ml5 tl8',
    'CANCELLED 1 SELF_TRADE',
    'CANCELLED 3 SELF_TRADE',
    'L2 S 100 5/1',
    'BBO 0x0 100x5',
  ]);
  t.end();
});

t.test('DECREMENT: both reduced by the smaller quantity; the one at zero is cancelled', (t) => {
  const d = twoMakers();
  const ev = (() => {
    d.writeOrder({ account: 1, side: 'buy', price: 100, qty: 8, stp: StpMode.DECREMENT });
    return d.run();
  })();
  t.same(
    ev.map((e) => e.type),
    ['ACCEPTED', 'SELF_TRADE_PREVENTED', 'CANCELLED', 'FILL', 'L2_UPDATE', 'BBO'],
  );
  t.match(ev[1], { quantity: 5, makerLeavesQty: 0, takerLeavesQty: 3 });
  // The cancelled maker reports its reduced quantity: nothing filled, nothing left.
  t.match(ev[2], { orderId: 1, quantity: 0, filledQty: 0, leavesQty: 0, reason: 'SELF_TRADE' });
  t.match(ev[3], { makerOrderId: 2, quantity: 3, makerLeavesQty: 2, takerLeavesQty: 0 });
  t.match(ev[4], { price: 100, quantity: 2, orderCount: 1 });

  // Taker smaller than the maker: the taker is cancelled, the maker keeps its place, reduced.
  const d2 = twoMakers();
  t.same(d2.order({ account: 1, side: 'buy', price: 100, qty: 3, stp: StpMode.DECREMENT }), [
    'ACCEPTED 3',
    'STP DECREMENT m1 t3 q3 ml2 tl0',
    'CANCELLED 3 SELF_TRADE',
    'L2 S 100 7/2',
    'BBO 0x0 100x7',
  ]);
  t.same(d2.order({ account: 3, side: 'buy', price: 100, qty: 1 }), [
    'ACCEPTED 4',
    'FILL m1 t4 100x1 ml1 tl0',
    'L2 S 100 6/2',
    'BBO 0x0 100x6',
  ]);
  // Equal quantities: maker then taker cancelled.
  t.same(d2.order({ account: 1, side: 'buy', price: 100, qty: 1, stp: StpMode.DECREMENT }), [
    'ACCEPTED 5',
    'STP DECREMENT m1 t5 q1 ml0 tl0',
    'CANCELLED 1 SELF_TRADE',
    'CANCELLED 5 SELF_TRADE',
    'L2 S 100 5/1',
    'BBO 0x0 100x5',
  ]);
  t.end();
});

t.test('DECREMENT on an iceberg maker shrinks its visible slice', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 10, display: 4 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 7, stp: StpMode.DECREMENT, tif: 'ioc' }), [
    'ACCEPTED 2',
    'STP DECREMENT m1 t2 q7 ml3 tl0',
    'CANCELLED 2 SELF_TRADE',
    'L2 S 100 3/1',
    'BBO 0x0 100x3',
  ]);
  t.end();
});

t.test('trade group: different accounts of one group do not trade', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 5, group: 42 });
  t.same(d.order({ account: 2, side: 'buy', price: 100, qty: 5, group: 42 }), [
    'ACCEPTED 2',
    'STP EXPIRE_TAKER m1 t2 q5 ml5 tl5',
    'CANCELLED 2 SELF_TRADE',
  ]);
  t.same(d.order({ account: 2, side: 'buy', price: 100, qty: 5, group: 0 }), [
    'ACCEPTED 3',
    'FILL m1 t3 100x5 ml0 tl0',
    'L2 S 100 0/0',
    'BBO 0x0 0x0',
  ]);
  t.same(d.order({ account: 2, side: 'buy', price: 100, qty: 5, stp: 4 }), ['REJECTED INVALID_STP_MODE']);
  t.end();
});
