import t from 'tap';
import { Reason } from '../../engine/ResultCodes.js';
import { OrderFlags, OrderType, Side, StpMode, TimeInForce } from '../../engine/records/OrderCodes.js';
import { isoMicros } from '../../gateway/orders/clock.js';
import { normalizeWord, parseStatus, parseStpMode } from '../../gateway/orders/OrderVocabulary.js';
import { Outcome } from '../../gateway/orders/PendingRequests.js';
import { outcomeReply, rejectReply, rejectStatus } from '../../gateway/rest/errors.js';
import { parseOrderIdText } from '../../gateway/rest/ids.js';
import { averagePrice } from '../../gateway/rest/orderJson.js';
import { parseNewOrder } from '../../gateway/rest/parseNewOrder.js';
import { SymbolDirectory } from '../../gateway/rest/SymbolDirectory.js';
import { SymbolTable } from '../../gateway/symbols/SymbolTable.js';

const symbols = new SymbolDirectory(SymbolTable.demo().symbols);
const base = { symbol: 'BTC/USD', side: 'Buy', quantity: '1.0', price: '50000.00', order_type: 'Limit' };

function ok(body: Record<string, unknown>) {
  const r = parseNewOrder(body, symbols);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.fields;
}

function err(body: unknown) {
  const r = parseNewOrder(body, symbols);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(body)}`);
  return r.error;
}

t.test('the seed example converts exactly to ticks and lots', async (t) => {
  const f = ok(base);
  t.equal(f.symbolId, 1);
  t.equal(f.side, Side.BUY);
  t.equal(f.orderType, OrderType.LIMIT);
  t.equal(f.timeInForce, TimeInForce.GTC);
  t.equal(f.quantity, 10_000, '1.0 / 0.0001');
  t.equal(f.price, 5_000_000, '50000.00 / 0.01');
  t.equal(f.stpMode, StpMode.EXPIRE_TAKER);
  t.equal(f.flags, 0);
});

t.test('friendly spellings: case-insensitive enums, symbol aliases, integer numbers', async (t) => {
  const f = ok({
    symbol: 'btc-usd',
    side: 'SELL',
    order_type: 'stop_limit',
    quantity: 2,
    price: '49000',
    stop_price: '49500.5',
    time_in_force: 'good_till_date',
    expire_time: '2100-01-01T00:00:00.000Z',
    stp_mode: 'cancel_oldest',
    post_only: true,
    display_quantity: '0.5',
    client_order_id: '12345',
    unknown_field: 'ignored',
  });
  t.equal(f.side, Side.SELL);
  t.equal(f.orderType, OrderType.STOP_LIMIT);
  t.equal(f.quantity, 20_000);
  t.equal(f.price, 4_900_000);
  t.equal(f.stopPrice, 4_950_050);
  t.equal(f.timeInForce, TimeInForce.GTD);
  t.equal(f.expireTime, Date.parse('2100-01-01T00:00:00.000Z') * 1000);
  t.equal(f.stpMode, StpMode.EXPIRE_MAKER);
  t.equal(f.flags, OrderFlags.POST_ONLY);
  t.equal(f.displayQty, 5000);
  t.equal(f.clientOrderId, 12345);
  t.equal(ok({ ...base, symbol: 1 }).symbolId, 1);
  t.equal(ok({ ...base, symbol: 'ethusd', price: '3000.00' }).symbolId, 2);
  t.equal(ok({ ...base, symbol: '3', price: '150.000', quantity: '1' }).symbolId, 3);
});

t.test('defaults: Market is IOC and has no price; an expiry implies GTD', async (t) => {
  const m = ok({ symbol: 'BTC/USD', side: 'buy', quantity: '0.5', order_type: 'market' });
  t.equal(m.timeInForce, TimeInForce.IOC);
  t.equal(m.price, 0);
  const g = ok({ ...base, expire_time: 4_102_444_800_000 });
  t.equal(g.timeInForce, TimeInForce.GTD);
  t.equal(g.expireTime, 4_102_444_800_000_000);
  t.equal(ok({ ...base, expire_time_us: 5 }).expireTime, 5);
  t.equal(ok({ ...base, min_quantity: '0.5', time_in_force: 'ioc' }).minQty, 5000);
  t.equal(
    ok({ ...base, order_type: 'Stop', price: undefined, stop_price: '51000' }).timeInForce,
    TimeInForce.GTC,
  );
});

t.test('every invalid field gives a 400-style error naming the field and the value', async (t) => {
  t.match(err(null), { code: 'INVALID_REQUEST' });
  t.match(err([1]), { code: 'INVALID_REQUEST' });
  t.match(err({ ...base, symbol: undefined }), {
    code: 'UNKNOWN_SYMBOL',
    field: 'symbol',
    reason: Reason.UNKNOWN_SYMBOL,
  });
  t.match(err({ ...base, symbol: 'DOGE/USD' }), { code: 'UNKNOWN_SYMBOL', message: /DOGE\/USD.*BTC\/USD/ });
  t.match(err({ ...base, side: undefined }), { code: 'INVALID_SIDE', message: /required/ });
  t.match(err({ ...base, side: 'up' }), { code: 'INVALID_SIDE', message: /"up"/ });
  t.match(err({ ...base, side: 1 }), { code: 'INVALID_SIDE', message: /string/ });
  t.match(err({ ...base, order_type: 'twap' }), { code: 'INVALID_ORDER_TYPE' });
  t.match(err({ ...base, time_in_force: 'forever' }), { code: 'INVALID_TIME_IN_FORCE' });
  t.match(err({ ...base, stp_mode: 'none' }), { code: 'INVALID_STP_MODE', message: /ExpireTaker/ });
  t.match(err({ ...base, quantity: undefined }), { code: 'INVALID_QUANTITY', message: /required/ });
  t.match(err({ ...base, quantity: '0' }), { code: 'INVALID_QUANTITY', message: /greater than 0/ });
  t.match(err({ ...base, quantity: '-1' }), { code: 'INVALID_QUANTITY' });
  t.match(err({ ...base, quantity: 1.5 }), { code: 'INVALID_QUANTITY', message: /decimal string/ });
  t.match(err({ ...base, quantity: '1.00001' }), {
    code: 'INVALID_QUANTITY',
    message: 'quantity "1.00001" is not a multiple of the lot size 0.0001 of BTC/USD',
  });
  t.match(err({ ...base, price: '50000.001' }), {
    code: 'INVALID_PRICE',
    field: 'price',
    reason: Reason.INVALID_PRICE,
    message: 'price "50000.001" is not a multiple of the tick size 0.01 of BTC/USD',
  });
  t.match(err({ ...base, price: '1e5' }), { code: 'INVALID_PRICE', message: /not a decimal/ });
  t.match(err({ ...base, price: '9'.repeat(30) }), { code: 'INVALID_PRICE', message: /out of range/ });
  t.match(err({ ...base, price: undefined }), { code: 'INVALID_PRICE', message: /required/ });
  t.match(err({ ...base, order_type: 'market' }), { code: 'INVALID_PRICE', message: /not allowed/ });
  t.match(err({ ...base, stop_price: '1' }), { code: 'INVALID_STOP_PRICE' });
  t.match(err({ ...base, order_type: 'stop', price: undefined }), {
    code: 'INVALID_STOP_PRICE',
    message: /required/,
  });
  t.match(err({ ...base, post_only: 'yes' }), { code: 'INVALID_FLAGS' });
  t.match(err({ ...base, client_order_id: 0 }), { code: 'INVALID_CLIENT_ORDER_ID' });
  t.match(err({ ...base, client_order_id: '9007199254740992' }), { code: 'INVALID_CLIENT_ORDER_ID' });
  t.match(err({ ...base, client_order_id: 'abc' }), { code: 'INVALID_CLIENT_ORDER_ID' });
  t.match(err({ ...base, time_in_force: 'GTD' }), { code: 'INVALID_EXPIRE_TIME', message: /needs/ });
  t.match(err({ ...base, time_in_force: 'GTC', expire_time: 5 }), {
    code: 'INVALID_EXPIRE_TIME',
    message: /only/,
  });
  t.match(err({ ...base, expire_time: 'tomorrow' }), { code: 'INVALID_EXPIRE_TIME' });
  t.match(err({ ...base, expire_time_us: -1 }), { code: 'INVALID_EXPIRE_TIME' });
  t.match(err({ ...base, expire_time: '9999-12-31T00:00:00Z' }), {
    code: 'INVALID_EXPIRE_TIME',
    message:
      'expire_time is past the engine\'s range (at most 2255-06-05T23:47:34.740Z), got "9999-12-31T00:00:00Z"',
  });
  t.match(err({ ...base, display_quantity: '0.00001' }), { code: 'INVALID_DISPLAY_QTY' });
  // A bad value is echoed, cut to 80 characters.
  const long = err({ ...base, side: 'x'.repeat(10_000) });
  t.match(long, {
    code: 'INVALID_SIDE',
    message: /^side "x{79}\.\.\. \(10002 characters\) is not one of Buy, Sell$/,
  });
  t.ok(long.message.length < 300, `message of ${long.message.length} characters`);
});

t.test('vocabulary and symbol directory', async (t) => {
  t.equal(normalizeWord(' Stop-Limit_x/Y '), 'stoplimitxy');
  t.equal(parseStatus('partially_filled'), 2);
  t.equal(parseStatus('Cancelled'), parseStatus('canceled'));
  t.equal(parseStpMode('decrement'), StpMode.DECREMENT);
  t.equal(parseStpMode('nope'), -1);
  t.equal(symbols.find(1.5), undefined);
  t.equal(symbols.find({}), undefined);
  t.equal(symbols.find('99999'), undefined);
  const clash = new SymbolDirectory([
    { ...SymbolTable.demo().symbols[0], id: 1, name: 'AB/C' },
    { ...SymbolTable.demo().symbols[0], id: 2, name: 'A/BC' },
  ]);
  t.equal(clash.find('abc'), undefined, 'ambiguous friendly spelling');
  t.equal(clash.find('A/BC')?.id, 2, 'exact name still works');
});

t.test('average price is exact and reject reasons map to HTTP statuses', async (t) => {
  t.equal(averagePrice(3 * 100 + 1 * 101, 4, '0.01'), '1.0025');
  t.equal(averagePrice(200, 2, '0.01'), '1.00');
  t.equal(averagePrice(1, 3, '0.01'), '0.0033333333', 'rounded at tick digits + 8');
  t.equal(averagePrice(2, 3, '1'), '0.66666667');
  t.equal(averagePrice(5, 1, '5'), '25');
  t.equal(rejectStatus(Reason.INVALID_PRICE), 400);
  t.equal(rejectStatus(Reason.PRICE_OUTSIDE_BAND), 422);
  t.equal(rejectStatus(Reason.ORDER_NOT_FOUND), 404);
  t.equal(rejectStatus(Reason.AMEND_NOT_ALLOWED), 409);
  t.equal(rejectStatus(Reason.ORDER_POOL_FULL), 503);
  t.equal(rejectStatus(999), 400);
  t.match(JSON.parse(String(rejectReply(Reason.POST_ONLY_WOULD_TAKE, 'order rejected').body)), {
    error: { code: 'POST_ONLY_WOULD_TAKE', reason: 206, message: /post-only/ },
  });
  t.match(JSON.parse(String(rejectReply(Reason.SYMBOL_EXISTS, 'x').body)), {
    error: { message: 'x: symbol exists' },
  });
  t.equal(outcomeReply(Outcome.BUSY).status, 503);
  t.same(outcomeReply(Outcome.BUSY).headers, [['retry-after', '1']]);
  t.equal(outcomeReply(Outcome.SHARD_DOWN).status, 503);
  t.equal(outcomeReply(Outcome.TIMEOUT).status, 504);
  t.equal(outcomeReply(Outcome.DONE).status, 500);
  t.equal(isoMicros(1_700_000_000_123_456), '2023-11-14T22:13:20.123456Z');
  t.equal(parseOrderIdText('1099511627777'), 1099511627777);
  for (const bad of ['0', '01', 'x', '9007199254740992', '99999999999999999'])
    t.equal(parseOrderIdText(bad), 0);
});

t.test('DecimalFormat matches decimal.ts exactly, errors included', async (t) => {
  const { DecimalFormat } = await import('../../gateway/rest/DecimalFormat.js');
  const { decimalToUnits, unitsToDecimal } = await import('../../gateway/symbols/decimal.js');
  const outcome = (f: () => number | string) => {
    try {
      return f();
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  };
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (const inc of ['0.01', '0.0001', '0.001', '0.5', '1', '5', '0.00000001', '25']) {
    const fmt = new DecimalFormat(inc);
    const texts = [
      '0',
      '1',
      '1.0',
      '0.01',
      '50000.00',
      '50000.005',
      '123456789012345',
      '1234567890123456',
      '1e5',
      '-1',
      '',
    ];
    for (let i = 0; i < 300; i++) {
      const whole = String(rand(10 ** (1 + rand(9))));
      const frac = rand(3) === 0 ? '' : `.${String(rand(10 ** (1 + rand(8)))).padStart(1 + rand(8), '0')}`;
      texts.push(whole + frac);
    }
    for (const text of texts) {
      t.equal(
        outcome(() => fmt.parse(text)),
        outcome(() => decimalToUnits(text, inc)),
        `parse ${text} / ${inc}`,
      );
    }
    for (const units of [0, 1, 7, 99, 100, 123456789, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, 2 ** 53, -5]) {
      t.equal(
        outcome(() => fmt.format(units)),
        outcome(() => unitsToDecimal(units, inc)),
        `format ${units} / ${inc}`,
      );
    }
  }
});

t.test('Health: worst component wins; a throwing probe is down', async (t) => {
  const { Health } = await import('../../gateway/rest/Health.js');
  const { memoryLogger } = await import('../fixtures/gateway/memoryLogger.js');
  const { log, lines } = memoryLogger();
  const h = new Health(log);
  h.add('a', () => ({ status: 'ok' }));
  t.match(h.report(), { status: 200, body: { status: 'ok', components: { a: { status: 'ok' } } } });
  h.add('b', () => ({ status: 'degraded', why: 'x' }));
  t.match(h.report(), { status: 200, body: { status: 'degraded' } });
  h.add('c', () => {
    throw new Error('boom');
  });
  t.match(h.report(), {
    status: 503,
    body: { status: 'down', components: { c: { status: 'down', error: 'boom' } } },
  });
  t.ok(lines.some((l) => l.includes('health probe failed')));
  h.remove('c');
  t.equal(h.report().status, 200);
});
