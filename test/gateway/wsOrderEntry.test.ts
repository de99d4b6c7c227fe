/**
 * WebSocket order entry end to end: the real gateway (uWS on port 0, OrderEntryGateway mounted as in
 * server.ts), real shard workers (2 shards), clients over real sockets (ExchangeClient, RawWebSocket).
 */
import t from 'tap';
import {
  ExchangeClient,
  ExecType,
  type ExecutionReport,
  type GatewayError,
  OrderStatus,
  Side,
} from '../../client/index.js';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import { Reason } from '../../engine/ResultCodes.js';
import { SessionReason } from '../../gateway/ws/SessionReason.js';
import {
  Body,
  ClientEncoder,
  Direction,
  ErrorReader,
  FrameVerifier,
  LogonRejectReader,
  MessageReader,
} from '../../schema/index.js';
import { startWsExchange, type WsExchange } from '../fixtures/gateway/wsExchange.js';
import { until } from '../fixtures/until.js';

const A = 101;
const B = 202;
const P = 5_000_000; // 50,000.00 in ticks of 0.01

let ex: WsExchange;

t.before(async () => {
  ex = await startWsExchange({ shards: 2, rateLimit: 0 });
});
t.teardown(() => ex.stop());

async function client(account: number, extra: Partial<Parameters<typeof ExchangeClient.connect>[0]> = {}) {
  const c = await ExchangeClient.connect({
    url: ex.url,
    token: await ex.token(account),
    reconnect: false,
    massCancelQuietMs: 50,
    ...extra,
  });
  return c;
}

function collect(c: ExchangeClient): ExecutionReport[] {
  const reports: ExecutionReport[] = [];
  c.on('report', (r) => reports.push(r));
  return reports;
}

function errors(c: ExchangeClient): GatewayError[] {
  const out: GatewayError[] = [];
  c.on('gatewayError', (e) => out.push(e));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('place, fill and cancel between two accounts: reports to both sides', async (t) => {
  const a = await client(A);
  const b = await client(B);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  t.same(
    a.symbols.map((s) => s.name),
    ['BTC/USD', 'ETH/USD', 'SOL/USD'],
    'LogonAck then SymbolList',
  );
  t.ok(a.sessionId >= 2 && b.sessionId !== a.sessionId, 'distinct WS session ids');
  const aReports = collect(a);
  const bReports = collect(b);

  const sell = await a.placeOrder({ symbol: 'BTC/USD', side: 'sell', price: '50000.00', quantity: '1.0' });
  t.match(sell, {
    ok: true,
    report: { execType: ExecType.New, orderStatus: OrderStatus.New, price: P, quantity: 10_000 },
  });
  if (!sell.ok) return;
  const buy = await b.placeOrder({
    symbol: 'BTC/USD',
    side: 'buy',
    price: '50100.00',
    quantity: '0.25',
    timeInForce: 'ioc',
  });
  t.match(buy, { ok: true, report: { execType: ExecType.New } });
  await until(() => aReports.some((r) => r.execType === ExecType.Trade), 'maker fill', 5000);
  await until(() => bReports.some((r) => r.execType === ExecType.Trade), 'taker fill', 5000);
  const makerFill = aReports.find((r) => r.execType === ExecType.Trade)!;
  const takerFill = bReports.find((r) => r.execType === ExecType.Trade)!;
  t.match(makerFill, {
    orderId: sell.report.orderId,
    side: Side.Sell,
    lastPrice: P,
    lastQuantity: 2500,
    cumQuantity: 2500,
    leavesQuantity: 7500,
    orderStatus: OrderStatus.PartiallyFilled,
    liquidity: 1,
    price: P,
    quantity: 10_000,
  });
  t.match(takerFill, {
    side: Side.Buy,
    lastPrice: P,
    lastQuantity: 2500,
    cumQuantity: 2500,
    leavesQuantity: 0,
    orderStatus: OrderStatus.Filled,
    liquidity: 2,
    price: 5_010_000,
  });
  t.equal(makerFill.tradeId, takerFill.tradeId, 'one trade id on both sides');
  t.ok(makerFill.seq > 0 && makerFill.transactTimeUs > 1.6e15, 'engine seq and microsecond time');

  const cancelled = await a.cancel({ orderId: sell.report.orderId });
  t.match(cancelled, {
    ok: true,
    report: {
      execType: ExecType.Canceled,
      orderStatus: OrderStatus.Canceled,
      cumQuantity: 2500,
      leavesQuantity: 0,
    },
  });
  t.notOk(
    bReports.some((r) => r.orderId === sell.report.orderId),
    "B received none of A's reports",
  );
  t.notOk(
    aReports.some(
      (r) =>
        r.clientOrderId === (buy.ok ? buy.report.clientOrderId : -1) && r.orderId !== sell.report.orderId,
    ),
    "A received none of B's reports",
  );

  // Amend (price and quantity, by client order id), a batch, stop orders, mass cancel with completion.
  const rest = await a.placeOrder({
    symbol: 'ETH/USD',
    side: 'buy',
    price: '2990.00',
    quantity: '1.000',
    clientOrderId: 9001,
  });
  t.match(rest, { ok: true });
  const amended = await a.amend({ clientOrderId: 9001, price: '2991.00' });
  t.match(amended, { ok: true, report: { execType: ExecType.Amended, price: 299_100, quantity: 1000 } });
  const qty = await a.amend({ clientOrderId: 9001, quantity: '0.5' });
  t.match(qty, { ok: true, report: { execType: ExecType.Amended, price: 299_100, quantity: 500 } });
  // An amend right behind the session's own NewOrder, sent before its acknowledgement: the engine
  // resolves the client order id in command order, so it finds the order.
  const placing = a.placeOrder({
    symbol: 'ETH/USD',
    side: 'buy',
    price: '2980.00',
    quantity: '1.000',
    clientOrderId: 9002,
  });
  const racing = a.amend({ clientOrderId: 9002, symbol: 'ETH/USD', quantity: '0.25' });
  t.match(await placing, { ok: true });
  t.match(await racing, { ok: true, report: { execType: ExecType.Amended, price: 298_000, quantity: 250 } });
  t.match(await a.amend({ clientOrderId: 424242, symbol: 'ETH/USD', price: '2970.00' }), {
    ok: false,
    code: Reason.ORDER_NOT_FOUND,
    report: { execType: ExecType.AmendRejected },
  });
  const stop = await a.placeOrder({
    symbol: 'BTC/USD',
    side: 'buy',
    type: 'stop',
    timeInForce: 'gtc',
    stopPrice: '52000.00',
    quantity: 1,
  });
  t.match(stop, { ok: true, report: { orderStatus: OrderStatus.PendingTrigger } });
  const batch = a.batch();
  for (let i = 0; i < 5; i++)
    batch.placeOrder({ symbol: 'SOL/USD', side: 'sell', price: 150_000 + i, quantity: 100 });
  batch.placeOrder({ symbol: 'SOL/USD', side: 'sell', price: 999_999_999, quantity: 100 });
  const results = await batch.send();
  t.equal(results.filter((r) => r.ok).length, 5, 'batch items accepted');
  t.match(results[5], { ok: false, code: Reason.PRICE_OUT_OF_RANGE });
  const errs = errors(a);
  // What arrives, in order: Canceled reports and the completion notice.
  const arrivals: string[] = [];
  a.on('report', (r) => {
    if (r.execType === ExecType.Canceled) arrivals.push('canceled');
  });
  a.on('gatewayError', (e) => {
    if (e.code === SessionReason.MASS_CANCEL_DONE) arrivals.push('done');
  });
  const mc = await a.massCancel();
  t.equal(mc.canceled.length, 8, 'ETH bids, BTC stop, 5 SOL offers');
  await until(() => errs.some((e) => e.code === SessionReason.MASS_CANCEL_DONE), 'completion notice', 2000);
  t.match(
    errs.find((e) => e.code === SessionReason.MASS_CANCEL_DONE),
    { text: 'mass cancel done: 8 orders cancelled' },
  );
  t.same(
    arrivals,
    [...new Array<string>(8).fill('canceled'), 'done'],
    'the notice follows its Canceled reports',
  );
});

t.test('account isolation: B cannot cancel, amend or see A’s orders', async (t) => {
  const a = await client(A);
  const b = await client(B);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const bReports = collect(b);
  const placed = await a.placeOrder({
    symbol: 'ETH/USD',
    side: 'sell',
    price: '3010.00',
    quantity: 2,
    clientOrderId: 4242,
  });
  if (!placed.ok) throw new Error('not placed');
  const id = placed.report.orderId;
  const foreign = await b.cancel({ orderId: id, symbol: 'ETH/USD' });
  const unknown = await b.cancel({ orderId: id + 1000, symbol: 'ETH/USD' });
  t.match(foreign, {
    ok: false,
    code: Reason.ORDER_NOT_FOUND,
    report: { execType: ExecType.CancelRejected },
  });
  t.match(unknown, {
    ok: false,
    code: Reason.ORDER_NOT_FOUND,
    report: { execType: ExecType.CancelRejected },
  });
  t.match(
    await b.cancel({ orderId: id, symbol: 'BTC/USD' }),
    { ok: false, code: Reason.ORDER_NOT_FOUND },
    'an id of another shard than the symbol: as unknown',
  );
  t.match(await b.cancel({ clientOrderId: 4242, symbol: 'ETH/USD' }), {
    ok: false,
    code: Reason.ORDER_NOT_FOUND,
  });
  t.match(await b.amend({ orderId: id, symbol: 'ETH/USD', price: 301_100, quantity: 2 }), {
    ok: false,
    code: Reason.ORDER_NOT_FOUND,
    report: { execType: ExecType.AmendRejected },
  });
  t.match(await b.amend({ clientOrderId: 4242, symbol: 'ETH/USD', quantity: 1 }), {
    ok: false,
    code: Reason.ORDER_NOT_FOUND,
  });
  t.match(await b.massCancel({ symbol: 'ETH/USD' }), { canceled: [] }, "B's mass cancel leaves A's order");
  t.equal(ex.gateway.orders.store.get(id)?.status, 1, 'still open (New)');
  // B's own refusals echo what B sent; nothing else about the order may reach B.
  const aboutA = (r: ExecutionReport) =>
    (r.orderId === id || r.clientOrderId === 4242) &&
    r.execType !== ExecType.CancelRejected &&
    r.execType !== ExecType.AmendRejected;
  t.notOk(bReports.some(aboutA), 'no report of A reached B');

  // A second session of A sees A's reports (every live session of the account).
  const a2 = await client(A);
  const a2Reports = collect(a2);
  t.teardown(() => a2.close());
  const gone = await a.cancel({ orderId: id });
  t.match(gone, { ok: true });
  await until(
    () => a2Reports.some((r) => r.orderId === id && r.execType === ExecType.Canceled),
    'drop copy',
    2000,
  );
  t.notOk(bReports.some(aboutA), 'still nothing for B');
});

function alg(header: object, payload: object): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc(header)}.${enc(payload)}.`;
}

t.test('bad tokens: refused on upgrade (401) and via Logon (LogonReject); logged unauthorized', async (t) => {
  const none = alg(
    { alg: 'none', typ: 'JWT' },
    { sub: String(A), exp: Math.floor(Date.now() / 1000) + 3600 },
  );
  const expired = await ex.token(A, '-1h');
  const wrong = await ex.token(A, '1h', 'another-secret-of-at-least-32-characters!!');
  const before = ex.logs().filter((l) => l.msg === 'unauthorized').length;
  for (const [name, token] of [
    ['alg none', none],
    ['expired', expired],
    ['wrong secret', wrong],
  ] as const) {
    await t.rejects(
      ExchangeClient.connect({ url: ex.url, token, auth: 'header', reconnect: false }),
      { name: 'HandshakeError', status: 401 },
      `${name}: upgrade refused`,
    );
    await t.rejects(
      ExchangeClient.connect({ url: ex.url, token, reconnect: false }),
      { name: 'LogonRejectedError', rejectCode: SessionReason.UNAUTHORIZED },
      `${name}: LogonReject`,
    );
  }
  const refusals = ex.logs().filter((l) => l.msg === 'unauthorized');
  t.equal(refusals.length - before, 6, 'every refusal logged as "unauthorized"');
  t.match(refusals.map((l) => l.reason).join('|'), /algorithm|expired|signature/);

  // A request before Logon: LogonReject + close 4002; header auth works without a Logon frame.
  const raw = await RawWebSocket.connect(ex.url);
  const closed = new Promise<number>((r) => {
    raw.onClose = (code) => r(code);
  });
  const got: number[] = [];
  raw.onMessage = (bytes, s, e) => {
    const f = bytes.subarray(s, e);
    const m = new MessageReader().wrap(f);
    got.push(m.bodyType);
    if (m.bodyType === Body.LogonReject) got.push(new LogonRejectReader().wrap(f, m.bodyPos).code);
  };
  raw.send(new ClientEncoder().heartbeat(0, 0));
  t.equal(await closed, 4002);
  t.same(got, [Body.LogonReject, SessionReason.NOT_LOGGED_ON]);
  const viaHeader = await ExchangeClient.connect({
    url: ex.url,
    token: await ex.token(B),
    auth: 'header',
    reconnect: false,
  });
  await until(() => viaHeader.sessionId > 0, 'LogonAck on open', 2000);
  t.match(await viaHeader.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '49000.00', quantity: 1 }), {
    ok: true,
  });
  await viaHeader.massCancel();
  await viaHeader.close();
});

t.test('demo mode: a token is still required on WebSocket; the printed demo tokens work', async (t) => {
  const demo = await startWsExchange({ shards: 1, jwtSecret: null });
  t.teardown(() => demo.stop());
  await t.rejects(ExchangeClient.connect({ url: demo.url, token: 'x', reconnect: false }), {
    name: 'LogonRejectedError',
  });
  const raw = await RawWebSocket.connect(demo.url);
  const closed = new Promise<number>((r) => {
    raw.onClose = (code) => r(code);
  });
  raw.send(new ClientEncoder().cancelOnDisconnect(0));
  t.equal(await closed, 4002, 'no anonymous session');
  const c = await ExchangeClient.connect({
    url: demo.url,
    token: demo.gateway.auth.demoTokens[1].token,
    reconnect: false,
  });
  t.match(await c.placeOrder({ symbol: 'ETH/USD', side: 'buy', price: '2999.00', quantity: 1 }), {
    ok: true,
  });
  t.equal(
    demo.gateway.orders.store.list(2, { statusMask: 0, symbolId: 0, side: 0 }, 10).orders.length,
    1,
    'as demo-bob',
  );
  await c.close();
});

t.test(
  'rate limit: token bucket per session, the excess rejected with a reason, no disconnect',
  async (t) => {
    const limited = await startWsExchange({ shards: 1, rateLimit: 10, rateBurst: 5 });
    t.teardown(() => limited.stop());
    const c = await ExchangeClient.connect({
      url: limited.url,
      token: await limited.token(A),
      reconnect: false,
    });
    const other = await ExchangeClient.connect({
      url: limited.url,
      token: await limited.token(A),
      reconnect: false,
    });
    t.teardown(async () => {
      await c.close();
      await other.close();
    });
    const b = c.batch();
    for (let i = 0; i < 12; i++)
      b.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 100 - i, quantity: 1 });
    const results = await b.send();
    t.equal(results.filter((r) => r.ok).length, 5, 'the burst');
    t.ok(
      results
        .slice(5)
        .every(
          (r) =>
            !r.ok &&
            r.code === SessionReason.RATE_LIMITED &&
            r.reason === 'RATE_LIMITED' &&
            r.report?.execType === ExecType.Rejected,
        ),
      'the rest: Rejected, reason RATE_LIMITED',
    );
    t.equal(c.connected, true, 'still connected');
    t.match(
      await other.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 500, quantity: 1 }),
      { ok: true },
      'per session',
    );
    await sleep(250);
    t.match(
      await c.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 501, quantity: 1 }),
      { ok: true },
      'refilled',
    );
    t.ok(limited.orderEntry.stats.rateLimited >= 7);
    const metrics = await limited.gateway.metrics.scrape();
    t.match(metrics.body, /exchange_orders_total\{result="rejected"\} \d+/);
    t.match(metrics.body, /exchange_ws_sessions 2/);
    await c.massCancel();
  },
);

t.test('an oversize frame closes only its connection; bad frames get Error with the reason', async (t) => {
  const good = await client(A);
  t.teardown(() => good.close());
  const token = await ex.token(B);
  const raw = await RawWebSocket.connect(ex.url);
  const frames: Uint8Array[] = [];
  raw.onMessage = (bytes, s, e) => frames.push(bytes.slice(s, e));
  raw.send(new ClientEncoder().logon(token));
  await until(() => frames.length >= 2, 'LogonAck + SymbolList', 2000);
  raw.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]));
  await until(() => frames.length >= 3, 'Error frame', 2000);
  const v = new FrameVerifier(Direction.GatewayToClient);
  t.equal(v.verify(frames[2]), 0);
  const m = new MessageReader().wrap(frames[2]);
  t.equal(m.bodyType, Body.Error);
  t.equal(new ErrorReader().wrap(frames[2], m.bodyPos).code, 102, 'BAD_FILE_IDENTIFIER');

  const closed = new Promise<number>((r) => {
    raw.onClose = (code) => r(code);
  });
  raw.send(new Uint8Array(64 * 1024 + 1));
  const code = await closed;
  t.ok(code === 1009 || code === 1006, `oversize frame closed the connection (${code})`);
  t.match(
    await good.placeOrder({ symbol: 'SOL/USD', side: 'buy', price: 149_000, quantity: 10 }),
    { ok: true },
    'others go on',
  );
  await good.massCancel();
});

t.test('cancel-on-disconnect and the dead-man switch cancel the orders', async (t) => {
  const enc = new ClientEncoder();
  const C = 303;
  // 1. CancelOnDisconnect armed, then the connection drops: the account's orders are cancelled.
  const c = await client(C);
  await c.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 1000, quantity: 1 });
  await c.placeOrder({ symbol: 'ETH/USD', side: 'sell', price: 301_000, quantity: 1 });
  const open = () =>
    ex.gateway.orders.store.list(C, { statusMask: (1 << 1) | (1 << 2) | (1 << 6), symbolId: 0, side: 0 }, 100)
      .orders.length;
  t.equal(open(), 2);
  (c as unknown as { ws: RawWebSocket }).ws.send(enc.cancelOnDisconnect(60_000));
  await sleep(50);
  (c as unknown as { ws: RawWebSocket }).ws.terminate();
  await until(() => open() === 0, 'COD cancels', 5000);
  t.pass('closed with cancel-on-disconnect: both orders (2 shards) cancelled');
  await c.close();

  // 2. The rule: another live session of the account keeps them.
  const s1 = await client(C);
  const s2 = await client(C);
  await s1.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 1000, quantity: 1 });
  (s1 as unknown as { ws: RawWebSocket }).ws.send(enc.cancelOnDisconnect(60_000));
  await sleep(50);
  await s1.close();
  await sleep(200);
  t.equal(open(), 1, 'kept: another session of the account is live');
  // The same via the upgrade flag ?cancel_on_disconnect=true, last session: cancelled.
  const s3 = await client(C, { url: `${ex.url}?cancel_on_disconnect=true` });
  await s2.close();
  await s3.close();
  await until(() => open() === 0, 'query-flag COD', 5000);
  t.pass('per-session flag on the upgrade URL');

  // 3. Dead-man: armed with 150 ms, then silence: cancelled while the connection stays up.
  const d = await client(C);
  t.teardown(() => d.close());
  const derrs = errors(d);
  const reports = collect(d);
  await d.placeOrder({ symbol: 'SOL/USD', side: 'buy', price: 149_000, quantity: 10 });
  await d.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 2000, quantity: 1 });
  const dws = (d as unknown as { ws: RawWebSocket }).ws;
  dws.send(enc.cancelOnDisconnect(300));
  // Renewed by frames (heartbeats) for a while: nothing happens.
  for (let i = 0; i < 6; i++) {
    await sleep(100);
    dws.send(enc.heartbeat(0, 0));
  }
  t.equal(open(), 2, 'renewed in time: still open');
  const fired = ex.orderEntry.stats.deadManFired;
  await until(() => open() === 0, 'dead-man cancels', 5000);
  t.equal(ex.orderEntry.stats.deadManFired, fired + 1);
  await until(() => derrs.some((e) => e.code === SessionReason.MASS_CANCEL_DONE), 'completion notice', 2000);
  t.equal(
    reports.filter((r) => r.execType === ExecType.Canceled).length,
    2,
    'Canceled reports on the live session',
  );
  t.equal(d.connected, true, 'the connection stays up');
  // 0 disarms.
  await d.placeOrder({ symbol: 'SOL/USD', side: 'buy', price: 149_000, quantity: 10 });
  dws.send(enc.cancelOnDisconnect(100));
  dws.send(enc.cancelOnDisconnect(0));
  await sleep(300);
  t.equal(open(), 1, 'disarmed');
  await d.massCancel();
});

t.test('heartbeat echoes the last report sequence; unsupported and repeated logon answered', async (t) => {
  const c = await client(A);
  t.teardown(() => c.close());
  const errs = errors(c);
  const beats: number[] = [];
  c.on('heartbeat', (seq) => beats.push(seq));
  const r = await c.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: P - 3000, quantity: 1 });
  if (!r.ok) throw new Error('not placed');
  const ws = (c as unknown as { ws: RawWebSocket }).ws;
  const enc = new ClientEncoder();
  ws.send(enc.heartbeat(0, 0));
  ws.send(enc.subscribe(1, 1));
  ws.send(enc.logon('again'));
  await until(() => beats.length > 0 && errs.length >= 2, 'answers', 2000);
  t.equal(beats[0], r.report.seq, 'Heartbeat.last_seq = last report seq');
  t.same(
    errs.map((e) => e.code),
    [SessionReason.UNSUPPORTED, SessionReason.ALREADY_LOGGED_ON],
  );
  await c.cancel({ orderId: r.report.orderId });
});

t.test('Origin: checked against CORS_ORIGINS when configured', async (t) => {
  const strict = await startWsExchange({ shards: 1, corsOrigins: ['https://app.example.com'] });
  t.teardown(() => strict.stop());
  await t.rejects(RawWebSocket.connect(strict.url, { headers: { origin: 'https://evil.example.com' } }), {
    name: 'HandshakeError',
    status: 403,
  });
  const ok = await RawWebSocket.connect(strict.url, { headers: { origin: 'https://app.example.com' } });
  ok.terminate();
  const noOrigin = await RawWebSocket.connect(strict.url);
  noOrigin.terminate();
  t.pass('listed origin and no origin (non-browser) are let through');
  t.ok(
    strict
      .logs()
      .some((l) => l.msg === 'websocket origin not allowed' && l.origin === 'https://evil.example.com'),
  );
});
