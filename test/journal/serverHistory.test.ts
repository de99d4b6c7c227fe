/**
 * The whole durable server as a user runs it: `server.ts` in its own process with a real PostgreSQL
 * (a fresh database on DATABASE_URL's server when given, as in CI; otherwise the server's own
 * embedded PostgreSQL under DATA_DIR), a WAL under DATA_DIR, and a restart:
 *  - trades and closed orders reach PostgreSQL and the REST history reads serve them;
 *  - after a graceful restart the open orders are back in the gateway's views (recovery seeding),
 *    closed orders the memory store no longer holds are served from PostgreSQL, and no fill was
 *    written twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openPg } from '../../journal/pg/PgClient.js';
import { call } from '../fixtures/gateway/http.js';
import { transpileServer } from '../fixtures/transpiledServer.js';

interface Booted {
  child: ChildProcess;
  lines: () => string[];
  exited: Promise<number | null>;
}

// Note: the server runs transpiled to plain JavaScript (no test loader in the child): the same code
// as `npm start`, and a restart does not recompile every module in every thread.
const SERVER = transpileServer();

function boot(env: Record<string, string>): Booted {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, LOG_LEVEL: 'info', JWT_SECRET: '', DB: '', ...env },
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

async function listening(s: Booted): Promise<{ base: string; bob: string }> {
  const until = Date.now() + 120_000;
  while (!s.lines().some((l) => l.includes('exchange listening'))) {
    if (Date.now() > until || s.child.exitCode !== null)
      throw new Error(`no start:\n${s.lines().join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100));
  const logs = s.lines().flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
  const port = logs.find((l) => l.msg === 'exchange listening').port as number;
  const bob = logs.find((l) => /demo account token/.test(l.msg) && l.account_id === 2).token as string;
  return { base: `http://127.0.0.1:${port}`, bob };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('PostgreSQL history and a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'exc-history-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, SHARDS: '1' };
  const external = process.env.DATABASE_URL;
  if (external !== undefined && external !== '') {
    // Note: a database of its own, so earlier runs' rows cannot meet this run's order ids.
    const name = `exc_history_${Math.random().toString(36).slice(2, 10)}`;
    const admin = openPg(external, { max: 1 });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    t.teardown(async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    });
    const url = new URL(external);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.href;
  } else {
    env.DATABASE_URL = '';
  }

  const order = { symbol: 'BTC/USD', quantity: '1.0', price: '50000.00', order_type: 'Limit' };
  const first = boot(env);
  t.teardown(() => {
    first.child.kill('SIGKILL');
  });
  let { base, bob } = await listening(first);
  const sell = await call(base, 'POST', '/api/v1/orders', { body: { ...order, side: 'Sell' } });
  t.equal(sell.status, 201, sell.text);
  const buy = await call(base, 'POST', '/api/v1/orders', {
    token: bob,
    body: { ...order, side: 'Buy', quantity: '0.4' },
  });
  t.equal(buy.json.status, 'Filled', buy.text);
  const cancelled = await call(base, 'POST', '/api/v1/orders', {
    body: { ...order, side: 'Buy', price: '49000.00' },
  });
  t.equal(cancelled.status, 201, cancelled.text);
  t.equal(
    (await call(base, 'PUT', `/api/v1/orders/${cancelled.json.order_id}/cancel`)).json.status,
    'Canceled',
  );
  const resting = await call(base, 'POST', '/api/v1/orders', {
    body: { ...order, side: 'Buy', price: '49500.00' },
  });
  t.equal(resting.json.status, 'New');

  // The journal follows: the fill and the closed order reach PostgreSQL.
  const trades = await until('the trade in PostgreSQL', async () => {
    const r = await call(base, 'GET', '/api/v1/account/trades', { token: bob });
    return r.status === 200 && r.json.trades.length === 1 ? r.json.trades : undefined;
  });
  t.match(trades[0], { symbol: 'BTC/USD', order_id: buy.json.order_id, quantity: '0.4', price: '50000.00' });
  const closed = await until('the closed orders in PostgreSQL', async () => {
    const r = await call(base, 'GET', '/api/v1/orders?status=closed');
    return r.status === 200 && r.json.orders.length === 1 ? r.json.orders : undefined;
  });
  t.equal(closed[0].order_id, cancelled.json.order_id, "alice's closed order, from PostgreSQL");
  const journal = await until('the journal caught up in health', async () => {
    const h = (await call(base, 'GET', '/api/v1/health')).json.components.journal;
    return h?.shards[0].lag_commands === 0 && h.shards[0].persisted_seq > 0 ? h : undefined;
  });
  t.match(journal, { status: 'ok', database: 'reachable' }, 'health: PostgreSQL reachable, no lag');
  t.match((await call(base, 'GET', '/metrics')).text, /exchange_journal_lag_commands\{shard="0"\} 0/);
  t.equal(closed[0].status, 'Canceled');

  first.child.kill('SIGTERM');
  const firstCode = await first.exited;
  t.equal(firstCode, 0, `graceful stop\n${first.lines().slice(-6).join('\n')}`);

  const second = boot(env);
  t.teardown(() => {
    second.child.kill('SIGKILL');
  });
  ({ base, bob } = await listening(second));
  const open = await call(base, 'GET', '/api/v1/orders?status=open');
  t.same(
    open.json.orders.map((o: { order_id: string }) => o.order_id).sort(),
    [sell.json.order_id, resting.json.order_id].sort(),
    'the open orders are back after the restart (recovered, then seeded into the gateway)',
  );
  const partly = await call(base, 'GET', `/api/v1/orders/${sell.json.order_id}`);
  t.match(partly.json, { status: 'PartiallyFilled', filled_quantity: '0.4' });
  const old = await call(base, 'GET', `/api/v1/orders/${cancelled.json.order_id}`);
  t.equal(old.status, 200, 'a closed order from before the restart: served from PostgreSQL');
  t.equal(old.json.status, 'Canceled');
  const bobsFill = await call(base, 'GET', `/api/v1/orders/${buy.json.order_id}/trades`, { token: bob });
  t.equal(bobsFill.json.trades.length, 1, "bob's filled order's trade, from PostgreSQL");
  t.equal(
    (await call(base, 'GET', `/api/v1/orders/${buy.json.order_id}`)).status,
    404,
    "alice cannot read bob's order from the history either",
  );
  t.equal(
    (await call(base, 'GET', '/api/v1/account/trades', { token: bob })).json.trades.length,
    1,
    'no duplicate',
  );
  t.equal(
    (await call(base, 'GET', '/api/v1/orders?status=closed&cursor=x')).status,
    400,
    'a malformed history cursor is a 400',
  );
  second.child.kill('SIGTERM');
  const code = await second.exited;
  t.equal(
    code,
    0,
    `graceful stop after the restart (exit code ${code})\n${second
      .lines()
      .slice(-6)
      .map((l) => l.slice(0, 400))
      .join('\n')}`,
  );
});
