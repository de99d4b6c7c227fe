/**
 * The zero-config start as a user sees it: `server.ts` in its own process without JWT_SECRET prints
 * a token per demo account, and the README's curl flow works verbatim (no token needed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { call } from '../fixtures/gateway/http.js';

function boot(env: Record<string, string>): {
  child: ChildProcess;
  lines: () => string[];
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [...process.execArgv, 'server.ts'], {
    env: { ...process.env, LOG_LEVEL: 'info', DB: 'none', DATABASE_URL: '', JWT_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines: () => out.split('\n').filter(Boolean), exited };
}

t.test('zero-config start: demo tokens printed, curl flow without a token', async (t) => {
  const s = boot({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'exc-demo-')),
    SHARDS: '2',
  });
  t.teardown(() => {
    s.child.kill('SIGKILL');
  });
  const until = Date.now() + 30_000;
  while (!s.lines().some((l) => l.includes('exchange listening'))) {
    if (Date.now() > until || s.child.exitCode !== null)
      throw new Error(`no start:\n${s.lines().join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100));
  const logs = s.lines().map((l) => JSON.parse(l));
  const port = logs.find((l) => l.msg === 'exchange listening').port as number;
  const tokens = logs.filter((l) => /demo account token/.test(l.msg));
  t.same(
    tokens.map((l) => [l.account_id, l.name]),
    [
      [1, 'demo-alice'],
      [2, 'demo-bob'],
    ],
  );
  const base = `http://127.0.0.1:${port}`;
  const body = { symbol: 'BTC/USD', side: 'Buy', quantity: '1.0', price: '50000.00', order_type: 'Limit' };
  const placed = await call(base, 'POST', '/api/v1/orders', { body });
  t.equal(placed.status, 201, placed.text);
  const id = placed.json.order_id;
  t.equal((await call(base, 'GET', '/api/v1/orders')).json.orders[0].order_id, id);
  t.equal((await call(base, 'GET', `/api/v1/orders/${id}`)).json.status, 'New');
  t.same((await call(base, 'GET', `/api/v1/orders/${id}/trades`)).json.trades, []);
  const bob = tokens[1].token as string;
  t.equal(
    (await call(base, 'GET', `/api/v1/orders/${id}`, { token: bob })).status,
    404,
    "bob's token: not his order",
  );
  const sell = await call(base, 'POST', '/api/v1/orders', {
    token: bob,
    body: { ...body, side: 'Sell', quantity: '0.4' },
  });
  t.equal(sell.json.status, 'Filled');
  t.equal((await call(base, 'GET', `/api/v1/orders/${id}/trades`)).json.trades.length, 1);
  t.equal((await call(base, 'PUT', `/api/v1/orders/${id}/cancel`)).json.status, 'Canceled');
  t.match(s.lines().join('\n'), /demo mode \(JWT_SECRET unset\)/, 'the fallback is warned about');
  const health = await call(base, 'GET', '/api/v1/health');
  t.match(health.json, { status: 'ok', components: { engine: { shards: [{ id: 0 }, { id: 1 }] } } });
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0);
  t.ok(
    s.lines().some((l) => l.includes('engine pipeline stopped')),
    'pipeline drained on stop',
  );
});
