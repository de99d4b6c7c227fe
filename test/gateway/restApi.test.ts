/**
 * The REST API end to end: a real uWS server on port 0, the real engine pipeline (worker threads),
 * JWT_SECRET set (every order route needs a token), two accounts.
 */
import { SignJWT } from 'jose';
import t from 'tap';
import { call, rawExchange, rawSend, sleep } from '../fixtures/gateway/http.js';
import { type Exchange, startExchange } from '../fixtures/gateway/startExchange.js';

const SECRET = 'rest-api-test-secret-of-32-characters-or-more';
const key = new TextEncoder().encode(SECRET);
const sign = (sub: string, exp = '1h') =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(exp).sign(key);

let ex: Exchange;
let alice: string;
let bob: string;

t.before(async () => {
  ex = await startExchange({ jwtSecret: SECRET, corsOrigins: ['https://app.example.com'], shards: 2 });
  alice = await sign('101');
  bob = await sign('202');
});
t.teardown(() => ex.stop());

const api = (method: string, path: string, o: Parameters<typeof call>[3] = {}) =>
  call(ex.url, method, path, o);

t.test('the curl flow: place -> list -> get -> trades -> cancel', async (t) => {
  const placed = await api('POST', '/api/v1/orders', {
    token: alice,
    body: { symbol: 'BTC/USD', side: 'Sell', quantity: '1.0', price: '50000.00', order_type: 'Limit' },
  });
  t.equal(placed.status, 201, placed.text);
  t.match(placed.json, {
    order_id: /^\d+$/,
    account_id: 101,
    symbol: 'BTC/USD',
    side: 'Sell',
    order_type: 'Limit',
    time_in_force: 'GTC',
    status: 'New',
    price: '50000.00',
    quantity: '1.0000',
    filled_quantity: '0.0000',
    remaining_quantity: '1.0000',
    average_price: null,
    fills: [],
  });
  const id = placed.json.order_id as string;

  // Bob buys 0.25 at a better price: he trades at Alice's price.
  const taker = await api('POST', '/api/v1/orders', {
    token: bob,
    body: { symbol: 'btc/usd', side: 'buy', quantity: '0.25', price: '50100.00', client_order_id: 77 },
  });
  t.equal(taker.status, 201, taker.text);
  t.match(taker.json, {
    status: 'Filled',
    client_order_id: '77',
    filled_quantity: '0.2500',
    average_price: '50000.00',
    last_fill_price: '50000.00',
    last_fill_quantity: '0.2500',
    fills: [{ price: '50000.00', quantity: '0.2500', liquidity: 'Taker', trade_id: /^\d+$/ }],
  });

  const list = await api('GET', '/api/v1/orders', { token: alice });
  t.equal(list.status, 200);
  t.match(list.json.orders[0], { order_id: id, status: 'PartiallyFilled', filled_quantity: '0.2500' });
  t.equal(list.json.orders[0].fills, undefined, 'lists leave fills out');

  const got = await api('GET', `/api/v1/orders/${id}`, { token: alice });
  t.equal(got.status, 200);
  t.match(got.json, { order_id: id, status: 'PartiallyFilled', remaining_quantity: '0.7500', fill_count: 1 });
  t.match(got.json.fills, [{ liquidity: 'Maker', price: '50000.00' }]);

  const trades = await api('GET', `/api/v1/orders/${id}/trades`, { token: alice });
  t.equal(trades.status, 200);
  t.match(trades.json, {
    order_id: id,
    symbol: 'BTC/USD',
    fill_count: 1,
    truncated: false,
    trades: [{ price: '50000.00', quantity: '0.2500', liquidity: 'Maker' }],
  });
  t.equal(trades.json.trades[0].trade_id, taker.json.fills[0].trade_id, 'same trade on both sides');

  const cancelled = await api('PUT', `/api/v1/orders/${id}/cancel`, { token: alice });
  t.equal(cancelled.status, 200, cancelled.text);
  t.match(cancelled.json, {
    order_id: id,
    status: 'Canceled',
    reason: 'USER_CANCEL',
    filled_quantity: '0.2500',
  });

  const again = await api('DELETE', `/api/v1/orders/${id}`, { token: alice });
  t.equal(again.status, 409);
  t.match(again.json, { error: { code: 'ORDER_NOT_OPEN', message: /Canceled/ } });
});

t.test('aliases under /api/v1/orders/orders and DELETE', async (t) => {
  const placed = await api('POST', '/api/v1/orders/orders', {
    token: alice,
    body: { symbol: 'ETH/USD', side: 'Buy', quantity: '2', price: '2999.99' },
  });
  t.equal(placed.status, 201, placed.text);
  const id = placed.json.order_id as string;
  t.equal((await api('GET', '/api/v1/orders/orders', { token: alice })).json.orders[0].order_id, id);
  t.equal((await api('GET', `/api/v1/orders/orders/${id}`, { token: alice })).json.status, 'New');
  t.same((await api('GET', `/api/v1/orders/orders/${id}/trades`, { token: alice })).json.trades, []);
  const c = await api('PUT', `/api/v1/orders/orders/${id}/cancel`, { token: alice });
  t.equal(c.json.status, 'Canceled');
  const p2 = await api('POST', '/api/v1/orders', {
    token: alice,
    body: { symbol: 'ETH/USD', side: 'Buy', quantity: '2', price: '2999.99' },
  });
  const d = await api('DELETE', `/api/v1/orders/orders/${p2.json.order_id}`, { token: alice });
  t.equal(d.status, 200);
  t.equal(d.json.status, 'Canceled');
});

t.test("another account's order answers exactly like an unknown id", async (t) => {
  const placed = await api('POST', '/api/v1/orders', {
    token: alice,
    body: { symbol: 'SOL/USD', side: 'Buy', quantity: '1', price: '149.000' },
  });
  const id = placed.json.order_id as string;
  const unknown = String(Number(id) + 1000);
  for (const [method, suffix] of [
    ['GET', ''],
    ['GET', '/trades'],
    ['PUT', '/cancel'],
    ['DELETE', ''],
  ] as const) {
    const theirs = await api(method, `/api/v1/orders/${id}${suffix}`, { token: bob });
    const none = await api(method, `/api/v1/orders/${unknown}${suffix}`, { token: bob });
    t.equal(theirs.status, 404, `${method} ${suffix}`);
    t.equal(none.status, 404);
    t.same(theirs.json.error.code, none.json.error.code);
    t.equal(theirs.json.error.message.replace(id, 'ID'), none.json.error.message.replace(unknown, 'ID'));
  }
  t.equal((await api('GET', '/api/v1/orders/not-a-number', { token: bob })).status, 404);
  t.notOk(
    (await api('GET', '/api/v1/orders', { token: bob })).json.orders.some(
      (o: { order_id: string }) => o.order_id === id,
    ),
    "Bob's list does not show Alice's order",
  );
  t.equal((await api('GET', `/api/v1/orders/${id}`, { token: alice })).json.status, 'New', 'still open');
});

t.test('list filters and pagination', async (t) => {
  const carol = await sign('303');
  const ids: string[] = [];
  for (const [side, price] of [
    ['Buy', '140.000'],
    ['Sell', '160.000'],
    ['Buy', '141.000'],
  ]) {
    const r = await api('POST', '/api/v1/orders', {
      token: carol,
      body: { symbol: 'SOL/USD', side, quantity: '1', price },
    });
    t.equal(r.status, 201, r.text);
    ids.push(r.json.order_id);
  }
  await api('DELETE', `/api/v1/orders/${ids[0]}`, { token: carol });
  const page1 = await api('GET', '/api/v1/orders?limit=2', { token: carol });
  t.same(
    page1.json.orders.map((o: { order_id: string }) => o.order_id),
    [ids[2], ids[1]],
  );
  t.type(page1.json.next_cursor, 'string');
  const page2 = await api('GET', `/api/v1/orders?limit=2&cursor=${page1.json.next_cursor}`, { token: carol });
  t.same(
    page2.json.orders.map((o: { order_id: string }) => o.order_id),
    [ids[0]],
  );
  t.equal(page2.json.next_cursor, null);
  const open = await api('GET', '/api/v1/orders?status=open&side=buy&symbol=SOL%2FUSD', { token: carol });
  t.same(
    open.json.orders.map((o: { order_id: string }) => o.order_id),
    [ids[2]],
  );
  const cancelled = await api('GET', '/api/v1/orders?status=cancelled,filled', { token: carol });
  t.same(
    cancelled.json.orders.map((o: { order_id: string }) => o.order_id),
    [ids[0]],
  );
  t.equal((await api('GET', '/api/v1/orders?symbol=ETH-USD', { token: carol })).json.orders.length, 0);
  for (const q of ['status=lost', 'side=up', 'symbol=XXX', 'limit=0', 'limit=1001', 'cursor=abc']) {
    const r = await api('GET', `/api/v1/orders?${q}`, { token: carol });
    t.equal(r.status, 400, q);
    t.equal(r.json.error.code, 'INVALID_QUERY');
  }
});

t.test('bad tokens are refused with 401 JSON and logged "unauthorized"', async (t) => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const tokens: Record<string, string | undefined> = {
    missing: undefined,
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '101' })}.`,
    expired: await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('101')
      .setExpirationTime(now - 10)
      .sign(key),
    'wrong secret': await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('101')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret')),
    'no sub': await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(key),
  };
  for (const [name, token] of Object.entries(tokens)) {
    const before = ex.logs().filter((l) => l.msg === 'unauthorized').length;
    for (const [method, path] of [
      ['POST', '/api/v1/orders'],
      ['GET', '/api/v1/orders'],
      ['GET', '/api/v1/orders/1'],
    ]) {
      const r = await api(method, path, {
        token,
        body:
          method === 'POST' ? { symbol: 'BTC/USD', side: 'Buy', quantity: '1', price: '50000' } : undefined,
      });
      t.equal(r.status, 401, `${name}: ${method} ${path}`);
      t.equal(r.json.error.code, 'UNAUTHORIZED');
      t.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
    const after = ex.logs().filter((l) => l.msg === 'unauthorized');
    t.equal(after.length, before + 3, `${name} logged`);
  }
  t.equal((await api('GET', '/api/v1/health')).status, 200, 'health needs no token');
  t.equal((await api('GET', '/api/v1/symbols')).status, 200, 'symbols need no token');
});

t.test(
  'bad requests: malformed JSON 400, oversize 413, tick multiple 400 naming the value, engine reject 422',
  async (t) => {
    const malformed = await api('POST', '/api/v1/orders', { token: alice, rawBody: '{"symbol": "BTC/USD",' });
    t.equal(malformed.status, 400);
    t.equal(malformed.json.error.code, 'MALFORMED_JSON');
    const notObject = await api('POST', '/api/v1/orders', { token: alice, rawBody: '[1,2]' });
    t.equal(notObject.status, 400);
    t.equal(notObject.json.error.code, 'INVALID_REQUEST');
    const empty = await api('POST', '/api/v1/orders', { token: alice });
    t.equal(empty.status, 400);
    const badUtf8 = await rawExchange(
      ex.port,
      Buffer.concat([
        Buffer.from(
          `POST /api/v1/orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\ncontent-length: 3\r\n\r\n`,
        ),
        Buffer.from([0x22, 0xff, 0x22]),
      ]),
      1000,
    );
    t.match(badUtf8, /^HTTP\/1\.1 400 Bad Request/);

    const big = await api('POST', '/api/v1/orders', {
      token: alice,
      body: { symbol: 'BTC/USD', side: 'Buy', quantity: '1', price: '50000', pad: 'x'.repeat(20_000) },
    });
    t.equal(big.status, 413);
    t.equal(big.json.error.code, 'PAYLOAD_TOO_LARGE');
    const chunk = 'x'.repeat(20_000);
    const streamed = await rawExchange(
      ex.port,
      `POST /api/v1/orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\ntransfer-encoding: chunked\r\n\r\n` +
        `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    t.match(
      streamed,
      /^HTTP\/1\.1 413 Payload Too Large[\s\S]*Connection: close/i,
      'counted while streaming',
    );

    const tick = await api('POST', '/api/v1/orders', {
      token: alice,
      body: { symbol: 'BTC/USD', side: 'Buy', quantity: '1.0', price: '50000.005' },
    });
    t.equal(tick.status, 400);
    t.match(tick.json.error, { code: 'INVALID_PRICE', field: 'price', message: /"50000\.005".*0\.01/ });

    const band = await api('POST', '/api/v1/orders', {
      token: alice,
      body: { symbol: 'BTC/USD', side: 'Buy', quantity: '1.0', price: '70000.00' },
    });
    t.equal(band.status, 422, band.text);
    t.match(band.json.error, { code: 'PRICE_OUTSIDE_BAND', reason: 203, message: /band/ });
    const postOnly = await api('POST', '/api/v1/orders', {
      token: alice,
      body: { symbol: 'BTC/USD', side: 'Sell', quantity: '0.0001', price: '45000.00', post_only: true },
    });
    t.equal(postOnly.status, 201, 'rests (no bid at or above)');
  },
);

t.test('clients that go away mid-request never crash the server', async (t) => {
  const head = (len: number) =>
    `POST /api/v1/orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;
  const body = JSON.stringify({ symbol: 'BTC/USD', side: 'Buy', quantity: '0.001', price: '49000.00' });
  // 1. half a body, then close (abort while reading the body)
  const s1 = await rawSend(ex.port, head(body.length) + body.slice(0, 10));
  await sleep(20);
  s1.destroy();
  // 2. a whole order, then close at once (abort while the order is at the engine)
  const sockets = await Promise.all(
    Array.from({ length: 20 }, () => rawSend(ex.port, head(body.length) + body)),
  );
  for (const s of sockets) s.destroy();
  // 3. a slow reader of a big response (metrics), closed early
  const s3 = await rawSend(ex.port, 'GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n');
  s3.destroy();
  await sleep(200);
  const health = await api('GET', '/api/v1/health');
  t.equal(health.status, 200, 'still serving');
  const metrics = await api('GET', '/metrics');
  t.match(metrics.text, /http_requests_aborted_total\{method="POST",route="\/api\/v1\/orders"\} [1-9]/);
  t.equal(ex.gateway.orders.pending.size, 0, 'no request left waiting');
});

t.test('CORS: preflight and simple requests for allowed origins only', async (t) => {
  const pre = await fetch(`${ex.url}/api/v1/orders`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  t.equal(pre.status, 204);
  t.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example.com');
  t.match(pre.headers.get('access-control-allow-methods'), /POST/);
  t.match(pre.headers.get('access-control-allow-headers'), /authorization/);
  t.equal(pre.headers.get('vary'), 'Origin');
  const denied = await fetch(`${ex.url}/api/v1/orders`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example' },
  });
  t.equal(denied.status, 204);
  t.equal(denied.headers.get('access-control-allow-origin'), null);
  const simple = await api('GET', '/api/v1/symbols', { headers: { origin: 'https://app.example.com' } });
  t.equal(simple.headers.get('access-control-allow-origin'), 'https://app.example.com');
  const other = await api('GET', '/api/v1/symbols', { headers: { origin: 'https://evil.example' } });
  t.equal(other.headers.get('access-control-allow-origin'), null);
  const unauth = await api('GET', '/api/v1/orders', { headers: { origin: 'https://app.example.com' } });
  t.equal(unauth.status, 401);
  t.equal(
    unauth.headers.get('access-control-allow-origin'),
    'https://app.example.com',
    'errors carry CORS too',
  );
});

t.test('/metrics exposes the gateway and engine metrics with route patterns', async (t) => {
  const m = await api('GET', '/metrics');
  t.equal(m.status, 200);
  t.match(m.headers.get('content-type'), /text\/plain/);
  for (const name of [
    'http_requests_total',
    'http_request_duration_seconds_bucket',
    'exchange_orders_total{result="accepted"}',
    'exchange_orders_total{result="rejected"}',
    'exchange_orders_total{result="unauthorized"}',
    'exchange_order_ack_seconds_bucket',
    'exchange_ws_sessions',
    'exchange_busy_rejects_total',
    'exchange_trades_total',
    'exchange_shard_commands_total{shard="0"}',
    'exchange_shard_commands_total{shard="1"}',
    'exchange_ring_used_bytes{shard="0",ring="command"}',
    'exchange_shard_up{shard="1"} 1',
    'exchange_open_orders',
    'process_cpu_user_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    t.ok(m.text.includes(name), name);
  }
  t.match(m.text, /http_requests_total\{method="GET",route="\/api\/v1\/orders\/:id",status="404"\}/);
  t.notMatch(m.text, /route="\/api\/v1\/orders\/\d/, 'no raw ids in labels');
  t.match(m.text, /exchange_trades_total [1-9]/);
});

t.test('health reports the gateway and every shard', async (t) => {
  const h = await api('GET', '/api/v1/health');
  t.match(h.json, {
    status: 'ok',
    components: {
      gateway: { status: 'ok', auth: 'jwt' },
      engine: {
        status: 'ok',
        shards: [
          { id: 0, alive: true },
          { id: 1, alive: true },
        ],
      },
    },
  });
});
