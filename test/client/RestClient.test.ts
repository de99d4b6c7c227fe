// RestClient and the CLI against a small node:http server in the test that records requests and
// answers like the REST API is expected to. Re-point at server.ts's /api/v1/orders once it lands.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import t from 'tap';
import { runCli } from '../../client/cli.js';
import { ClientUsageError, RequestTimeoutError, RestClient, RestError } from '../../client/index.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

async function startApi(): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = text === '' ? undefined : JSON.parse(text);
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
    });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== 'Bearer tok')
      return json(401, { error: { code: 'UNAUTHORIZED', message: 'bad token' } });
    if (req.method === 'POST' && req.url === '/api/v1/orders') {
      if (body.price === '1.001')
        return json(400, { error: { code: 'PRICE_NOT_MULTIPLE_OF_TICK', message: 'price 1.001' } });
      return json(201, { order_id: '7', status: 'New', ...body });
    }
    if (req.method === 'GET' && req.url?.startsWith('/api/v1/orders?')) {
      return json(200, { orders: [{ order_id: '7' }, { order_id: '8' }], next_cursor: '8' });
    }
    if (req.method === 'GET' && req.url === '/api/v1/orders') return json(200, [{ order_id: '9' }]);
    if (req.method === 'GET' && req.url === '/api/v1/orders/7')
      return json(200, { order_id: '7', status: 'New' });
    if (req.method === 'GET' && req.url === '/api/v1/orders/7/trades') {
      return json(200, { order_id: '7', trades: [] });
    }
    if (req.method === 'GET' && req.url === '/api/v1/symbols') {
      return json(200, { symbols: [{ symbol: 'BTC/USD' }] });
    }
    if (req.method === 'DELETE' && req.url === '/api/v1/orders/7') {
      return json(200, { order_id: '7', status: 'Canceled' });
    }
    if (req.url === '/api/v1/empty') {
      res.writeHead(204);
      return res.end();
    }
    if (req.url === '/api/v1/html') {
      res.writeHead(502, { 'content-type': 'text/html' });
      return res.end('<html>bad gateway</html>');
    }
    if (req.url === '/api/v1/broken') {
      res.writeHead(200);
      return res.end('{not json');
    }
    if (req.url === '/api/v1/slow') return setTimeout(() => json(200, {}), 500);
    return json(404, { error: { code: 'NOT_FOUND', message: `no route for ${req.url}` } });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

t.test('RestClient: requests, bodies, headers and errors', async (t) => {
  const api = await startApi();
  t.teardown(() => api.server.close());
  const rest = new RestClient({ url: `${api.url}/`, token: 'tok' });
  t.equal(rest.url, api.url, 'trailing slash dropped');

  const placed = await rest.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '50000.00', quantity: '1' });
  t.match(placed, { order_id: '7', status: 'New', price: '50000.00' });
  t.match(api.seen[0], {
    method: 'POST',
    url: '/api/v1/orders',
    authorization: 'Bearer tok',
    contentType: 'application/json',
    body: { symbol: 'BTC/USD', side: 'buy', price: '50000.00', quantity: '1' },
  });
  t.match(await rest.getOrder(7), { status: 'New' });
  t.match(await rest.cancelOrder('7'), { status: 'Canceled' });
  t.match(await rest.getTrades(7), { trades: [] });
  t.match(await rest.symbols(), { symbols: [{ symbol: 'BTC/USD' }] });
  t.match(await rest.listOrders({ symbol: 'BTC/USD', status: undefined, limit: 2 }), { orders: [{}, {}] });
  t.equal(
    api.seen[api.seen.length - 1].url,
    '/api/v1/orders?symbol=BTC%2FUSD&limit=2',
    'absent filters left out',
  );
  t.same(await rest.listOrders(), [{ order_id: '9' }]);
  t.equal(await rest.request('GET', '/api/v1/empty'), null, 'empty body');

  await t.rejects(rest.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '1.001', quantity: '1' }), {
    name: 'RestError',
    status: 400,
    errorCode: 'PRICE_NOT_MULTIPLE_OF_TICK',
    message: /HTTP 400 PRICE_NOT_MULTIPLE_OF_TICK: price 1.001/,
  });
  await t.rejects(rest.getOrder('nope'), { name: 'RestError', status: 404, errorCode: 'NOT_FOUND' });
  await t.rejects(rest.request('GET', '/api/v1/html'), {
    name: 'RestError',
    status: 502,
    errorCode: 'HTTP_502',
    body: /bad gateway/,
  });
  await t.rejects(rest.request('GET', '/api/v1/broken'), { name: 'RestError', errorCode: 'BAD_JSON' });
  await t.rejects(new RestClient({ url: api.url }).getOrder(7), {
    name: 'RestError',
    status: 401,
    errorCode: 'UNAUTHORIZED',
  });
  await t.rejects(
    new RestClient({ url: api.url, token: 'tok', timeoutMs: 50 }).request('GET', '/api/v1/slow'),
    RequestTimeoutError,
  );
  await t.rejects(new RestClient({ url: 'http://127.0.0.1:1' }).listOrders(), {
    name: 'RestError',
    status: 0,
    errorCode: 'NETWORK',
  });
  t.ok(new RestError(500, 'X', 'y', null) instanceof Error);
  t.throws(() => new RestClient({ url: 'ws://x' }), ClientUsageError);
  t.throws(() => new RestClient({ url: '::' }), ClientUsageError);
  t.throws(() => new RestClient({ timeoutMs: 0 }), ClientUsageError);
});

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, env, {
    out: (line) => {
      out += `${line}\n`;
    },
    err: (line) => {
      err += `${line}\n`;
    },
  });
  return { code, out, err };
}

/** The real entry point, in a process of its own (through tap's TypeScript loader). */
function spawnCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [...process.execArgv, 'client/cli.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

t.test('CLI: place, cancel, order, orders as JSON lines; errors', async (t) => {
  const api = await startApi();
  t.teardown(() => api.server.close());
  const env = { EXCHANGE_URL: api.url, EXCHANGE_TOKEN: 'tok' };
  const [place, cancel, order, orders, rejected, usage, unauth, trades, symbols] = await Promise.all([
    cli([
      'place',
      '--url',
      api.url,
      '--token',
      'tok',
      '--symbol',
      'BTC/USD',
      '--side',
      'buy',
      '--price',
      '50000',
      '--qty',
      '1',
      '--tif',
      'ioc',
      '--post-only',
      '--client-order-id',
      '42',
      '--type',
      'limit',
      '--stop-price',
      '1',
      '--display-qty',
      '0.5',
      '--stp',
      'decrement',
    ]),
    cli(['cancel', '--id', '7', '--url', api.url], { EXCHANGE_TOKEN: 'tok' }),
    cli(['order', '--id', '7'], { EXCHANGE_URL: api.url, EXCHANGE_TOKEN: 'tok' }),
    cli(['orders', '--symbol', 'BTC/USD', '--limit', '2'], env),
    cli(['place', '--symbol', 'X', '--side', 'buy', '--price', '1.001', '--qty', '1'], {
      EXCHANGE_URL: api.url,
      EXCHANGE_TOKEN: 'tok',
    }),
    cli(['place', '--symbol', 'X', '--side', 'up', '--qty', '1']),
    cli(['order', '--id', '7', '--url', api.url]),
    cli(['trades', '--id', '7'], env),
    cli(['symbols'], env),
  ]);
  t.equal(place.code, 0, place.err);
  t.match(JSON.parse(place.out), { order_id: '7', symbol: 'BTC/USD', price: '50000', quantity: '1' });
  t.same(api.seen.find((s) => s.method === 'POST')?.body, {
    symbol: 'BTC/USD',
    side: 'buy',
    price: '50000',
    quantity: '1',
    time_in_force: 'ioc',
    post_only: true,
    client_order_id: '42',
    order_type: 'limit',
    stop_price: '1',
    display_quantity: '0.5',
    stp_mode: 'decrement',
  });
  t.equal(cancel.code, 0);
  t.match(JSON.parse(cancel.out), { status: 'Canceled' });
  t.match(JSON.parse(order.out), { order_id: '7' });
  t.same(
    orders.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [{ order_id: '7' }, { order_id: '8' }],
    'one JSON line per order',
  );
  t.same(JSON.parse(orders.err), { next_cursor: '8' }, 'the next cursor on stderr');
  t.match(JSON.parse(trades.out), { trades: [] });
  t.match(JSON.parse(symbols.out), { symbols: [{ symbol: 'BTC/USD' }] });
  t.equal(rejected.code, 1);
  t.same(JSON.parse(rejected.err), {
    error: { code: 'PRICE_NOT_MULTIPLE_OF_TICK', message: 'price 1.001', status: 400 },
  });
  t.equal(usage.code, 2);
  t.match(usage.err, /--side must be buy or sell/);
  t.equal(unauth.code, 1);
  t.match(JSON.parse(unauth.err), { error: { code: 'UNAUTHORIZED', status: 401 } });

  const [help, none, unknownCmd, unknownFlag, missing] = await Promise.all([
    cli(['--help']),
    cli([]),
    cli(['sell']),
    cli(['orders', '--bogus']),
    cli(['cancel']),
  ]);
  t.equal(help.code, 0);
  t.match(help.out, /usage: client <command>/);
  t.equal(none.code, 2);
  t.match(unknownCmd.err, /unknown command .*sell/);
  t.equal(unknownFlag.code, 2);
  t.match(missing.err, /--id is required/);

  const spawned = await spawnCli(['orders'], { EXCHANGE_URL: api.url, EXCHANGE_TOKEN: 'tok' });
  t.equal(spawned.code, 0, 'the module runs as a process entry');
  t.same(JSON.parse(spawned.out), { order_id: '9' });
});
