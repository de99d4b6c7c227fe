// The SDK against the real gateway (OrderEntryGateway on the Gateway's uWS app, real shard workers:
// test/fixtures/gateway/wsExchange.ts) for everything the real gateway does; MiniGateway (a small uWS
// server with the real codecs) stays for what needs a misbehaving gateway: silent requests (timeouts),
// dropped connections and muted heartbeats (reconnect), invalid frames, unanswered logons.
import t, { type Test } from 'tap';
import {
  type ExchangeClient as Client,
  ClientUsageError,
  ConnectionClosedError,
  ExchangeClient,
  ExecType,
  type ExecutionReport,
  execTypeName,
  LogonRejectedError,
  OrderStatus,
  orderStatusName,
  RequestTimeoutError,
  Side,
  TimeInForce,
  wsUrl,
} from '../../client/index.js';
import { startWsExchange, type WsExchange } from '../fixtures/gateway/wsExchange.js';
import { until } from '../fixtures/until.js';
import { GOOD_TOKEN, MiniGateway } from './fixtures/MiniGateway.js';

let ex: WsExchange;
let nextAccount = 500;

t.before(async () => {
  ex = await startWsExchange({ shards: 2, rateLimit: 0 });
});
t.teardown(() => ex.stop());

/** A client of a fresh account on the real gateway. */
async function real(
  t: Test,
  options: Partial<Parameters<typeof ExchangeClient.connect>[0]> = {},
): Promise<Client> {
  const client = await ExchangeClient.connect({
    url: ex.url,
    token: await ex.token(nextAccount++),
    reconnect: false,
    ...options,
  });
  t.teardown(() => client.close());
  return client;
}

async function setup(
  t: Test,
  options: Partial<Parameters<typeof ExchangeClient.connect>[0]> = {},
  heartbeatMs = 0,
): Promise<{ gw: MiniGateway; client: Client }> {
  const gw = await MiniGateway.start(heartbeatMs);
  const client = await ExchangeClient.connect({ url: gw.url, token: GOOD_TOKEN, ...options });
  t.teardown(async () => {
    await client.close();
    gw.stop();
  });
  return { gw, client };
}

function next<T>(client: Client, event: 'disconnect' | 'reconnect' | 'close'): Promise<T> {
  return new Promise((resolve) => client.once(event, ((v: T) => resolve(v)) as never));
}

t.test('connect, logon, symbols, place orders with assigned and given client order ids', async (t) => {
  const client = await real(t, { firstClientOrderId: 500 });
  t.equal(client.connected, true);
  t.ok(client.sessionId > 0, 'session id from LogonAck');
  t.same(
    client.symbols.map((s) => s.name),
    ['BTC/USD', 'ETH/USD', 'SOL/USD'],
  );
  t.equal(client.symbol('BTC/USD')?.tickSize, '0.01');
  t.equal(client.symbol(2)?.name, 'ETH/USD');

  const a = await client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '50000.01', quantity: '0.5' });
  t.equal(a.ok, true);
  if (!a.ok) return;
  t.equal(a.report.execType, ExecType.New);
  t.equal(a.report.orderStatus, OrderStatus.New);
  t.equal(a.report.clientOrderId, 500, 'first assigned id');
  t.equal(a.report.price, 5_000_001, 'decimal price converted with the tick size');
  t.equal(a.report.quantity, 5000, 'decimal quantity converted with the lot size');
  t.equal(a.report.side, Side.Buy);
  t.ok(a.report.orderId > 0);

  const b = await client.placeOrder({
    symbol: 1,
    side: 'sell',
    price: 5_100_000,
    quantity: 7,
    clientOrderId: 2 ** 40,
  });
  t.equal(b.ok && b.report.clientOrderId, 2 ** 40, 'given id above 2^32 echoed exactly');
  const c = await client.placeOrder({ symbol: 'ETH/USD', side: 'sell', price: 300_000, quantity: 1 });
  t.equal(c.ok && c.report.clientOrderId, 501, 'assigned ids increase');

  const ioc = await client.placeOrder({
    symbol: 'BTC/USD',
    side: 'buy',
    type: 'limit',
    timeInForce: 'ioc',
    stp: 'expire_taker',
    price: 4_900_000,
    quantity: 1,
  });
  t.equal(ioc.ok && ioc.report.timeInForce, TimeInForce.IOC, 'resolved by the first report (New)');
  t.equal(client.pendingCount, 0);
  t.equal(execTypeName(ExecType.AmendRejected), 'AmendRejected');
  t.equal(orderStatusName(OrderStatus.PartiallyFilled), 'PartiallyFilled');
  t.equal(execTypeName(200), 'ExecType(200)');
  t.equal(orderStatusName(200), 'OrderStatus(200)');
  await client.massCancel();
});

t.test('rejects are results: Rejected reports; misuse throws', async (t) => {
  const client = await real(t);
  const r = await client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '56000.00', quantity: 1 });
  t.match(r, { ok: false, code: 203, reason: 'PRICE_OUTSIDE_BAND' });
  t.equal(r.report?.execType, ExecType.Rejected);
  const unknown = await client.placeOrder({ symbol: 42, side: 'buy', price: 1, quantity: 1 });
  t.match(unknown, { ok: false, code: 101, reason: 'UNKNOWN_SYMBOL' });
  const zero = await client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: 5_000_000, quantity: 0 });
  t.match(zero, { ok: false, code: 107, reason: 'INVALID_QUANTITY' });

  await t.rejects(client.placeOrder({ symbol: 'DOGE/USD', side: 'buy', price: 1, quantity: 1 }), {
    name: 'ClientUsageError',
    message: /unknown symbol "DOGE\/USD" \(known: BTC\/USD, ETH\/USD, SOL\/USD\)/,
  });
  await t.rejects(
    client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '1.001', quantity: 1 }),
    /not a multiple of "0.01"/,
  );
  await t.rejects(
    client.placeOrder({ symbol: 1, side: 'hold' as 'buy', quantity: 1 }),
    /side must be one of buy, sell/,
  );
  await t.rejects(
    client.placeOrder({ symbol: 1, side: 'buy', quantity: 1.5 }),
    /quantity must be an integer/,
  );
  await t.rejects(
    client.placeOrder({ symbol: 1, side: 'buy', quantity: 1, clientOrderId: 0 }),
    ClientUsageError,
  );
  await t.rejects(client.placeOrder({ symbol: 0, side: 'buy', quantity: 1 }), /symbol id must be/);
  await t.rejects(
    client.placeOrder({ symbol: 1, side: 'buy', quantity: 1 }, { timeoutMs: -1 }),
    ClientUsageError,
  );
  await t.rejects(client.cancel({ symbol: 1 }), /needs an orderId or a clientOrderId/);
  await t.rejects(client.cancel({ orderId: 123_456 }), /symbol of order 123456 is unknown/);
  await t.rejects(client.massCancel({ side: 'buy' }), /a side needs a symbol/);
});

t.test('a request without an answer times out (MiniGateway: silent symbol)', async (t) => {
  const { client } = await setup(t, { requestTimeoutMs: 80 });
  const started = Date.now();
  await t.rejects(
    client.placeOrder({ symbol: 'MUTE/USD', side: 'buy', price: 1, quantity: 1 }),
    RequestTimeoutError,
  );
  t.ok(Date.now() - started < 1000, 'within the timeout plus the sweep interval');
  await t.rejects(
    client.placeOrder({ symbol: 'MUTE/USD', side: 'buy', price: 1, quantity: 1 }, { timeoutMs: 30 }),
    /no execution report for the order of client order id/,
  );
  t.equal(client.pendingCount, 0);
});

t.test('cancel and amend by order id and by client order id, and their rejects', async (t) => {
  const client = await real(t);
  const placed = await client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: 4_990_000, quantity: 10 });
  if (!placed.ok) throw new Error('not placed');
  const { orderId, clientOrderId } = placed.report;

  const amended = await client.amend({ orderId, price: '49800.00', quantity: 5 });
  t.match(amended, {
    ok: true,
    report: { execType: ExecType.Amended, price: 4_980_000, quantity: 5, orderId },
  });
  const amendedByCid = await client.amend({ clientOrderId, price: 4_970_000 });
  t.match(
    amendedByCid,
    { ok: true, report: { price: 4_970_000, quantity: 5 } },
    'amend by client order id, symbol remembered',
  );

  // Two cancels of one order in flight: answered first in, first out.
  const [first, second] = await Promise.all([client.cancel({ orderId }), client.cancel({ orderId })]);
  t.match(first, { ok: true, report: { execType: ExecType.Canceled, orderStatus: OrderStatus.Canceled } });
  t.match(second, {
    ok: false,
    code: 300,
    reason: 'ORDER_NOT_FOUND',
    report: { execType: ExecType.CancelRejected },
  });

  const other = await client.placeOrder({ symbol: 'ETH/USD', side: 'sell', price: 301_000, quantity: 1 });
  if (!other.ok) throw new Error('not placed');
  const byCid = await client.cancel({ clientOrderId: other.report.clientOrderId });
  t.match(byCid, { ok: true, report: { execType: ExecType.Canceled, orderId: other.report.orderId } });

  const amendGone = await client.amend({ orderId: 999_999, symbol: 'BTC/USD', quantity: 1 });
  t.match(amendGone, { ok: false, code: 300, report: { execType: ExecType.AmendRejected } });
  const cancelGone = await client.cancel({ clientOrderId: 77, symbol: 1 });
  t.match(cancelGone, { ok: false, report: { execType: ExecType.CancelRejected, clientOrderId: 77 } });
});

t.test('mass cancel collects the Canceled reports of its filter', async (t) => {
  const client = await real(t, { massCancelQuietMs: 50 });
  for (const [symbol, side, price] of [
    ['BTC/USD', 'buy', 4_950_000],
    ['BTC/USD', 'sell', 5_050_000],
    ['BTC/USD', 'buy', 4_950_001],
    ['ETH/USD', 'buy', 295_000],
  ] as const) {
    await client.placeOrder({ symbol, side, price, quantity: 1 });
  }
  const bids = await client.massCancel({ symbol: 'BTC/USD', side: 'buy' });
  t.equal(bids.canceled.length, 2, 'BTC/USD bids');
  t.ok(bids.canceled.every((r) => r.side === Side.Buy && r.symbolId === 1));
  const rest = await client.massCancel();
  t.equal(rest.canceled.length, 2, 'everything else');
  const none = await client.massCancel({ symbol: 'ETH/USD' });
  t.same(none.canceled, [], 'nothing left: resolves empty after the quiet period');
});

t.test('batch: 300 requests in two Batch frames, results in order', async (t) => {
  const client = await real(t);
  const resting = await client.placeOrder({ symbol: 'BTC/USD', side: 'sell', price: 5_100_000, quantity: 3 });
  if (!resting.ok) throw new Error('not placed');
  const batch = client.batch();
  for (let i = 0; i < 297; i++)
    batch.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: 4_900_000 + i, quantity: 1 });
  batch.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: 20_000_000, quantity: 1 });
  batch.amend({ orderId: resting.report.orderId, quantity: 2 });
  batch.cancel({ orderId: resting.report.orderId });
  t.equal(batch.length, 300);
  const framesBefore = ex.orderEntry.stats.framesIn;
  const results = await batch.send();
  t.equal(ex.orderEntry.stats.framesIn - framesBefore, 2, 'two frames');
  t.equal(results.length, 300);
  t.ok(
    results.slice(0, 297).every((r, i) => r.ok && r.report.price === 4_900_000 + i),
    'orders in order',
  );
  t.match(results[297], { ok: false, code: 202 });
  t.match(results[298], { ok: true, report: { execType: ExecType.Amended, quantity: 2 } });
  t.match(results[299], { ok: true, report: { execType: ExecType.Canceled } });
  t.equal(batch.length, 0, 'send() empties the batch');
  await t.rejects(batch.send(), /empty batch/);
  t.throws(() => client.batch().placeOrder({ symbol: 'NOPE', side: 'buy', quantity: 1 }), ClientUsageError);
  await client.massCancel();
});

t.test('event stream: every report as an event and through the async iterator', async (t) => {
  const client = await real(t);
  const counterparty = await real(t);
  await counterparty.placeOrder({ symbol: 'SOL/USD', side: 'sell', price: 150_000, quantity: 1 });
  const events: ExecutionReport[] = [];
  client.on('report', (r) => events.push(r));
  const iterated: number[] = [];
  const reader = (async () => {
    for await (const r of client.reports()) {
      iterated.push(r.execType);
      if (iterated.length === 4) break;
    }
  })();
  // New + Trade (fills the resting offer), then New + Canceled (an IOC with nothing to take).
  await client.placeOrder({ symbol: 'SOL/USD', side: 'buy', price: 150_000, quantity: 7 });
  await client.placeOrder({
    symbol: 'SOL/USD',
    side: 'buy',
    price: 140_000,
    quantity: 1,
    timeInForce: 'ioc',
  });
  await reader;
  t.same(iterated, [ExecType.New, ExecType.Trade, ExecType.New, ExecType.Canceled]);
  await until(() => events.length === 4);
  t.match(events[1], { execType: ExecType.Trade, lastQuantity: 1, cumQuantity: 1, leavesQuantity: 6 });
  await client.massCancel();

  // An iterator ends when the client closes.
  const tail = client.reports();
  const ended = tail.next();
  await client.close();
  t.same(await ended, { value: undefined, done: true });
  t.same(await client.reports().next(), { value: undefined, done: true }, 'closed client: empty iterator');
});

t.test('logon rejected, header auth, URL forms', async (t) => {
  await t.rejects(ExchangeClient.connect({ url: ex.url, token: 'wrong', reconnect: false }), {
    name: 'LogonRejectedError',
    rejectCode: 604,
    message: /Authorization header is not "Bearer <token>"|token invalid/,
  });
  await t.rejects(ExchangeClient.connect({ url: ex.url, token: 'wrong', auth: 'header' }), {
    name: 'HandshakeError',
    status: 401,
  });
  const c = await ExchangeClient.connect({
    url: ex.httpUrl,
    token: await ex.token(nextAccount++),
    auth: 'header',
    heartbeatIntervalMs: 5000,
    reconnect: false,
  });
  await until(() => c.sessionId > 0);
  t.pass('LogonAck after a header logon is taken');
  const r = await c.placeOrder({ symbol: 1, side: 'buy', price: 4_900_000, quantity: 1 });
  t.equal(r.ok, true, 'orders work without a Logon frame');
  await c.massCancel();
  await c.close();
  await c.close();
  t.pass('close twice');

  t.equal(wsUrl('http://h:1'), 'ws://h:1/api/v1/ws');
  t.equal(wsUrl('https://h'), 'wss://h/api/v1/ws');
  t.equal(wsUrl('ws://h:1/custom'), 'ws://h:1/custom');
  t.throws(() => wsUrl('ftp://h'), ClientUsageError);
  t.throws(() => wsUrl('not a url'), ClientUsageError);
  await t.rejects(ExchangeClient.connect({ url: ex.url, token: '' }), ClientUsageError);
  await t.rejects(
    ExchangeClient.connect({ url: ex.url, token: 'x', auth: 'magic' as 'logon' }),
    ClientUsageError,
  );
  await t.rejects(ExchangeClient.connect({ url: 'ws://127.0.0.1:1/api/v1/ws', token: 'x' }), {
    code: 'ECONNREFUSED',
  });
  // An unanswered Logon needs a gateway that stays silent: MiniGateway.
  const gw = await MiniGateway.start();
  t.teardown(() => gw.stop());
  gw.answerLogons = false;
  await t.rejects(ExchangeClient.connect({ url: gw.url, token: GOOD_TOKEN, logonTimeoutMs: 100 }), {
    name: 'RequestTimeoutError',
    message: /no LogonAck/,
  });
});

t.test('disconnect rejects pending requests; the client reconnects and logs on again', async (t) => {
  const { gw, client } = await setup(t, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
  const pending = client.placeOrder({ symbol: 'MUTE/USD', side: 'buy', price: 1, quantity: 1 });
  const disconnect = next<{ code: number; willReconnect: boolean }>(client, 'disconnect');
  const reconnect = next<{ attempts: number; sessionId: number }>(client, 'reconnect');
  const firstSession = client.sessionId;
  gw.kick();
  await t.rejects(pending, ConnectionClosedError, 'pending request rejected on disconnect');
  t.match(await disconnect, { code: 1006, willReconnect: true });
  await t.rejects(client.placeOrder({ symbol: 1, side: 'buy', price: 1, quantity: 1 }), {
    name: 'ConnectionClosedError',
    message: /reconnecting/,
  });
  const again = await reconnect;
  t.equal(again.attempts, 1);
  t.not(again.sessionId, firstSession, 'a new session');
  t.equal(gw.logons, 2, 'logged on again');
  const r = await client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: 1, quantity: 1 });
  t.equal(r.ok, true, 'orders work after the reconnect');

  // A gateway that says goodbye with a close frame: same path, the code is reported.
  const bye = next<{ code: number; reason: string }>(client, 'disconnect');
  gw.end(1001, 'going away');
  t.match(await bye, { code: 1001, reason: 'going away' });
  await next(client, 'reconnect');
  t.equal(gw.logons, 3);
});

t.test('reconnect gives up: maxAttempts, and a logon rejected on reconnect', async (t) => {
  const gw = await MiniGateway.start();
  const client = await ExchangeClient.connect({
    url: gw.url,
    token: GOOD_TOKEN,
    reconnect: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 },
  });
  const closed = next<Error | null>(client, 'close');
  gw.stop();
  const err = await closed;
  t.ok(err instanceof Error, `closed with the last error: ${err?.message}`);
  t.equal(client.connected, false);

  const gw2 = await MiniGateway.start();
  t.teardown(() => gw2.stop());
  const c2 = await ExchangeClient.connect({
    url: gw2.url,
    token: GOOD_TOKEN,
    reconnect: { initialDelayMs: 5 },
  });
  const closed2 = next<Error | null>(c2, 'close');
  gw2.acceptedToken = 'rotated'; // the client's token is revoked: its next logon is refused
  gw2.kick();
  const err2 = await closed2;
  t.ok(err2 instanceof LogonRejectedError, 'a rejected logon stops reconnecting');

  gw2.acceptedToken = GOOD_TOKEN;
  const c3 = await ExchangeClient.connect({ url: gw2.url, token: GOOD_TOKEN, reconnect: false });
  const disc = next<{ willReconnect: boolean }>(c3, 'disconnect');
  const closed3 = next<Error | null>(c3, 'close');
  gw2.kick();
  t.match(await disc, { willReconnect: false });
  t.equal(await closed3, null);
});

t.test('heartbeats: sent at the granted interval; a silent gateway is dropped and reconnected', async (t) => {
  const { gw, client } = await setup(t, { reconnect: { initialDelayMs: 10 } }, 40);
  t.equal(client.heartbeatIntervalMs, 40, 'interval from LogonAck');
  const beats: number[] = [];
  client.on('heartbeat', (seq) => beats.push(seq));
  await until(() => gw.heartbeats >= 2 && beats.length >= 2);
  t.pass('heartbeats both ways');
  gw.answerHeartbeats = false;
  const disc = next<{ code: number }>(client, 'disconnect');
  const started = Date.now();
  t.match(await disc, { code: 1006 });
  t.ok(Date.now() - started >= 100, 'after about three silent intervals');
  gw.answerHeartbeats = true;
  await next(client, 'reconnect');
  t.equal(client.connected, true);
});

t.test('invalid frames from the gateway are reported and dropped', async (t) => {
  const { client } = await setup(t);
  const invalid = new Promise<[number, string]>((resolve) =>
    client.once('invalidFrame', (c, s) => resolve([c, s])),
  );
  const other = new Promise<number>((resolve) => client.once('message', (type) => resolve(type)));
  const ws = (
    client as unknown as { ws: { onMessage: (b: Uint8Array, s: number, e: number, bin: boolean) => void } }
  ).ws;
  ws.onMessage(new Uint8Array(20), 0, 20, true);
  t.match(await invalid, [102, /identifier/i]);
  // A verified frame of a kind the SDK does not handle itself (market data) is passed on.
  const { GatewayEncoder } = await import('../../schema/index.js');
  const trade = new GatewayEncoder().trade(1, 1, 1, 100, 1, Side.Buy, 1);
  const framed = new Uint8Array(trade.length + 4);
  framed.set(trade, 4);
  ws.onMessage(framed, 4, framed.length, true);
  ws.onMessage(new Uint8Array(3), 0, 3, false);
  t.equal(await other, 38, 'Trade body passed through as a message event');
});
