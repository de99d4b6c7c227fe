/**
 * Property-based fuzz of the REST API against the real server: uWS on 127.0.0.1 port 0, the real
 * engine pipeline (2 shard workers), JWT_SECRET set, two trading accounts (Alice, Bob).
 *
 * fast-check draws (random seed, printed with the shrunk counterexample on failure):
 *   - POST /api/v1/orders bodies: valid orders with fields dropped, retyped or replaced (weird decimal
 *     strings, unknown enum words, long strings, nesting bombs, raw number tokens), extra fields,
 *     arbitrary JSON, text, non-UTF-8 bytes, empty and oversize bodies, odd content types;
 *   - the same bodies as raw HTTP, once with Content-Length and once chunked at random points;
 *   - order ids in /{id}, /{id}/cancel, /{id}/trades (junk, huge, negative, the other account's);
 *   - list query strings (status, symbol, side, limit, cursor and junk);
 *   - market-data routes (/book, /trades, /ticker, /candles) with junk symbols and parameters;
 *   - Authorization headers (missing, malformed, wrong secret, expired, not yet valid, other algs,
 *     tampered payloads, bad `sub`s);
 *   - an isolation run: Alice and Bob place (and trade), read, list and cancel each other's orders.
 * Every answer: 2xx or 4xx (never 5xx), a JSON body, 4xx bodies `{"error":{"code","message"}}` (plus
 * optional `reason`, `field`; docs/api.md "Errors"), within TIMEOUT_MS; no answer to one account ever
 * names another account's order or account id. After each property: health is ok, a valid order
 * round-trips, and no request is left waiting.
 * Environment: REST_FUZZ_SCALE multiplies every numRuns (default 1).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import t, { type Test } from 'tap';
import { rawExchange } from '../fixtures/gateway/http.js';
import { type Exchange, startExchange } from '../fixtures/gateway/startExchange.js';

const SECRET = 'rest-fuzz-test-secret-of-32-characters-or-more';
const KEY = new TextEncoder().encode(SECRET);
const ALICE = 1101;
const BOB = 2202;
const SCALE = Number(process.env.REST_FUZZ_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
/** A local request taking longer than this is a hang (the engine's own timeout is 5 s: a 504). */
const TIMEOUT_MS = 4000;
const MAX_BODY = 16 * 1024;

const SYMBOL_NAMES = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
/** Demo symbols: reference price in ticks, fraction digits of tick and lot. */
const SYMBOLS = [
  { name: 'BTC/USD', refTicks: 5_000_000, tickDigits: 2, lotDigits: 4 },
  { name: 'ETH/USD', refTicks: 300_000, tickDigits: 2, lotDigits: 3 },
  { name: 'SOL/USD', refTicks: 150_000, tickDigits: 3, lotDigits: 2 },
];
const ORDER_STATUSES = ['New', 'PartiallyFilled', 'Filled', 'Canceled', 'Expired', 'PendingTrigger'];
const CANDLE_INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'];

let ex: Exchange;
let alice: string;
let bob: string;
/** Every order id the fuzz saw accepted, with its account. */
const OWNER = new Map<string, number>();
/** Orders whose owner got a 200 to a cancel. */
const CANCELLED = new Set<string>();
/** Closed orders already checked by checkNoForeignCancel. */
const CHECKED = new Set<string>();
/** False once the gateway's order store evicted the (closed) order: it then answers 404 (docs/api.md). */
const held = (id: string): boolean => ex.gateway.orders.store.get(Number(id)) !== undefined;
/** Statuses answered during the current property (shown when it passes). */
const statuses = new Map<number, number>();
/** Log lines already looked at by stillServing. */
let logsSeen = 0;
const tokenOf = (account: number): string => (account === ALICE ? alice : account === BOB ? bob : '');
/** Routes under /api/v1/orders/{id}, as "METHOD suffix". */
const ROUTES_WITH_ID = new Set(['GET ', 'GET /trades', 'PUT /cancel', 'DELETE ']);

const sign = (sub: string): Promise<string> =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(KEY);

// ------------------------------------------------------------------------------------ requests

interface Res {
  readonly what: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON of any shape
  readonly json: any;
}

interface SendOptions {
  readonly token?: string;
  /** The whole Authorization header value (wins over `token`). */
  readonly authorization?: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
}

class Violation extends Error {}

function expect(cond: unknown, message: string, r?: Res): asserts cond {
  if (!cond) {
    throw new Violation(
      r === undefined ? message : `${message}: ${r.what} -> ${r.status} ${r.text.slice(0, 400)}`,
    );
  }
}

/** One request with a deadline; the reply checked against the API's general rules. */
async function send(method: string, path: string, o: SendOptions = {}, account?: number): Promise<Res> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.authorization !== undefined) headers.authorization = o.authorization;
  else if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  const what = `${method} ${path}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${ex.url}${path}`, {
      method,
      headers,
      body: o.body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    text = await res.text();
  } catch (err) {
    throw new Violation(`${what}: no complete answer within ${TIMEOUT_MS} ms (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const r: Res = { what, status: res.status, headers: res.headers, text, json };
  statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  checkReply(r, res.headers.get('content-type') ?? '');
  if (account !== undefined) {
    checkIsolation(r, account);
    if (
      r.status === 200 &&
      (method === 'DELETE' || method === 'PUT') &&
      typeof r.json.order_id === 'string'
    ) {
      CANCELLED.add(r.json.order_id);
    }
  }
  return r;
}

const ERROR_KEYS = new Set(['code', 'message', 'reason', 'field']);

/** 2xx or 4xx, JSON, and the documented error shape on 4xx. */
function checkReply(r: Res, contentType: string): void {
  expect((r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500), 'not 2xx/4xx', r);
  expect(/^application\/json/.test(contentType), `content-type ${contentType}`, r);
  expect(r.json !== undefined, 'body is not JSON', r);
  if (r.status >= 400) {
    const e = r.json?.error;
    expect(
      typeof e === 'object' && e !== null && !Array.isArray(e) && Object.keys(r.json).length === 1,
      'error body is not {"error":{...}}',
      r,
    );
    expect(typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code), 'error.code', r);
    expect(typeof e.message === 'string' && e.message.length > 0, 'error.message', r);
    expect(
      Object.keys(e).every((k) => ERROR_KEYS.has(k)),
      'error has only code, message, reason, field',
      r,
    );
    expect(e.reason === undefined || Number.isInteger(e.reason), 'error.reason is an integer', r);
    expect(e.field === undefined || typeof e.field === 'string', 'error.field is a string', r);
    if (r.status === 401) {
      expect(e.code === 'UNAUTHORIZED', '401 is UNAUTHORIZED', r);
      expect(r.headers.get('www-authenticate') === 'Bearer', '401 carries WWW-Authenticate', r);
    }
  }
}

/** Every `account_id` in the reply is the caller's, every `order_id` is not another account's. */
function checkIsolation(r: Res, account: number): void {
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'account_id') expect(x === account, `account ${account} shown account_id ${x}`, r);
        if (k === 'order_id' && typeof x === 'string') {
          const owner = OWNER.get(x);
          expect(owner === undefined || owner === account, `account ${account} shown order ${x}`, r);
        }
        walk(x);
      }
    }
  };
  walk(r.json);
}

/** Runs one async property; a failure (with fast-check's seed and shrunk input) fails the test. */
async function property<T>(
  t: Test,
  name: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  run: (v: T) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  statuses.clear();
  try {
    await fc.assert(fc.asyncProperty(arb, run), { numRuns, includeErrorInReport: true });
    const seen = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s} x${n}`);
    t.pass(`${name}: ${numRuns} runs in ${Math.round(performance.now() - started)} ms (${seen.join(', ')})`);
  } catch (err) {
    // Note: a counterexample can be a 16 KiB body; the seed and path come first and replay it.
    const message = (err as Error).message;
    t.fail(
      `${name}: ${message.length > 6000 ? `${message.slice(0, 3000)} ... ${message.slice(-3000)}` : message}`,
    );
  }
  await stillServing(t);
}

/**
 * Health ok; every open order of Alice and Bob cancelled; a valid order round-trips (place, read,
 * cancel); nobody cancelled another account's order; nothing pending; no handler failed.
 */
async function stillServing(t: Test): Promise<void> {
  try {
    const h = await send('GET', '/api/v1/health');
    t.equal(h.status, 200, 'health 200');
    t.equal(h.json.status, 'ok', 'health ok');
    // Note: first, so the check order rests (no fuzz order of Alice's crosses it: self-trade prevention).
    await cancelAllOpen();
    const body = JSON.stringify({ symbol: 'BTC/USD', side: 'Buy', quantity: '0.0001', price: '49000.00' });
    const placed = await send('POST', '/api/v1/orders', { token: alice, body }, ALICE);
    t.equal(placed.status, 201, `valid order placed ${placed.text.slice(0, 200)}`);
    const id = placed.json.order_id as string;
    const got = await send('GET', `/api/v1/orders/${id}`, { token: alice }, ALICE);
    t.match(got.json, { order_id: id, status: 'New', price: '49000.00', quantity: '0.0001' }, 'read back');
    const c = await send('DELETE', `/api/v1/orders/${id}`, { token: alice }, ALICE);
    t.match(c.json, { order_id: id, status: 'Canceled' }, 'cancelled');
    await checkNoForeignCancel(t);
  } catch (err) {
    t.fail(`still serving: ${(err as Error).message}`);
  }
  t.equal(ex.gateway.orders.pending.size, 0, 'no request left waiting');
  const logs = ex.logs();
  const failed = logs.slice(logsSeen).filter((l) => l.msg === 'request handler failed');
  logsSeen = logs.length;
  t.same(
    failed.map((l) => `${l.method} ${l.route}: ${(l.err as { message?: string } | undefined)?.message}`),
    [],
    'no handler failed',
  );
}

/** Cancels every open order of Alice and Bob (keeps the shards' order pools small). */
async function cancelAllOpen(): Promise<void> {
  for (const [token, account] of [
    [alice, ALICE],
    [bob, BOB],
  ] as const) {
    const open = await send('GET', '/api/v1/orders?status=open&limit=1000', { token }, account);
    for (const o of open.json.orders as { order_id: string }[]) {
      await send('DELETE', `/api/v1/orders/${o.order_id}`, { token }, account);
    }
  }
}

/** Every closed order cancelled by a user was cancelled by its owner (through this test's requests). */
async function checkNoForeignCancel(t: Test): Promise<void> {
  let foreign = 0;
  for (const [id, account] of OWNER) {
    if (CHECKED.has(id)) continue;
    const r = await send('GET', `/api/v1/orders/${id}`, { token: tokenOf(account) }, account);
    if (r.status !== 200 || !['Filled', 'Canceled', 'Expired'].includes(r.json.status)) continue;
    CHECKED.add(id);
    if (r.json.reason === 'USER_CANCEL' && !CANCELLED.has(id)) {
      foreign++;
      t.fail(`order ${id} of ${account} was cancelled, but not by its owner`);
    }
  }
  if (foreign === 0) t.pass('no order cancelled by anyone but its owner');
}

async function place(token: string, account: number, order: Record<string, unknown>): Promise<Res> {
  const r = await send('POST', '/api/v1/orders', { token, body: JSON.stringify(order) }, account);
  if (r.status === 201) OWNER.set(r.json.order_id, account);
  return r;
}

// ---------------------------------------------------------------------------------- generators

const decimal = (units: number, digits: number): string => {
  const s = String(units).padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
};

const DECIMAL_WORDS = [
  ...(
    '| |0|-0|0.0|00|-1|-0.01|1e3|1E-2|1.|.5|+1|0x10|NaN|Infinity|-Infinity|null|true|1,5|' +
    '1 000|1_000|١٢٣|５|1.5.5|0001|  2  |\t1\n|½|9007199254740991|9007199254740993|' +
    '900719925474.0991|90071992547409.91|0.00000000000000000001'
  ).split('|'),
  '1'.repeat(40),
  '1'.repeat(41),
  `1.${'0'.repeat(39)}`,
];

/** Strings that look more or less like decimals. */
const decimalText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...DECIMAL_WORDS),
  fc
    .tuple(
      fc.constantFrom('', '', '-', '+', ' '),
      fc.stringMatching(/^\d{1,25}$/),
      fc.option(fc.stringMatching(/^\d{0,20}$/)),
      fc.option(fc.stringMatching(/^[eE][+-]?\d{1,3}$/)),
    )
    .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp ?? ''}`),
  fc.double().map(String),
  fc.string({ maxLength: 24 }),
);

const ENUM_WORDS = (
  'Buy|Sell|buy|SELL|bid|ask|b|long|Limit|market|STOP|stop_limit|Stop-Limit|stopmarket|' +
  'Iceberg|GTC|ioc|FOK|gtd|good_till_cancel|DAY|ExpireTaker|expire_maker|cancel_both|' +
  'Decrement|None|BTC/USD|btc-usd|BTCUSD|eth_usd|SOL/USDT|1|2|3|4|0|00001|| |__proto__|' +
  'constructor|toString'
).split('|');

/** A JSON number as text that JSON.stringify would never write (or writes differently). */
const RAW_NUMBERS = (
  '1e400|-1e400|-0|1.0|100.00|9007199254740993|1E2|0.1e1|123456789012345678901234567890|' +
  '-9007199254740991|4294967296|1.5|1e-400'
).split('|');

/** Arrays or objects nested `n` deep (up to what fits a 16 KiB body). */
const nestingBomb: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 8000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 2700 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
);

/** Any value a field could hold, as JSON text. */
const rawValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: decimalText.map((s) => JSON.stringify(s)), weight: 4 },
  { arbitrary: fc.constantFrom(...ENUM_WORDS).map((s) => JSON.stringify(s)), weight: 3 },
  { arbitrary: fc.constantFrom(...RAW_NUMBERS), weight: 2 },
  {
    arbitrary: fc
      .oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
      .map((v) => JSON.stringify(v)),
    weight: 2,
  },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
  { arbitrary: fc.string({ minLength: 200, maxLength: 4000 }).map((s) => JSON.stringify(s)), weight: 1 },
  { arbitrary: nestingBomb, weight: 1 },
);

/** A valid order (in the price band, small), as [field, JSON text] pairs. */
const validOrder: fc.Arbitrary<[string, string][]> = fc
  .record({
    sym: fc.nat({ max: 2 }),
    side: fc.constantFrom('Buy', 'Sell'),
    type: fc.constantFrom('Limit', 'Limit', 'Limit', 'Market', 'Stop', 'StopLimit'),
    offsetBps: fc.integer({ min: -200, max: 200 }),
    stopBps: fc.integer({ min: 1, max: 200 }),
    lots: fc.integer({ min: 1, max: 1000 }),
    tif: fc.option(fc.constantFrom('GTC', 'IOC', 'FOK')),
    postOnly: fc.option(fc.boolean()),
    clientId: fc.option(fc.integer({ min: 1, max: 1_000_000 })),
  })
  .map((o) => {
    const s = SYMBOLS[o.sym];
    const px = (bps: number) => decimal(Math.round((s.refTicks * (10_000 + bps)) / 10_000), s.tickDigits);
    const out: [string, string][] = [
      ['symbol', JSON.stringify(s.name)],
      ['side', JSON.stringify(o.side)],
      ['order_type', JSON.stringify(o.type)],
      ['quantity', JSON.stringify(decimal(o.lots, s.lotDigits))],
    ];
    if (o.type === 'Limit' || o.type === 'StopLimit') out.push(['price', JSON.stringify(px(o.offsetBps))]);
    if (o.type === 'Stop' || o.type === 'StopLimit') {
      // A stop above the market for a buy, below for a sell: it waits for its trigger.
      out.push(['stop_price', JSON.stringify(px(o.side === 'Buy' ? o.stopBps : -o.stopBps))]);
    }
    if (o.tif !== null && o.type !== 'Market') out.push(['time_in_force', JSON.stringify(o.tif)]);
    if (o.postOnly !== null) out.push(['post_only', JSON.stringify(o.postOnly)]);
    if (o.clientId !== null) out.push(['client_order_id', String(o.clientId)]);
    return out;
  });

const ORDER_FIELDS = (
  'symbol|symbol_id|side|quantity|order_type|price|stop_price|time_in_force|expire_time|' +
  'expire_time_us|display_quantity|min_quantity|post_only|stp_mode|client_order_id'
).split('|');
const EXTRA_FIELDS = (
  '__proto__|constructor|prototype|toString|hasOwnProperty||SYMBOL|Side|account_id|' +
  'order_id|status|filled_quantity'
).split('|');

type Mutation =
  | { readonly drop: string }
  | { readonly set: string; readonly raw: string }
  | { readonly add: string; readonly raw: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...ORDER_FIELDS).map((drop) => ({ drop })),
  fc.record({ set: fc.constantFrom(...ORDER_FIELDS), raw: rawValue }),
  fc.record({ add: fc.oneof(fc.constantFrom(...EXTRA_FIELDS), fc.string({ maxLength: 12 })), raw: rawValue }),
);

/** A valid order with a few fields dropped, replaced or added (duplicate keys included), as JSON text. */
const orderText: fc.Arbitrary<string> = fc
  .tuple(validOrder, fc.array(mutation, { maxLength: 4 }))
  .map(([fields, mutations]) => {
    let pairs = fields;
    for (const m of mutations) {
      if ('drop' in m) pairs = pairs.filter(([k]) => k !== m.drop);
      else if ('set' in m) pairs = [...pairs.filter(([k]) => k !== m.set), [m.set, m.raw]];
      else pairs = [...pairs, [m.add, m.raw]];
    }
    return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  });

/** Anything a client could POST. */
const postBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { arbitrary: orderText, weight: 10 },
  { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 2 },
  { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }), weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
  { arbitrary: nestingBomb, weight: 1 },
  {
    arbitrary: fc
      .integer({ min: MAX_BODY - 64, max: MAX_BODY + 4096 })
      .map((n) => `{"symbol":"BTC/USD","pad":"${'x'.repeat(n)}"}`),
    weight: 1,
  },
);

const contentType = fc.option(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'application/json; charset=latin1',
    '*/*',
    'garbage',
  ),
  { nil: undefined },
);

/** Printable ASCII (what fetch accepts in a header value). */
const headerText = (maxLength: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${maxLength}}$`));

// ------------------------------------------------------------------------------------ set-up

/** Alice's and Bob's seed orders: resting on every symbol, and one trade between them. */
async function seedOrders(t: Test): Promise<void> {
  for (const [token, account, side, bps] of [
    [alice, ALICE, 'Buy', -100],
    [bob, BOB, 'Sell', 100],
  ] as const) {
    for (const s of SYMBOLS) {
      const price = decimal(Math.round((s.refTicks * (10_000 + bps)) / 10_000), s.tickDigits);
      const r = await place(token, account, {
        symbol: s.name,
        side,
        quantity: decimal(5, s.lotDigits),
        price,
      });
      t.equal(r.status, 201, `seed ${s.name} ${side}`);
    }
  }
  const maker = await place(alice, ALICE, {
    symbol: 'BTC/USD',
    side: 'Sell',
    quantity: '0.0002',
    price: '50000.00',
  });
  const taker = await place(bob, BOB, {
    symbol: 'BTC/USD',
    side: 'Buy',
    quantity: '0.0001',
    price: '50000.00',
  });
  t.equal(maker.status, 201);
  t.equal(taker.json.status, 'Filled', 'a trade between Alice and Bob');
}

t.before(async () => {
  ex = await startExchange({ jwtSecret: SECRET, shards: 2 });
  alice = await sign(String(ALICE));
  bob = await sign(String(BOB));
});
t.teardown(() => ex.stop());

t.test('seed', async (t) => {
  await seedOrders(t);
});

// ------------------------------------------------------------------------------------ properties

t.test('POST /api/v1/orders: any body gets 201 or a JSON 4xx', async (t) => {
  await property(
    t,
    'POST bodies',
    fc.record({
      path: fc.constantFrom('/api/v1/orders', '/api/v1/orders/orders'),
      body: postBody,
      type: contentType,
    }),
    runs(700),
    async ({ path, body, type }) => {
      const headers = type === undefined ? undefined : { 'content-type': type };
      const r = await send('POST', path, { token: alice, body, headers }, ALICE);
      if (r.status !== 201) {
        expect(r.status !== 401 && r.status !== 404, 'authenticated POST to a real route', r);
        const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
        if (size > MAX_BODY) expect(r.status === 413 && r.json.error.code === 'PAYLOAD_TOO_LARGE', '413', r);
        return;
      }
      const o = r.json;
      expect(typeof o.order_id === 'string' && /^[1-9]\d*$/.test(o.order_id), 'order_id', r);
      expect(o.account_id === ALICE, 'placed for the caller', r);
      expect(SYMBOL_NAMES.includes(o.symbol) && ORDER_STATUSES.includes(o.status), 'symbol, status', r);
      OWNER.set(o.order_id, ALICE);
      const back = await send('GET', `/api/v1/orders/${o.order_id}`, { token: alice }, ALICE);
      expect(back.status === 200 && back.json.order_id === o.order_id, 'an accepted order reads back', back);
      const theirs = await send('GET', `/api/v1/orders/${o.order_id}`, { token: bob }, BOB);
      expect(theirs.status === 404, 'another account does not see it', theirs);
    },
  );
});

t.test('raw POST: Content-Length and chunked bodies get the same answer', async (t) => {
  const head = (path: string, type: string | undefined) =>
    `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice}\r\n` +
    `${type === undefined ? '' : `content-type: ${type}\r\n`}connection: close\r\n`;
  const answer = async (request: Buffer): Promise<Res> => {
    const out = await rawExchange(ex.port, request, TIMEOUT_MS);
    const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(out);
    const what = `raw ${request.subarray(0, 60).toString()}`;
    expect(m !== null, `no HTTP answer within ${TIMEOUT_MS} ms (${JSON.stringify(out.slice(0, 100))})`);
    const headers = new Headers();
    for (const line of m[2].split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    let json: unknown;
    try {
      json = JSON.parse(m[3]);
    } catch {
      json = undefined;
    }
    const r: Res = { what, status: Number(m[1]), headers, text: m[3], json };
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    checkReply(r, headers.get('content-type') ?? '');
    checkIsolation(r, ALICE);
    return r;
  };
  const same = 'symbol|side|order_type|time_in_force|price|stop_price|quantity|post_only'.split('|');
  await property(
    t,
    'raw bodies',
    fc.record({
      path: fc.constantFrom('/api/v1/orders', '/api/v1/orders/orders'),
      body: postBody.filter((b) => b.length > 0),
      type: contentType,
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
    }),
    runs(200),
    async ({ path, body, type, cuts }) => {
      const bytes = Buffer.from(body);
      const whole = await answer(
        Buffer.concat([Buffer.from(`${head(path, type)}content-length: ${bytes.length}\r\n\r\n`), bytes]),
      );
      if (whole.status === 201) {
        // Its client_order_id (if any) is free again for the chunked copy.
        OWNER.set(whole.json.order_id, ALICE);
        await send('DELETE', `/api/v1/orders/${whole.json.order_id}`, { token: alice }, ALICE);
      }
      const points = [...new Set(cuts.map((c) => c % bytes.length).filter((c) => c > 0))].sort(
        (a, b) => a - b,
      );
      const parts: Buffer[] = [Buffer.from(`${head(path, type)}transfer-encoding: chunked\r\n\r\n`)];
      let from = 0;
      for (const to of [...points, bytes.length]) {
        parts.push(
          Buffer.from(`${(to - from).toString(16)}\r\n`),
          bytes.subarray(from, to),
          Buffer.from('\r\n'),
        );
        from = to;
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      const chunked = await answer(Buffer.concat(parts));
      expect(whole.status === chunked.status, `chunked ${chunked.status} vs whole ${whole.status}`, chunked);
      if (whole.status === 201) {
        OWNER.set(chunked.json.order_id, ALICE);
        for (const k of same) expect(whole.json[k] === chunked.json[k], `same ${k}`, chunked);
      } else {
        expect(whole.json.error.code === chunked.json.error.code, 'same error code', chunked);
        expect(whole.json.error.field === chunked.json.error.field, 'same error field', chunked);
      }
    },
  );
});

t.test('/api/v1/orders/{id}: any id, either account, any method', async (t) => {
  const ID_WORDS = [
    ...(
      '0|-1|00|01|1e3|1.0|+1|%201|9007199254740991|9007199254740992|99999999999999999999|' +
      '1099511627776|NaN|null|undefined|%00|%2F|%ZZ|%|..|.|~|__proto__|constructor'
    ).split('|'),
    'x'.repeat(300),
    '9'.repeat(300),
  ];
  const idRef = fc.oneof(
    { arbitrary: fc.record({ mine: fc.boolean(), pick: fc.nat() }), weight: 4 },
    fc.constantFrom(...ID_WORDS),
    fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
    fc.tuple(fc.nat({ max: 3 }), fc.integer({ min: 1, max: 400 })).map(([s, n]) => String(s * 2 ** 40 + n)),
    fc.string({ maxLength: 24 }).map(encodeURIComponent),
  );
  /** "METHOD suffix" */
  const routes = [
    ...ROUTES_WITH_ID,
    'POST ',
    'POST /cancel',
    'GET /cancel',
    'PUT ',
    'PATCH ',
    'DELETE /trades',
  ];
  await property(
    t,
    'order ids',
    fc.record({
      caller: fc.constantFrom(ALICE, BOB),
      id: idRef,
      route: fc.constantFrom(...routes),
      base: fc.constantFrom('/api/v1/orders', '/api/v1/orders/orders'),
    }),
    runs(700),
    async ({ caller, id, route, base }) => {
      let idText: string;
      if (typeof id === 'string') idText = id;
      else {
        const ids = [...OWNER].filter(([, a]) => (a === caller) === id.mine).map(([i]) => i);
        idText = ids.length === 0 ? '1' : ids[id.pick % ids.length];
      }
      const [method, suffix] = route.split(' ');
      const r = await send(method, `${base}/${idText}${suffix}`, { token: tokenOf(caller) }, caller);
      const owner = OWNER.get(idText);
      const real = ROUTES_WITH_ID.has(route);
      if (owner !== undefined && owner !== caller) {
        expect(r.status === 404, "another account's order is not found", r);
        if (real) {
          const unknown = {
            error: { code: 'ORDER_NOT_FOUND', message: `no order "${idText}"`, reason: 300 },
          };
          expect(r.text === JSON.stringify(unknown), 'exactly like an unknown id', r);
        }
      }
      if (owner === caller && real && method === 'GET' && held(idText)) {
        expect(r.status === 200 && r.json.order_id === idText, 'the owner reads it', r);
      }
    },
  );
});

t.test('GET /api/v1/orders: any query string', async (t) => {
  const NAMES = ['status', 'symbol', 'side', 'limit', 'cursor', 'before', 'page', 'Status', 'LIMIT', ''];
  const VALUES = (
    'open|closed|filled,canceled|new|cancelled|expired|pendingtrigger|partially_filled|' +
    'lost|open,,closed|,|OPEN|BTC/USD|BTC%2FUSD|btc-usd|XXX|buy|sell|Bid|up|1|2|100|1000|' +
    '1001|0|-1|1.5|1e3|99999999999999999|9007199254740991|abc|%ZZ|%|%00||+|__proto__|' +
    'constructor|toString'
  ).split('|');
  const value = fc.oneof(
    fc.constantFrom(...VALUES),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
    fc.nat().map(String),
    fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }).map(String),
  );
  const pairs = fc.array(
    fc.tuple(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 8 }).map(encodeURIComponent)), value),
    { maxLength: 5 },
  );
  await property(
    t,
    'list queries',
    fc.record({
      caller: fc.constantFrom(ALICE, BOB),
      base: fc.constantFrom('/api/v1/orders', '/api/v1/orders/orders'),
      pairs,
    }),
    runs(400),
    async ({ caller, base, pairs }) => {
      const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
      const r = await send('GET', `${base}?${query}`, { token: tokenOf(caller) }, caller);
      if (r.status !== 200) {
        expect(r.status === 400 && r.json.error.code === 'INVALID_QUERY', '400 INVALID_QUERY', r);
        expect(['status', 'symbol', 'side', 'limit', 'cursor'].includes(r.json.error.field), 'names it', r);
        return;
      }
      expect(Array.isArray(r.json.orders), 'orders', r);
      const next = r.json.next_cursor;
      expect(next === null || (typeof next === 'string' && /^\d+$/.test(next)), 'next_cursor', r);
      const limit = new URLSearchParams(query).get('limit');
      if (limit !== null && limit !== '') expect(r.json.orders.length <= Number(limit), 'at most limit', r);
      if (next !== null) {
        const q = new URLSearchParams(query);
        q.set('cursor', next);
        const page = await send('GET', `${base}?${q}`, { token: tokenOf(caller) }, caller);
        expect(page.status === 200, 'the next page', page);
        const first = new Set(r.json.orders.map((o: { order_id: string }) => o.order_id));
        expect(
          page.json.orders.every((o: { order_id: string }) => !first.has(o.order_id)),
          'pages do not overlap',
          page,
        );
      }
    },
  );
});

t.test('market data: any symbol, any parameters', async (t) => {
  const SYMBOL_REFS = [
    ...(
      'BTC-USD|btcusd|BTC%2FUSD|ETH_USD|sol-usd|1|2|3|0|4|99999|00001|-1|XXX|%ZZ|%|%00|' +
      '__proto__|constructor|toString'
    ).split('|'),
    'x'.repeat(300),
  ];
  const PARAM_VALUES = (
    '0|1|-1|10|1000|1001|100000|100001|99999999999|1e3|1.5|| |1m|5m|15m|1h|4h|1d|1s|1M|1w|' +
    '60|__proto__|constructor|toString|valueOf|hasOwnProperty|%ZZ'
  ).split('|');
  await property(
    t,
    'market data',
    fc.record({
      route: fc.constantFrom('book', 'trades', 'ticker', 'candles'),
      symbol: fc.oneof(
        {
          arbitrary: fc.constantFrom('BTC-USD', 'btcusd', 'BTC%2FUSD', 'ETH_USD', 'sol-usd', '1', '2', '3'),
          weight: 4,
        },
        fc.constantFrom(...SYMBOL_REFS),
        fc.string({ maxLength: 16 }).map(encodeURIComponent),
      ),
      pairs: fc.array(
        fc.tuple(
          fc.constantFrom('depth', 'limit', 'interval', 'symbol', 'x'),
          fc.oneof(fc.constantFrom(...PARAM_VALUES), fc.string({ maxLength: 10 }).map(encodeURIComponent)),
        ),
        { maxLength: 3 },
      ),
    }),
    runs(800),
    async ({ route, symbol, pairs }) => {
      const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
      const r = await send('GET', `/api/v1/${route}/${symbol}${query === '' ? '' : `?${query}`}`);
      if (r.status !== 200) {
        expect(['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', 'NOT_FOUND'].includes(r.json.error.code), 'code', r);
        return;
      }
      const d = r.json;
      expect(SYMBOL_NAMES.includes(d.symbol) && Number.isInteger(d.symbol_id), 'symbol', r);
      const q = new URLSearchParams(query);
      const isPrice = (p: unknown) => typeof p === 'string' && /^\d+(\.\d+)?$/.test(p);
      if (route === 'book') {
        for (const side of [d.bids, d.asks]) {
          expect(Array.isArray(side), 'levels', r);
          for (const l of side) expect(isPrice(l[0]) && isPrice(l[1]) && Number.isInteger(l[2]), 'level', r);
          const depth = Number(q.get('depth') ?? 0);
          if (depth > 0) expect(side.length <= depth, 'at most depth levels', r);
        }
        expect(Number.isInteger(d.seq) && Number.isInteger(d.checksum), 'seq, checksum', r);
      } else if (route === 'trades') {
        expect(Array.isArray(d.trades), 'trades', r);
        for (const x of d.trades) expect(isPrice(x.price) && isPrice(x.quantity), 'trade', r);
      } else if (route === 'candles') {
        expect(CANDLE_INTERVALS.includes(d.interval), `interval ${JSON.stringify(d.interval)}`, r);
        for (const c of d.candles) {
          expect(Number.isInteger(c.open_time_us) && isPrice(c.open) && isPrice(c.close), 'candle', r);
        }
      } else {
        expect(d.last_price === null || isPrice(d.last_price), 'ticker', r);
      }
    },
  );
});

/** How an Authorization header is built; `valid` when the API must accept it. */
interface AuthSpec {
  readonly header: string | undefined;
  readonly valid: boolean;
  readonly account: number;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256' };
function jwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret: Uint8Array): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const hash = HASHES[String(header.alg)] ?? 'sha256';
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** What can be wrong with a token or its header, one dimension each; none = a valid header. */
const FLAWS: readonly (readonly [string, unknown])[] = [
  ['scheme', 'Basic'],
  ['scheme', 'Token'],
  ['scheme', 'Bearer:'],
  ['scheme', ''],
  ['sep', ''],
  ['alg', 'HS384'],
  ['alg', 'HS512'],
  ['alg', 'RS256'],
  ['alg', 'none'],
  ['alg', 'hs256'],
  ['secret', 'wrong'],
  ['sub', '0'],
  ['sub', '-1'],
  ['sub', '4294967296'],
  ['sub', '1.5'],
  ['sub', ' 1'],
  ['sub', '01'],
  ['sub', '1e3'],
  ['sub', 101],
  ['sub', null],
  ['sub', 'abc'],
  ['sub', '9'.repeat(30)],
  ['sub', undefined],
  ['exp', 'past'],
  ['exp', 'string'],
  ['nbf', 'future'],
  ['tamper', 'sig'],
  ['tamper', 'payload'],
  ['tamper', 'alg-none'],
  ['tamper', 'drop-sig'],
  ['tamper', 'extra'],
];

/** A JWT-shaped header, valid except for 0..2 flaws. */
const jwtSpec: fc.Arbitrary<AuthSpec> = fc
  .record({
    scheme: fc.constantFrom('Bearer', 'bearer', 'BEARER'),
    sep: fc.constantFrom(' ', '  ', '\t', ' \t'),
    sub: fc.oneof(
      fc.constantFrom(String(ALICE), String(BOB)),
      fc.integer({ min: 1, max: 0xffff_ffff }).map(String),
    ) as fc.Arbitrary<unknown>,
    exp: fc.constantFrom('future', 'none'),
    nbf: fc.constantFrom('none', 'past'),
    flaws: fc.uniqueArray(fc.nat({ max: FLAWS.length - 1 }), { maxLength: 2 }),
  })
  .map((v) => {
    const s: Record<string, unknown> = { ...v, alg: 'HS256', secret: 'right', tamper: 'none' };
    for (const i of v.flaws) s[FLAWS[i][0]] = FLAWS[i][1];
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { name: 'fuzz' };
    if (s.sub !== undefined) payload.sub = s.sub;
    if (s.exp === 'future') payload.exp = now + 3600;
    if (s.exp === 'past') payload.exp = now - 60;
    if (s.exp === 'string') payload.exp = String(now + 3600);
    if (s.nbf === 'past') payload.nbf = now - 60;
    if (s.nbf === 'future') payload.nbf = now + 3600;
    const secret =
      s.secret === 'right' ? KEY : new TextEncoder().encode('another-secret-another-secret-another!');
    let token = jwt({ alg: s.alg, typ: 'JWT' }, payload, secret);
    const [h, p, sig] = token.split('.');
    // Note: the first character of a signature is all signature bits (the last one is partly padding).
    if (s.tamper === 'sig') token = `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    if (s.tamper === 'payload') {
      const other = payload.sub === String(BOB) ? String(ALICE) : String(BOB);
      token = `${h}.${b64(JSON.stringify({ ...payload, sub: other }))}.${sig}`;
    }
    if (s.tamper === 'alg-none') token = `${b64(JSON.stringify({ alg: 'none' }))}.${p}.`;
    if (s.tamper === 'drop-sig') token = `${h}.${p}`;
    if (s.tamper === 'extra') token = `${token}.${sig}`;
    const valid = v.flaws.length === 0;
    return { header: `${s.scheme}${s.sep}${token}`, valid, account: valid ? Number(s.sub) : 0 };
  });

const authSpec: fc.Arbitrary<AuthSpec> = fc.oneof(
  { arbitrary: jwtSpec, weight: 8 },
  { arbitrary: fc.constant({ header: undefined, valid: false, account: 0 }), weight: 1 },
  { arbitrary: headerText(80).map((h) => ({ header: h, valid: false, account: 0 })), weight: 1 },
  { arbitrary: headerText(80).map((h) => ({ header: `Bearer ${h}`, valid: false, account: 0 })), weight: 1 },
  {
    arbitrary: fc
      .integer({ min: 1000, max: 12_000 })
      .map((n) => ({ header: `Bearer ${'a.'.repeat(n)}`, valid: false, account: 0 })),
    weight: 1,
  },
);

t.test('Authorization: only a valid HS256 token of the right secret is accepted, as its sub', async (t) => {
  // No order has id 8999999999999999 (its shard bits name shard 8185).
  const none = '/api/v1/orders/8999999999999999';
  const routes = [
    ['GET', '/api/v1/orders', 200],
    ['POST', '/api/v1/orders', 400],
    ['GET', none, 404],
    ['GET', `${none}/trades`, 404],
    ['DELETE', none, 404],
    ['PUT', `${none}/cancel`, 404],
  ] as const;
  await property(
    t,
    'auth headers',
    fc.record({ auth: authSpec, route: fc.nat({ max: routes.length - 1 }) }),
    runs(500),
    async ({ auth, route }) => {
      const [method, path, status] = routes[route];
      const r = await send(
        method,
        path,
        { authorization: auth.header, body: method === 'POST' ? '{}' : undefined },
        auth.valid ? auth.account : undefined,
      );
      if (!auth.valid) {
        expect(r.status === 401, 'refused', r);
        return;
      }
      expect(r.status === status, `accepted as ${auth.account}`, r);
      if (method === 'GET' && status === 200) {
        for (const o of r.json.orders) expect(o.account_id === auth.account, 'own orders only', r);
      }
    },
  );
});

t.test('isolation: two accounts trading, reading and cancelling each other', async (t) => {
  const action = fc.record({
    actor: fc.constantFrom(ALICE, BOB),
    kind: fc.constantFrom('place', 'place', 'get', 'trades', 'cancel', 'delete', 'list'),
    pick: fc.nat(),
    sym: fc.nat({ max: 2 }),
    side: fc.constantFrom('Buy', 'Sell'),
    offset: fc.integer({ min: -2, max: 2 }),
    lots: fc.integer({ min: 1, max: 3 }),
    ioc: fc.boolean(),
    status: fc.constantFrom('', 'open', 'closed', 'filled', 'canceled'),
  });
  await property(
    t,
    'isolation',
    fc.array(action, { minLength: 1, maxLength: 20 }),
    runs(100),
    async (actions) => {
      for (const a of actions) {
        const token = tokenOf(a.actor);
        if (a.kind === 'place') {
          const s = SYMBOLS[a.sym];
          await place(token, a.actor, {
            symbol: s.name,
            side: a.side,
            quantity: decimal(a.lots, s.lotDigits),
            price: decimal(s.refTicks + a.offset, s.tickDigits),
            time_in_force: a.ioc ? 'IOC' : 'GTC',
          });
          continue;
        }
        if (a.kind === 'list') {
          const r = await send('GET', `/api/v1/orders?limit=1000&status=${a.status}`, { token }, a.actor);
          expect(r.status === 200, 'list', r);
          continue;
        }
        const ids = [...OWNER.keys()];
        const id = ids[a.pick % ids.length];
        const owner = OWNER.get(id);
        const [method, suffix] =
          a.kind === 'get'
            ? ['GET', '']
            : a.kind === 'trades'
              ? ['GET', '/trades']
              : a.kind === 'cancel'
                ? ['PUT', '/cancel']
                : ['DELETE', ''];
        const r = await send(method, `/api/v1/orders/${id}${suffix}`, { token }, a.actor);
        if (owner !== a.actor) {
          const unknown = { error: { code: 'ORDER_NOT_FOUND', message: `no order "${id}"`, reason: 300 } };
          expect(r.status === 404 && r.text === JSON.stringify(unknown), 'like an unknown id', r);
        } else if (!held(id)) {
          expect(r.status === 404, 'an evicted order is not found', r);
        } else if (method === 'GET') {
          expect(r.status === 200 && r.json.order_id === id, 'the owner reads it', r);
        } else {
          expect(r.status === 200 || r.json.error.code === 'ORDER_NOT_OPEN', 'cancelled or not open', r);
        }
      }
    },
  );
});

t.test('regression: a candle interval naming an Object.prototype member is a 400, not a 500', async (t) => {
  for (const interval of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const r = await send('GET', `/api/v1/candles/BTC-USD?interval=${interval}`);
    t.equal(r.status, 400, interval);
    t.equal(r.json.error.code, 'INVALID_PARAMETER', interval);
  }
});

t.test(
  'regression: a deeply nested value in an order field is a 400 naming the field, not a 500',
  async (t) => {
    // Note: JSON.parse takes any depth; JSON.stringify (the error message) overflowed the stack from
    // about 4 500 levels on Node 20's default stack. 7 000 levels still fit in a 16 KiB body.
    const deep = `${'['.repeat(7000)}${']'.repeat(7000)}`;
    const base = { symbol: '"BTC/USD"', side: '"Buy"', quantity: '"1"', price: '"50000.00"' };
    for (const field of [
      'symbol',
      'side',
      'quantity',
      'price',
      'post_only',
      'client_order_id',
      'expire_time',
    ]) {
      const pairs = { ...base, [field]: deep };
      const body = `{${Object.entries(pairs)
        .map(([k, v]) => `"${k}":${v}`)
        .join(',')}}`;
      const r = await send('POST', '/api/v1/orders', { token: alice, body }, ALICE);
      t.equal(r.status, 400, field);
      t.equal(r.json.error.field, field, field);
    }
    await stillServing(t);
  },
);

t.test(
  'account trades: documented 503 HISTORY_UNAVAILABLE without a database, 401 without a token',
  async (t) => {
    const r = await fetch(`${ex.url}/api/v1/account/trades`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    t.equal(r.status, 503);
    t.match(await r.json(), { error: { code: 'HISTORY_UNAVAILABLE' } });
    t.equal((await send('GET', '/api/v1/account/trades')).status, 401);
  },
);
