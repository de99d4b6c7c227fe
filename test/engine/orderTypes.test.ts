import t from 'tap';
import { fastDriver } from '../fixtures/engine/fastDriver.js';

function book() {
  const d = fastDriver();
  d.addSymbol();
  return d;
}

t.test('market order: sweeps levels, cancels the remainder; empty book', (t) => {
  const d = book();
  t.same(d.order({ account: 1, side: 'buy', type: 'market', qty: 5 }), [
    'ACCEPTED 1',
    'CANCELLED 1 IOC_UNFILLED',
  ]);
  d.order({ account: 2, side: 'sell', price: 100, qty: 2 });
  d.order({ account: 2, side: 'sell', price: 500, qty: 2 });
  t.same(d.order({ account: 1, side: 'buy', type: 'market', qty: 5 }), [
    'ACCEPTED 4',
    'FILL m2 t4 100x2 ml0 tl3',
    'FILL m3 t4 500x2 ml0 tl1',
    'CANCELLED 4 IOC_UNFILLED',
    'L2 S 100 0/0',
    'L2 S 500 0/0',
    'BBO 0x0 0x0',
  ]);
  t.same(d.order({ account: 1, side: 'buy', type: 'market', tif: 'gtc', qty: 5 }), [
    'REJECTED INVALID_TIME_IN_FORCE',
  ]);
  t.end();
});

t.test('IOC limit stops at its price', (t) => {
  const d = book();
  d.order({ account: 2, side: 'sell', price: 100, qty: 2 });
  d.order({ account: 2, side: 'sell', price: 101, qty: 2 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 5, tif: 'ioc' }), [
    'ACCEPTED 3',
    'FILL m1 t3 100x2 ml0 tl3',
    'CANCELLED 3 IOC_UNFILLED',
    'L2 S 100 0/0',
    'BBO 0x0 101x2',
  ]);
  t.end();
});

t.test('FOK that exactly fills across levels', (t) => {
  const d = book();
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  d.order({ account: 3, side: 'sell', price: 101, qty: 5 });
  d.order({ account: 3, side: 'sell', price: 102, qty: 5 });
  t.same(d.order({ account: 1, side: 'buy', price: 101, qty: 10, tif: 'fok' }), [
    'ACCEPTED 4',
    'FILL m1 t4 100x5 ml0 tl5',
    'FILL m2 t4 101x5 ml0 tl0',
    'L2 S 100 0/0',
    'L2 S 101 0/0',
    'BBO 0x0 102x5',
  ]);
  t.end();
});

t.test('FOK that cannot fill leaves the book untouched', (t) => {
  const d = book();
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  d.order({ account: 3, side: 'sell', price: 101, qty: 5 });
  d.order({ account: 3, side: 'sell', price: 102, qty: 5 });
  const before = d.engine.stateHash();
  t.same(d.order({ account: 1, side: 'buy', price: 101, qty: 11, tif: 'fok' }), [
    'ACCEPTED 4',
    'CANCELLED 4 FOK_NOT_FILLABLE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', type: 'market', qty: 16, tif: 'fok' }), [
    'ACCEPTED 5',
    'CANCELLED 5 FOK_NOT_FILLABLE',
  ]);
  // An own order inside the levels needed fails the precheck (no self-trade can happen mid-FOK).
  d.order({ account: 1, side: 'sell', price: 101, qty: 5 });
  t.same(d.order({ account: 1, side: 'buy', price: 101, qty: 6, tif: 'fok' }), [
    'ACCEPTED 7',
    'CANCELLED 7 FOK_NOT_FILLABLE',
  ]);
  t.not(d.engine.stateHash(), before);
  t.end();
});

t.test('FOK counts hidden iceberg quantity', (t) => {
  const d = book();
  d.order({ account: 2, side: 'sell', price: 100, qty: 10, display: 2 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 10, tif: 'fok' }), [
    'ACCEPTED 2',
    'FILL m1 t2 100x2 ml8 tl8',
    'FILL m1 t2 100x2 ml6 tl6',
    'FILL m1 t2 100x2 ml4 tl4',
    'FILL m1 t2 100x2 ml2 tl2',
    'FILL m1 t2 100x2 ml0 tl0',
    'L2 S 100 0/0',
    'BBO 0x0 0x0',
  ]);
  t.end();
});

t.test('post-only: rejected (not repriced) when it would take, rests otherwise', (t) => {
  const d = book();
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 1, postOnly: true }), [
    'REJECTED POST_ONLY_WOULD_TAKE',
  ]);
  t.same(d.order({ account: 2, side: 'buy', price: 101, qty: 1, postOnly: true }), [
    'REJECTED POST_ONLY_WOULD_TAKE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 99, qty: 1, postOnly: true }), [
    'ACCEPTED 2',
    'L2 B 99 1/1',
    'BBO 99x1 100x5',
  ]);
  t.same(d.order({ account: 1, side: 'sell', price: 99, qty: 1, postOnly: true }), [
    'REJECTED POST_ONLY_WOULD_TAKE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 99, qty: 1, postOnly: true, tif: 'ioc' }), [
    'REJECTED INVALID_FLAGS',
  ]);
  t.same(d.order({ account: 1, side: 'buy', type: 'market', qty: 1, postOnly: true }), [
    'REJECTED INVALID_FLAGS',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 99, qty: 1, flags: 2 }), ['REJECTED INVALID_FLAGS']);
  t.end();
});

t.test('minimum quantity on entry', (t) => {
  const d = book();
  d.order({ account: 2, side: 'sell', price: 100, qty: 3 });
  d.order({ account: 2, side: 'sell', price: 102, qty: 3 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 10, minQty: 4 }), [
    'ACCEPTED 3',
    'CANCELLED 3 MIN_QTY_NOT_AVAILABLE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 10, minQty: 3 }), [
    'ACCEPTED 4',
    'FILL m1 t4 100x3 ml0 tl7',
    'L2 B 100 7/1',
    'L2 S 100 0/0',
    'BBO 100x7 102x3',
  ]);
  t.same(d.order({ account: 3, side: 'sell', type: 'market', qty: 8, minQty: 8 }), [
    'ACCEPTED 5',
    'CANCELLED 5 MIN_QTY_NOT_AVAILABLE',
  ]);
  t.same(d.order({ account: 3, side: 'sell', type: 'stop', stop: 90, qty: 8, minQty: 8, tif: 'gtc' }), [
    'REJECTED INVALID_MIN_QTY',
  ]);
  t.same(d.order({ account: 3, side: 'sell', qty: 8, minQty: 9 }), ['REJECTED INVALID_MIN_QTY']);
  t.end();
});

t.test('iceberg: shows one slice, each refill goes to the back of its level', (t) => {
  const d = book();
  t.same(d.order({ account: 1, side: 'sell', price: 100, qty: 10, display: 3 }), [
    'ACCEPTED 1',
    'L2 S 100 3/1',
    'BBO 0x0 100x3',
  ]);
  d.order({ account: 2, side: 'sell', price: 100, qty: 5 });
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 4 }), [
    'ACCEPTED 3',
    'FILL m1 t3 100x3 ml7 tl1',
    'FILL m2 t3 100x1 ml4 tl0',
    'L2 S 100 7/2',
    'BBO 0x0 100x7',
  ]);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 10 }), [
    'ACCEPTED 4',
    'FILL m2 t4 100x4 ml0 tl6',
    'FILL m1 t4 100x3 ml4 tl3',
    'FILL m1 t4 100x3 ml1 tl0',
    'L2 S 100 1/1',
    'BBO 0x0 100x1',
  ]);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 5, display: 6 }), [
    'REJECTED INVALID_DISPLAY_QTY',
  ]);
  t.same(d.order({ account: 3, side: 'buy', price: 100, qty: 5, display: 2, tif: 'ioc' }), [
    'REJECTED INVALID_DISPLAY_QTY',
  ]);
  t.end();
});

t.test('iceberg taker rests with a display slice', (t) => {
  const d = book();
  d.order({ account: 1, side: 'sell', price: 100, qty: 3 });
  t.same(d.order({ account: 2, side: 'buy', price: 100, qty: 10, display: 4 }), [
    'ACCEPTED 2',
    'FILL m1 t2 100x3 ml0 tl7',
    'L2 B 100 4/1',
    'L2 S 100 0/0',
    'BBO 100x4 0x0',
  ]);
  t.end();
});

t.test('stops: cascade triggered by their own fills within one command', (t) => {
  const d = book();
  d.order({ account: 1, side: 'sell', price: 101, qty: 1 });
  d.order({ account: 1, side: 'sell', price: 102, qty: 1 });
  d.order({ account: 1, side: 'sell', price: 103, qty: 1 });
  d.order({ account: 2, side: 'buy', price: 99, qty: 5 });
  d.order({ account: 2, side: 'buy', price: 98, qty: 5 });
  t.same(d.order({ account: 3, side: 'buy', type: 'stop', stop: 101, qty: 1 }), ['ACCEPTED 6']);
  t.same(d.order({ account: 4, side: 'buy', type: 'stop', stop: 102, qty: 1 }), ['ACCEPTED 7']);
  t.same(d.order({ account: 5, side: 'buy', price: 101, qty: 1 }), [
    'ACCEPTED 8',
    'FILL m1 t8 101x1 ml0 tl0',
    'TRIGGERED 6',
    'FILL m2 t6 102x1 ml0 tl0',
    'TRIGGERED 7',
    'FILL m3 t7 103x1 ml0 tl0',
    'L2 S 101 0/0',
    'L2 S 102 0/0',
    'L2 S 103 0/0',
    'BBO 99x5 0x0',
  ]);
  t.same(d.order({ account: 3, side: 'buy', type: 'stop', stop: 103, qty: 1 }), [
    'REJECTED STOP_ALREADY_TRIGGERED',
  ]);
  t.same(d.order({ account: 3, side: 'sell', type: 'stop', stop: 104, qty: 1 }), [
    'REJECTED STOP_ALREADY_TRIGGERED',
  ]);
  t.same(d.order({ account: 3, side: 'buy', type: 'stop', stop: 104, qty: 1 }), ['ACCEPTED 9']);
  // A triggered stop-limit rests its remainder at its limit.
  t.same(d.order({ account: 6, side: 'sell', type: 'stopLimit', stop: 99, price: 98, qty: 12 }), [
    'ACCEPTED 10',
  ]);
  t.same(d.order({ account: 7, side: 'sell', price: 99, qty: 1, tif: 'ioc' }), [
    'ACCEPTED 11',
    'FILL m4 t11 99x1 ml4 tl0',
    'TRIGGERED 10',
    'FILL m4 t10 99x4 ml0 tl8',
    'FILL m5 t10 98x5 ml0 tl3',
    'L2 B 99 0/0',
    'L2 B 98 0/0',
    'L2 S 98 3/1',
    'BBO 0x0 98x3',
  ]);
  t.end();
});

t.test('stops: trigger order within a wave and a trade through several stop prices', (t) => {
  const d = book();
  d.order({ account: 1, side: 'sell', price: 100, qty: 1 });
  d.order({ account: 1, side: 'sell', price: 101, qty: 1 });
  d.order({ account: 2, side: 'buy', type: 'stop', stop: 101, qty: 1, tif: 'gtc' });
  d.order({ account: 3, side: 'buy', type: 'stop', stop: 101, qty: 1, tif: 'gtc' });
  d.order({ account: 4, side: 'buy', type: 'stop', stop: 100, qty: 1, tif: 'gtc' });
  d.order({ account: 5, side: 'sell', type: 'stop', stop: 100, qty: 1, tif: 'gtc' });
  d.order({ account: 6, side: 'sell', type: 'stop', stop: 101, qty: 1, tif: 'gtc' });
  // One taker trades at 100 and 101: hi = 101 triggers buy stops <= 101 (100 first, then 101 FIFO),
  // lo = 100 triggers sell stops >= 100 (101 first, then 100).
  t.same(d.order({ account: 9, side: 'buy', price: 101, qty: 2 }), [
    'ACCEPTED 8',
    'FILL m1 t8 100x1 ml0 tl1',
    'FILL m2 t8 101x1 ml0 tl0',
    'TRIGGERED 5',
    'CANCELLED 5 IOC_UNFILLED',
    'TRIGGERED 3',
    'CANCELLED 3 IOC_UNFILLED',
    'TRIGGERED 4',
    'CANCELLED 4 IOC_UNFILLED',
    'TRIGGERED 7',
    'CANCELLED 7 IOC_UNFILLED',
    'TRIGGERED 6',
    'CANCELLED 6 IOC_UNFILLED',
    'L2 S 100 0/0',
    'L2 S 101 0/0',
    'BBO 0x0 0x0',
  ]);
  t.same(d.order({ account: 1, side: 'buy', type: 'stop', stop: 100, qty: 1, tif: 'ioc' }), [
    'REJECTED INVALID_TIME_IN_FORCE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', type: 'stop', stop: 0, qty: 1 }), [
    'REJECTED INVALID_STOP_PRICE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 100, stop: 5, qty: 1 }), ['REJECTED INVALID_STOP_PRICE']);
  t.same(d.order({ account: 1, side: 'buy', type: 'stop', stop: 10_001, qty: 1 }), [
    'REJECTED PRICE_OUT_OF_RANGE',
  ]);
  t.same(d.order({ account: 1, side: 'buy', type: 'stop', price: 5, stop: 200, qty: 1 }), [
    'REJECTED INVALID_PRICE',
  ]);
  t.end();
});

t.test('stops are cancellable and not amendable; FOK stop-limit prechecks at trigger', (t) => {
  const d = book();
  d.order({ account: 1, side: 'sell', price: 100, qty: 1 });
  d.order({ account: 1, side: 'sell', price: 105, qty: 1 });
  d.order({
    account: 2,
    side: 'buy',
    type: 'stopLimit',
    stop: 100,
    price: 105,
    qty: 2,
    tif: 'fok',
    clientId: 5,
  });
  d.order({ account: 3, side: 'buy', type: 'stopLimit', stop: 100, price: 100, qty: 2 });
  t.same(d.amend(3, 4, 101, 2), ['REJECTED AMEND_NOT_ALLOWED']);
  t.same(d.cancel(3, 4), ['CANCELLED 4 USER_CANCEL']);
  t.same(d.order({ account: 9, side: 'buy', price: 100, qty: 1 }), [
    'ACCEPTED 5',
    'FILL m1 t5 100x1 ml0 tl0',
    'TRIGGERED 3',
    'CANCELLED 3 FOK_NOT_FILLABLE',
    'L2 S 100 0/0',
    'BBO 0x0 105x1',
  ]);
  t.end();
});

t.test('GTD: expires on TIME_ADVANCE and on any command timestamp, in (expireTime, orderId) order', (t) => {
  const d = book();
  t.same(d.order({ account: 1, side: 'buy', price: 90, qty: 1, tif: 'gtd', expire: 0 }), [
    'REJECTED EXPIRE_TIME_IN_PAST',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 90, qty: 1, tif: 'gtd', expire: 1.5 }), [
    'REJECTED INVALID_EXPIRE_TIME',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 90, qty: 1, expire: 10 }), [
    'REJECTED INVALID_EXPIRE_TIME',
  ]);
  d.order({ account: 1, side: 'buy', price: 90, qty: 1, tif: 'gtd', expire: 2000 });
  d.order({ account: 1, side: 'buy', price: 91, qty: 1, tif: 'gtd', expire: 1000 });
  d.order({ account: 1, side: 'buy', price: 92, qty: 1, tif: 'gtd', expire: 1000 });
  d.order({ account: 1, side: 'sell', type: 'stop', stop: 50, qty: 1, tif: 'gtd', expire: 1500 });
  t.same(d.advance(999), []);
  t.same(d.advance(1000), [
    'EXPIRED 2 GTD_EXPIRED',
    'EXPIRED 3 GTD_EXPIRED',
    'L2 B 92 0/0',
    'L2 B 91 0/0',
    'BBO 90x1 0x0',
  ]);
  // Expiry driven by a NEW_ORDER's timestamp comes before the order's own events.
  t.same(d.order({ account: 2, side: 'sell', price: 90, qty: 1, ts: 5000 }), [
    'EXPIRED 4 GTD_EXPIRED',
    'EXPIRED 1 GTD_EXPIRED',
    'ACCEPTED 5',
    'L2 B 90 0/0',
    'L2 S 90 1/1',
    'BBO 0x0 90x1',
  ]);
  // A cancelled or filled GTD order leaves the schedule.
  d.order({ account: 1, side: 'buy', price: 80, qty: 1, tif: 'gtd', expire: 6000 });
  d.order({ account: 1, side: 'buy', price: 90, qty: 1, tif: 'gtd', expire: 6000 });
  d.cancel(1, 6);
  t.same(d.advance(7000), []);
  t.end();
});
