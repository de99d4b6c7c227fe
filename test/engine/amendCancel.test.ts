import t from 'tap';
import { fastDriver } from '../fixtures/engine/fastDriver.js';

function twoMakers() {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 10, clientId: 11 });
  d.order({ account: 2, side: 'sell', price: 100, qty: 10 });
  return d;
}

t.test('amend quantity down keeps priority', (t) => {
  const d = twoMakers();
  t.same(d.amend(1, 1, 100, 4), ['AMENDED 1 p100 q4 l4', 'L2 S 100 14/2', 'BBO 0x0 100x14']);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 4 }), [
    'ACCEPTED 3',
    'FILL m1 t3 100x4 ml0 tl0',
    'L2 S 100 10/1',
    'BBO 0x0 100x10',
  ]);
  t.end();
});

t.test('amend with no change emits AMENDED only', (t) => {
  const d = twoMakers();
  t.same(d.amend(1, 1, 100, 10), ['AMENDED 1 p100 q10 l10']);
  t.end();
});

t.test('amend quantity up loses priority', (t) => {
  const d = twoMakers();
  t.same(d.amend(1, 1, 100, 12), ['AMENDED 1 p100 q12 l12', 'L2 S 100 22/2', 'BBO 0x0 100x22']);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 4 }), [
    'ACCEPTED 3',
    'FILL m2 t3 100x4 ml6 tl0',
    'L2 S 100 18/2',
    'BBO 0x0 100x18',
  ]);
  t.end();
});

t.test('amend price loses priority and can cross as a taker', (t) => {
  const d = twoMakers();
  d.order({ account: 3, side: 'buy', price: 98, qty: 3 });
  t.same(d.amend(2, 2, 101, 10), [
    'AMENDED 2 p101 q10 l10',
    'L2 S 100 10/1',
    'L2 S 101 10/1',
    'BBO 98x3 100x10',
  ]);
  t.same(d.amend(2, 2, 100, 10), [
    'AMENDED 2 p100 q10 l10',
    'L2 S 100 20/2',
    'L2 S 101 0/0',
    'BBO 98x3 100x20',
  ]);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 11 }), [
    'ACCEPTED 4',
    'FILL m1 t4 100x10 ml0 tl1',
    'FILL m2 t4 100x1 ml9 tl0',
    'L2 S 100 9/1',
    'BBO 98x3 100x9',
  ]);
  t.same(d.amend(2, 2, 97, 10), [
    'AMENDED 2 p97 q10 l9',
    'FILL m3 t2 98x3 ml0 tl6',
    'L2 B 98 0/0',
    'L2 S 97 6/1',
    'L2 S 100 0/0',
    'BBO 0x0 97x6',
  ]);
  t.end();
});

t.test('amend: filled, unknown, foreign orders and bad values are rejected with a reason', (t) => {
  const d = twoMakers();
  d.order({ account: 3, side: 'buy', price: 100, qty: 10 });
  // Amend racing a fill: order 1 is gone.
  t.same(d.amend(1, 1, 100, 5), ['REJECTED ORDER_NOT_FOUND']);
  t.same(d.amend(2, 999, 100, 5), ['REJECTED ORDER_NOT_FOUND']);
  t.same(d.amend(1, 2, 100, 5), ['REJECTED ORDER_NOT_FOUND']);
  d.order({ account: 3, side: 'buy', price: 100, qty: 4 });
  // Order 2 has 4 filled: new total quantity must exceed it.
  t.same(d.amend(2, 2, 100, 4), ['REJECTED AMEND_QTY_NOT_ABOVE_FILLED']);
  t.same(d.amend(2, 2, 100, 5), ['AMENDED 2 p100 q5 l1', 'L2 S 100 1/1', 'BBO 0x0 100x1']);
  t.same(d.amend(2, 2, 100, 0), ['REJECTED INVALID_QUANTITY']);
  t.same(d.amend(2, 2, 100, 2_000_000), ['REJECTED QUANTITY_ABOVE_MAX']);
  t.same(d.amend(2, 2, 0, 5), ['REJECTED INVALID_PRICE']);
  t.same(d.amend(2, 2, 10_001, 5), ['REJECTED PRICE_OUT_OF_RANGE']);
  const [e] = d.run();
  t.equal(e.orderId, 2);
  t.equal(e.commandType, 4);
  t.end();
});

t.test('amend of a post-only order to a crossing price is rejected; the order stays', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 10 });
  d.order({ account: 2, side: 'buy', price: 99, qty: 10, postOnly: true });
  t.same(d.amend(2, 2, 100, 10), ['REJECTED POST_ONLY_WOULD_TAKE']);
  t.same(d.amend(2, 2, 98, 10), ['AMENDED 2 p98 q10 l10', 'L2 B 99 0/0', 'L2 B 98 10/1', 'BBO 98x10 100x10']);
  t.end();
});

t.test('amend of an iceberg: quantity down trims the slice, up refills it at the back', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.order({ account: 1, side: 'sell', price: 100, qty: 10, display: 4 });
  d.order({ account: 2, side: 'sell', price: 100, qty: 1 });
  t.same(d.amend(1, 1, 100, 3), ['AMENDED 1 p100 q3 l3', 'L2 S 100 4/2', 'BBO 0x0 100x4']);
  t.same(d.amend(1, 1, 100, 20), ['AMENDED 1 p100 q20 l20', 'L2 S 100 5/2', 'BBO 0x0 100x5']);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 1 })[1], 'FILL m2 t3 100x1 ml0 tl0');
  t.end();
});

t.test('cancel by order id and by client order id', (t) => {
  const d = twoMakers();
  t.same(d.cancel(2, 1), ['REJECTED ORDER_NOT_FOUND']);
  t.same(d.cancel(1, 1, 2), ['REJECTED UNKNOWN_SYMBOL']);
  t.same(d.cancelByClientId(2, 11), ['REJECTED ORDER_NOT_FOUND']);
  t.same(d.cancelByClientId(1, 0), ['REJECTED ORDER_NOT_FOUND']);
  t.same(d.cancelByClientId(1, 11), ['CANCELLED 1 USER_CANCEL', 'L2 S 100 10/1', 'BBO 0x0 100x10']);
  t.same(d.cancelByClientId(1, 11), ['REJECTED ORDER_NOT_FOUND']);
  t.same(d.cancel(2, 2), ['CANCELLED 2 USER_CANCEL', 'L2 S 100 0/0', 'BBO 0x0 0x0']);
  t.same(d.cancel(2, 2), ['REJECTED ORDER_NOT_FOUND']);
  // The client order id is free again once the order is closed.
  t.same(d.order({ account: 1, side: 'buy', price: 90, qty: 1, clientId: 11 })[0], 'ACCEPTED 3');
  t.end();
});

t.test('mass cancel of thousands: ascending order id, symbol and side filters, exact stream', (t) => {
  const d = fastDriver(10_000, 16, 4, 16);
  d.addSymbol({ symbol: 1 });
  d.addSymbol({ symbol: 2 });
  const n = 4000; // > 1024 bid levels on symbol 1: the market-data scratch grows
  const cancelled: string[] = [];
  const levels: string[] = [];
  for (let i = 0; i < n; i++) {
    const side = i % 2 === 0 ? 'buy' : 'sell';
    const price = side === 'buy' ? 1000 + i : 5000 + i;
    const symbol = i % 3 === 2 ? 2 : 1;
    d.order({ account: 1, side, price, qty: 1, symbol });
    if (side === 'buy' && symbol === 1) {
      cancelled.push(`CANCELLED ${i + 1} MASS_CANCEL`);
      levels.unshift(`L2 B ${price} 0/0`);
    }
  }
  d.order({ account: 2, side: 'buy', price: 999, qty: 1 });
  t.same(d.massCancel(1, 1, 1), [
    ...cancelled,
    `MASS_CANCEL_DONE ${cancelled.length}`,
    ...levels,
    'BBO 999x1 5001x1',
  ]);
  const rest = d.massCancel(1);
  t.equal(rest.filter((e) => e.startsWith('CANCELLED')).length, n - cancelled.length);
  t.same(d.l2('sell', 1), []);
  t.same(d.l2('buy', 2), []);
  t.same(d.l2('buy', 1), [[999, 1, 1]]);
  t.end();
});

t.test('mass cancel: event order and contents', (t) => {
  const d = fastDriver();
  d.addSymbol({ symbol: 1 });
  d.addSymbol({ symbol: 2 });
  d.order({ account: 1, side: 'buy', price: 100, qty: 1, symbol: 2 });
  d.order({ account: 1, side: 'sell', price: 200, qty: 1, symbol: 1 });
  d.order({ account: 1, side: 'buy', price: 100, qty: 2, symbol: 1 });
  d.order({ account: 1, side: 'sell', type: 'stop', stop: 50, qty: 1, symbol: 1 });
  d.order({ account: 2, side: 'buy', price: 100, qty: 1, symbol: 1 });
  t.same(d.massCancel(1, 0, 9), ['REJECTED INVALID_SIDE']);
  t.same(d.massCancel(1, 1, 2), [
    'CANCELLED 2 MASS_CANCEL',
    'CANCELLED 4 MASS_CANCEL',
    'MASS_CANCEL_DONE 2',
    'L2 S 200 0/0',
    'BBO 100x3 0x0',
  ]);
  t.same(d.massCancel(1), [
    'CANCELLED 1 MASS_CANCEL',
    'CANCELLED 3 MASS_CANCEL',
    'MASS_CANCEL_DONE 2',
    'L2 B 100 1/1',
    'BBO 100x1 0x0',
    'L2 B 100 0/0',
    'BBO 0x0 0x0',
  ]);
  t.same(d.massCancel(77), ['MASS_CANCEL_DONE 0']);
  t.end();
});

t.test('amend by client order id: 0 keeps the price or the quantity; only the own account', (t) => {
  const d = twoMakers();
  t.same(d.amendByClientId(2, 11, 100, 5), ['REJECTED ORDER_NOT_FOUND'], "another account's client id");
  t.same(d.amendByClientId(1, 0, 100, 5), ['REJECTED ORDER_NOT_FOUND'], 'client id 0 names nothing');
  t.same(
    d.amendByClientId(1, 11, 0, 4),
    ['AMENDED 1 p100 q4 l4', 'L2 S 100 14/2', 'BBO 0x0 100x14'],
    'price kept',
  );
  t.same(d.amendByClientId(1, 11, 0, 0), ['AMENDED 1 p100 q4 l4'], 'both kept: a no-op amend');
  t.same(d.amendByClientId(1, 11, 101, 0)[0], 'AMENDED 1 p101 q4 l4', 'quantity kept, price moved');
  t.same(d.amendByClientId(1, 11, 0, -1), ['REJECTED INVALID_QUANTITY']);
  t.same(d.cancelByClientId(1, 11)[0], 'CANCELLED 1 USER_CANCEL');
  t.same(d.amendByClientId(1, 11, 0, 5), ['REJECTED ORDER_NOT_FOUND'], 'closed');
  t.end();
});
