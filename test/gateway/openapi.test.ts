/**
 * OpenAPI document vs the live routes, Swagger UI served offline, and the zero-config demo mode
 * (no JWT_SECRET) with its BUSY and SHARD_DOWN answers. Real uWS server, real pipeline.
 */
import t from 'tap';
import { call, rawExchange } from '../fixtures/gateway/http.js';
import { type Exchange, startExchange } from '../fixtures/gateway/startExchange.js';

let ex: Exchange;
t.before(async () => {
  ex = await startExchange({ jwtSecret: undefined, shards: 1, maxPendingRequests: 1 });
});
t.teardown(() => ex.stop());

const api = (method: string, path: string, o: Parameters<typeof call>[3] = {}) =>
  call(ex.url, method, path, o);
const ORDER = { symbol: 'BTC/USD', side: 'Buy', quantity: '0.01', price: '49000.00', order_type: 'Limit' };

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; responses?: object }>>;
  components: { schemas: Record<string, unknown> };
}

t.test('the OpenAPI document matches the live routes both ways', async (t) => {
  const res = await api('GET', '/api-docs/openapi.json');
  t.equal(res.status, 200);
  const doc = res.json as OpenApi;
  t.equal(doc.openapi, '3.0.3');
  const documented = new Set<string>();
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      documented.add(`${method.toUpperCase()} ${path}`);
      t.ok(op.responses, `${method} ${path} has responses`);
      t.notOk(operationIds.has(op.operationId!), `unique operationId ${op.operationId}`);
      operationIds.add(op.operationId!);
    }
  }
  const live = new Set(
    ex.gateway.router.routes
      .filter((r) => r.documented)
      .map((r) => `${r.method} ${r.pattern.replace(/:([A-Za-z]+)/g, '{$1}')}`),
  );
  t.same(
    [...live].filter((r) => !documented.has(r)),
    [],
    'every live route is documented',
  );
  t.same(
    [...documented].filter((r) => !live.has(r)),
    [],
    'every documented route is live',
  );
  for (const op of documented) {
    const [method, path] = op.split(' ');
    const r = await api(method, path.replace('{id}', '1'), { body: method === 'POST' ? ORDER : undefined });
    t.not(r.json?.error?.code, 'NOT_FOUND', `${op} is served (got ${r.status})`);
  }
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of new Set(refs)) t.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} resolves`);
  const unmatched = await api('GET', '/api/v1/nope');
  t.equal(unmatched.status, 404);
  t.match(unmatched.json, { error: { code: 'NOT_FOUND', message: 'no route for GET /api/v1/nope' } });
});

t.test('Swagger UI is served from swagger-ui-dist, configured for our document, offline', async (t) => {
  for (const path of ['/swagger-ui', '/swagger-ui/', '/swagger-ui/index.html']) {
    const page = await api('GET', path);
    t.equal(page.status, 200, path);
    t.match(page.headers.get('content-type'), /text\/html/);
  }
  const page = await api('GET', '/swagger-ui');
  t.notMatch(page.text, /https?:\/\//, 'no external URL in the page');
  const assets = [...page.text.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
  t.ok(assets.length >= 4);
  for (const asset of assets) {
    const r = await fetch(`${ex.url}${asset}`);
    t.equal(r.status, 200, asset);
    const body = await r.text();
    t.ok(body.length > 0, `${asset} has content`);
    if (asset.endsWith('.js')) t.match(r.headers.get('content-type'), /javascript/);
    if (asset.endsWith('.css')) t.match(r.headers.get('content-type'), /text\/css/);
  }
  const init = await api('GET', '/swagger-ui/swagger-initializer.js');
  t.match(init.text, /url: '\/api-docs\/openapi\.json'/);
  t.match(init.text, /validatorUrl: null/);
  const bundle = await fetch(`${ex.url}/swagger-ui/swagger-ui-bundle.js`);
  t.ok(Number(bundle.headers.get('content-length')) > 100_000, 'the real bundle');
  t.equal(bundle.headers.get('cache-control'), 'public, max-age=3600');
  await bundle.arrayBuffer();
  for (const bad of ['constructor', '__proto__', 'package.json', '..%2Fpackage.json']) {
    t.equal((await api('GET', `/swagger-ui/${bad}`)).status, 404, bad);
  }
  t.match(
    await rawExchange(ex.port, 'GET /swagger-ui/../../package.json HTTP/1.1\r\nhost: x\r\n\r\n', 500),
    /^HTTP\/1\.1 404/,
  );
});

t.test('demo mode: no token acts as demo account 1; demo tokens select their account', async (t) => {
  const anon = await api('POST', '/api/v1/orders', { body: ORDER });
  t.equal(anon.status, 201, anon.text);
  t.equal(anon.json.account_id, 1);
  t.ok(
    ex.logs().some((l) => /demo mode/.test(String(l.msg)) && l.level === 40),
    'warned',
  );
  const [alice, bob] = ex.gateway.auth.demoTokens;
  const mine = await api('GET', `/api/v1/orders/${anon.json.order_id}`, { token: alice.token });
  t.equal(mine.status, 200);
  const theirs = await api('GET', `/api/v1/orders/${anon.json.order_id}`, { token: bob.token });
  t.equal(theirs.status, 404);
  const bad = await api('GET', '/api/v1/orders', { token: 'x.y.z' });
  t.equal(bad.status, 401, 'a bad token is refused even in demo mode');
  t.match(await api('GET', '/api/v1/health'), { json: { components: { gateway: { auth: /demo/ } } } });
});

t.test('too many waiting requests: 503 BUSY with Retry-After', async (t) => {
  const results = await Promise.all(
    Array.from({ length: 30 }, () => api('POST', '/api/v1/orders', { body: ORDER })),
  );
  const busy = results.filter((r) => r.status === 503);
  t.ok(busy.length > 0, `some BUSY (${busy.length})`);
  t.ok(
    results.some((r) => r.status === 201),
    'some accepted',
  );
  t.equal(busy[0].json.error.code, 'BUSY');
  t.equal(busy[0].headers.get('retry-after'), '1');
  t.match((await api('GET', '/metrics')).text, /exchange_busy_rejects_total [1-9]/);
});

t.test('a stopped pipeline answers SHARD_DOWN and health says down', async (t) => {
  await ex.pipeline.stop();
  const r = await api('POST', '/api/v1/orders', { body: ORDER });
  t.equal(r.status, 503);
  t.equal(r.json.error.code, 'SHARD_DOWN');
  const open = (await api('GET', '/api/v1/orders?status=open')).json.orders;
  t.ok(open.length > 0);
  const c = await api('DELETE', `/api/v1/orders/${open[0].order_id}`);
  t.equal(c.status, 503);
  const h = await api('GET', '/api/v1/health');
  t.equal(h.status, 503);
  t.match(h.json, { status: 'down', components: { engine: { status: 'down', stopping: true } } });
  ex.gateway.detach();
  t.match((await api('GET', '/api/v1/health')).json, {
    components: { engine: { reason: 'pipeline stopped' } },
  });
  t.equal((await api('POST', '/api/v1/orders', { body: ORDER })).json.error.code, 'SHARD_DOWN');
});
