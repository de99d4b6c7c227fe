import t from 'tap';
import { Reason } from '../../engine/ResultCodes.js';
import * as C from '../../engine/records/CommandRecord.js';
import { fastDriver } from '../fixtures/engine/fastDriver.js';

t.test('price band around the configured reference, then around the last trade', (t) => {
  const d = fastDriver();
  d.addSymbol({ referencePrice: 1000, bandBps: 500 });
  t.same(d.order({ account: 1, side: 'buy', price: 949, qty: 1 }), ['REJECTED PRICE_OUTSIDE_BAND']);
  t.same(d.order({ account: 1, side: 'sell', price: 1051, qty: 1 }), ['REJECTED PRICE_OUTSIDE_BAND']);
  t.same(d.order({ account: 1, side: 'buy', price: 950, qty: 1 })[0], 'ACCEPTED 1');
  t.same(d.order({ account: 1, side: 'sell', price: 1050, qty: 1 })[0], 'ACCEPTED 2');
  t.same(d.order({ account: 1, side: 'sell', type: 'stopLimit', stop: 900, price: 1051, qty: 1 }), [
    'REJECTED PRICE_OUTSIDE_BAND',
  ]);
  // Market orders have no price to check.
  t.same(d.order({ account: 2, side: 'buy', type: 'market', qty: 1 })[1], 'FILL m2 t3 1050x1 ml0 tl0');
  // Reference is now 1050: 1100 is within 5%, 997 is not.
  t.same(d.order({ account: 1, side: 'sell', price: 1102, qty: 1 })[0], 'ACCEPTED 4');
  t.same(d.order({ account: 1, side: 'buy', price: 997, qty: 1 }), ['REJECTED PRICE_OUTSIDE_BAND']);
  // An amend that keeps its price is not band-checked; one that moves it is.
  t.same(d.amend(1, 1, 950, 2)[0], 'AMENDED 1 p950 q2 l2');
  t.same(d.amend(1, 1, 990, 2), ['REJECTED PRICE_OUTSIDE_BAND']);
  t.end();
});

t.test('max notional, including products beyond 2^53', (t) => {
  const d = fastDriver();
  d.addSymbol({ maxNotional: 10_000, referencePrice: 200 });
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 100 })[0], 'ACCEPTED 1');
  t.same(d.order({ account: 1, side: 'buy', price: 100, qty: 101 }), ['REJECTED MAX_NOTIONAL_EXCEEDED']);
  // Market and stop orders use the reference price (200).
  t.same(d.order({ account: 1, side: 'sell', type: 'market', qty: 51 }), ['REJECTED MAX_NOTIONAL_EXCEEDED']);
  t.same(d.order({ account: 1, side: 'sell', type: 'stop', stop: 50, qty: 51 }), [
    'REJECTED MAX_NOTIONAL_EXCEEDED',
  ]);
  t.same(d.order({ account: 1, side: 'sell', type: 'stop', stop: 50, qty: 50 })[0], 'ACCEPTED 2');
  t.same(d.amend(1, 1, 101, 100), ['REJECTED MAX_NOTIONAL_EXCEEDED']);

  const big = fastDriver();
  const max = Number.MAX_SAFE_INTEGER;
  big.addSymbol({ minPrice: 2 ** 30, maxPrice: 2 ** 30 + 10, maxQty: max, maxNotional: max });
  // 2^30 * 2^23 = 2^53 > 2^53 - 1.
  t.same(big.order({ account: 1, side: 'buy', price: 2 ** 30, qty: 2 ** 23 }), [
    'REJECTED MAX_NOTIONAL_EXCEEDED',
  ]);
  t.same(big.order({ account: 1, side: 'buy', price: 2 ** 30, qty: 2 ** 23 - 1 })[0], 'ACCEPTED 1');
  // 2^30+3 times (2^23 + 1): inexact product far above the limit.
  t.same(big.order({ account: 1, side: 'buy', price: 2 ** 30 + 3, qty: 2 ** 23 + 1 }), [
    'REJECTED MAX_NOTIONAL_EXCEEDED',
  ]);
  t.end();
});

t.test('duplicate client order id among the account open orders', (t) => {
  const d = fastDriver();
  d.addSymbol({ symbol: 1 });
  d.addSymbol({ symbol: 2 });
  t.same(d.order({ account: 1, side: 'buy', price: 90, qty: 1, clientId: 5 })[0], 'ACCEPTED 1');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: 5 }), [
    'REJECTED DUPLICATE_CLIENT_ORDER_ID',
  ]);
  t.same(d.order({ account: 1, side: 'sell', type: 'stop', stop: 50, qty: 1, clientId: 6 })[0], 'ACCEPTED 2');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: 6 }), [
    'REJECTED DUPLICATE_CLIENT_ORDER_ID',
  ]);
  t.same(d.order({ account: 2, side: 'buy', price: 91, qty: 1, clientId: 5 })[0], 'ACCEPTED 3');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: 5, symbol: 2 })[0], 'ACCEPTED 4');
  // IOC orders never stay open, so their id is reusable at once; 0 means "none" and never collides.
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: 9, tif: 'ioc' })[0], 'ACCEPTED 5');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: 9, tif: 'ioc' })[0], 'ACCEPTED 6');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1 })[0], 'ACCEPTED 7');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1 })[0], 'ACCEPTED 8');
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: -1 }), [
    'REJECTED INVALID_CLIENT_ORDER_ID',
  ]);
  t.same(d.order({ account: 1, side: 'buy', price: 91, qty: 1, clientId: 0.5 }), [
    'REJECTED INVALID_CLIENT_ORDER_ID',
  ]);
  t.end();
});

t.test('order pool full, then a slot frees up', (t) => {
  const d = fastDriver(3);
  d.addSymbol();
  d.order({ account: 1, side: 'buy', price: 90, qty: 1 });
  d.order({ account: 1, side: 'buy', price: 91, qty: 1 });
  d.order({ account: 1, side: 'sell', type: 'stop', stop: 50, qty: 1 });
  t.same(d.order({ account: 2, side: 'sell', price: 90, qty: 1, tif: 'ioc' }), ['REJECTED ORDER_POOL_FULL']);
  t.same(d.order({ account: 2, side: 'sell', price: 95, qty: 1 }), ['REJECTED ORDER_POOL_FULL']);
  d.cancel(1, 1);
  t.same(d.order({ account: 2, side: 'sell', price: 91, qty: 1 }), [
    'ACCEPTED 4',
    'FILL m2 t4 91x1 ml0 tl0',
    'L2 B 91 0/0',
    'BBO 0x0 0x0',
  ]);
  t.end();
});

t.test('account table full', (t) => {
  const d = fastDriver(16, 2);
  d.addSymbol();
  d.order({ account: 1, side: 'buy', price: 90, qty: 1 });
  d.order({ account: 2, side: 'buy', price: 90, qty: 1 });
  t.same(d.order({ account: 3, side: 'buy', price: 90, qty: 1 }), ['REJECTED ACCOUNT_TABLE_FULL']);
  d.massCancel(1);
  // Accounts never leave the table.
  t.same(d.order({ account: 3, side: 'buy', price: 90, qty: 1 }), ['REJECTED ACCOUNT_TABLE_FULL']);
  t.same(d.order({ account: 1, side: 'buy', price: 90, qty: 1 })[0], 'ACCEPTED 3');
  t.end();
});

t.test('malformed NEW_ORDER fields, checked in the documented order', (t) => {
  const d = fastDriver();
  d.addSymbol({ minQty: 2, maxQty: 100, minPrice: 10, maxPrice: 1000 });
  const cases: [Parameters<typeof d.order>[0], string][] = [
    [{ account: 1, side: 3, qty: 1 }, 'INVALID_SIDE'],
    [{ account: 1, side: 'buy', qty: 5, type: 0 }, 'INVALID_ORDER_TYPE'],
    [{ account: 1, side: 'buy', qty: 5, type: 5 }, 'INVALID_ORDER_TYPE'],
    [{ account: 1, side: 'buy', qty: 5, tif: 0 }, 'INVALID_TIME_IN_FORCE'],
    [{ account: 1, side: 'buy', qty: 5, tif: 5 }, 'INVALID_TIME_IN_FORCE'],
    [{ account: 1, side: 'buy', qty: 5, stp: 9 }, 'INVALID_STP_MODE'],
    [{ account: 1, side: 'buy', qty: 0 }, 'INVALID_QUANTITY'],
    [{ account: 1, side: 'buy', qty: 2.5 }, 'INVALID_QUANTITY'],
    [{ account: 1, side: 'buy', qty: Number.NaN }, 'INVALID_QUANTITY'],
    [{ account: 1, side: 'buy', qty: 2 ** 53 }, 'INVALID_QUANTITY'],
    [{ account: 1, side: 'buy', qty: 1 }, 'QUANTITY_BELOW_MIN'],
    [{ account: 1, side: 'buy', qty: 101 }, 'QUANTITY_ABOVE_MAX'],
    [{ account: 1, side: 'buy', qty: 5, price: 0 }, 'INVALID_PRICE'],
    [{ account: 1, side: 'buy', qty: 5, price: 10.5 }, 'INVALID_PRICE'],
    [{ account: 1, side: 'buy', qty: 5, price: 9 }, 'PRICE_OUT_OF_RANGE'],
    [{ account: 1, side: 'buy', qty: 5, price: 1001 }, 'PRICE_OUT_OF_RANGE'],
    [{ account: 1, side: 'buy', qty: 5, type: 'market', price: 10 }, 'INVALID_PRICE'],
    [{ account: 1, side: 'buy', qty: 5, type: 'stop', stop: 9 }, 'PRICE_OUT_OF_RANGE'],
    [{ account: 1, side: 'buy', qty: 5, type: 'stop', stop: 20.5 }, 'INVALID_STOP_PRICE'],
    [{ account: 1, side: 'buy', qty: 5, display: 0.5 }, 'INVALID_DISPLAY_QTY'],
    [{ account: 1, side: 'buy', qty: 5, type: 'market', display: 1 }, 'INVALID_DISPLAY_QTY'],
    [{ account: 1, side: 'buy', qty: 5, minQty: -1 }, 'INVALID_MIN_QTY'],
    [{ account: 1, side: 'buy', qty: 5, tif: 'gtd', expire: Number.NaN }, 'INVALID_EXPIRE_TIME'],
  ];
  for (const [o, reason] of cases) t.same(d.order(o), [`REJECTED ${reason}`], reason);
  t.end();
});

t.test('REJECTED copies the command fields verbatim', (t) => {
  const d = fastDriver();
  d.addSymbol();
  d.writeOrder({
    account: 3,
    side: 'sell',
    qty: 7,
    price: 0,
    clientId: 55,
    session: 9,
    group: 4,
    stp: 2,
    display: 3,
    expire: 0,
    correlation: 12,
  });
  const [e] = d.run();
  t.match(e, {
    type: 'REJECTED',
    reason: 'INVALID_PRICE',
    side: 2,
    symbolId: 1,
    accountId: 3,
    sessionId: 9,
    correlationId: 12,
    orderId: 0,
    clientOrderId: 55,
    price: 0,
    quantity: 7,
    displayQty: 3,
    filledQty: 0,
    leavesQty: 0,
    orderSessionId: 9,
    tradeGroup: 4,
    orderType: 1,
    timeInForce: 1,
    stpMode: 2,
    commandType: C.CommandType.NEW_ORDER,
  });
  t.equal(Reason.INVALID_PRICE, 108);
  t.end();
});

t.test('ADD_SYMBOL validation and capacity', (t) => {
  const d = fastDriver(16, 16, 2);
  t.same(d.addSymbol({ symbol: 0 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ symbol: 65536 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ minPrice: 0 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ minPrice: 10, maxPrice: 9 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ minPrice: 1, maxPrice: 2 ** 24 + 1 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ minQty: 0 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ minQty: 5, maxQty: 4 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ maxNotional: -1 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ referencePrice: 10_001 }), ['REJECTED INVALID_SYMBOL_CONFIG']);
  t.same(d.addSymbol({ minPrice: 1, maxPrice: 2 ** 24 }), ['SYMBOL_ADDED']);
  t.same(d.addSymbol({ symbol: 1 }), ['REJECTED SYMBOL_EXISTS']);
  t.same(d.addSymbol({ symbol: 2 }), ['SYMBOL_ADDED']);
  t.same(d.addSymbol({ symbol: 3 }), ['REJECTED SYMBOL_TABLE_FULL']);
  t.end();
});
