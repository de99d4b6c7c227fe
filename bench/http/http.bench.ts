/**
 * HTTP bench: the exchange's REST API against a bare uWebSockets.js handler, same machine, same run.
 *
 *   npm run bench:http                  # human table
 *   npm run bench:http -- --json        # one JSON object
 *   flags: --duration=4 --warmup=1 --rounds=2 --connections=32 --shards=1
 *
 * Processes: the exchange (`dist/server.js`, PORT=0, DB=none, demo mode) and the bare peer
 * (bareServer.js) each run in their own process; this process is the load generator (autocannon).
 * Scenarios, each warmed up then measured:
 *   - GET /api/v1/health on both;
 *   - POST /api/v1/orders: on the exchange, alternating a buy (demo account 1) and a sell (demo
 *     account 2) of 0.01 BTC at 50000.00, so orders really match, trade and close (steady state: the
 *     book and the order store stay small); on the peer, the same bodies parsed and answered with a
 *     similar order JSON.
 * Rounds alternate which target goes first (the shared machine drifts); each figure is the median
 * over rounds. Reported: req/s, latency p50/p99 (autocannon's HDR histogram, ms), and the ratios
 * exchange / bare (target: POST >= 50%). Asserted: no errors or non-2xx answers, and the exchange's /metrics show
 * the trades and accepted orders the POSTs should have produced.
 * Thread-safety: main thread of its own process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { assertResult, median, numberFlag, parseArgs, report } from '../lib/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  readonly lines: string[];
}

/** Spawns `node <entry>` and waits until `ready(line)` returns a port. */
function startServer(
  entry: string,
  env: Record<string, string>,
  ready: (line: string) => number,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${lines.join('\n')}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        const port = ready(line);
        if (port > 0) {
          clearTimeout(timer);
          resolve({ child, port, lines });
        }
        nl = buffered.indexOf('\n');
      }
    });
    child.stderr?.on('data', (d: Buffer) => lines.push(d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${lines.join('\n')}`));
    });
  });
}

function jsonLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function load(url: string, connections: number, seconds: number, requests: AutocannonRequest[]) {
  return autocannon({ url, connections, duration: seconds, pipelining: 1, timeout: 10, requests });
}

interface Row {
  readonly scenario: string;
  readonly target: string;
  readonly results: AutocannonResult[];
}

async function main(): Promise<void> {
  const args = parseArgs();
  const duration = numberFlag(args, 'duration', 4);
  const warmup = numberFlag(args, 'warmup', 1);
  const rounds = numberFlag(args, 'rounds', 2);
  const connections = numberFlag(args, 'connections', 32);
  const shards = numberFlag(args, 'shards', 1);

  const exchange = await startServer(
    join(root, 'server.js'),
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DB: 'none',
      DATABASE_URL: '',
      JWT_SECRET: '',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      SHARDS: String(shards),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'exc-bench-http-')),
    },
    (line) => {
      const l = jsonLine(line);
      return l?.msg === 'exchange listening' ? Number(l.port) : 0;
    },
  );
  const bare = await startServer(join(here, 'bareServer.js'), {}, (line) =>
    Number(jsonLine(line)?.port ?? 0),
  );
  try {
    // Note: the demo tokens are logged right after "exchange listening"; give the logger a moment.
    await new Promise((r) => setTimeout(r, 200));
    const tokens = exchange.lines
      .map(jsonLine)
      .filter((l) => l !== undefined && /demo account token/.test(String(l.msg)))
      .map((l) => String(l?.token));
    assertResult(tokens.length === 2, 'the exchange printed two demo tokens');

    const order = (side: string) =>
      JSON.stringify({ symbol: 'BTC/USD', side, quantity: '0.01', price: '50000.00', order_type: 'Limit' });
    const post = (token: string | undefined, side: string): AutocannonRequest => ({
      method: 'POST',
      path: '/api/v1/orders',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: order(side),
    });
    const health: AutocannonRequest[] = [{ method: 'GET', path: '/api/v1/health' }];
    const scenarios: [string, AutocannonRequest[], AutocannonRequest[]][] = [
      ['GET /api/v1/health', health, health],
      [
        'POST /api/v1/orders',
        [post(tokens[0], 'Buy'), post(tokens[1], 'Sell')],
        [post(undefined, 'Buy'), post(undefined, 'Sell')],
      ],
    ];
    const rows: Row[] = [];
    for (const [scenario, onExchange, onBare] of scenarios) {
      const targets = [
        {
          target: 'exchange',
          port: exchange.port,
          requests: onExchange,
          row: { scenario, target: 'exchange', results: [] },
        },
        {
          target: 'bare uWS',
          port: bare.port,
          requests: onBare,
          row: { scenario, target: 'bare uWS', results: [] },
        },
      ] as { target: string; port: number; requests: AutocannonRequest[]; row: Row }[];
      for (let round = 0; round < rounds; round++) {
        for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
          const url = `http://127.0.0.1:${t.port}`;
          await load(url, connections, warmup, t.requests);
          const result = await load(url, connections, duration, t.requests);
          assertResult(
            result.errors === 0 && result.timeouts === 0,
            `${scenario} on ${t.target}: ${result.errors} errors`,
          );
          assertResult(result.non2xx === 0, `${scenario} on ${t.target}: ${result.non2xx} non-2xx answers`);
          t.row.results.push(result);
        }
      }
      for (const t of targets) rows.push(t.row);
    }

    const metrics = await (await fetch(`http://127.0.0.1:${exchange.port}/metrics`)).text();
    const metric = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? 0);
    const accepted = metric(/^exchange_orders_total\{result="accepted"\} (\d+)/m);
    const trades = metric(/^exchange_trades_total (\d+)/m);
    const posted = rows
      .filter((r) => r.target === 'exchange' && r.scenario.startsWith('POST'))
      .reduce((n, r) => n + r.results.reduce((m, x) => m + x['2xx'], 0), 0);
    assertResult(accepted >= posted, `exchange accepted ${accepted} orders for ${posted} measured 201s`);
    assertResult(trades >= posted / 4, `exchange traded (${trades} trades for ${posted} orders)`);

    const reqPerS = (r: Row) => Math.round(median(r.results.map((x) => x.requests.average)));
    const find = (scenario: string, target: string) =>
      rows.find((r) => r.scenario === scenario && r.target === target)!;
    const ratio = (scenario: string) =>
      Math.round((reqPerS(find(scenario, 'exchange')) / reqPerS(find(scenario, 'bare uWS'))) * 1000) / 10;
    const summary = {
      duration_s: duration,
      rounds,
      connections,
      shards,
      results: rows.map((r) => ({
        scenario: r.scenario,
        target: r.target,
        req_per_s: reqPerS(r),
        req_per_s_rounds: r.results.map((x) => Math.round(x.requests.average)),
        p50_ms: median(r.results.map((x) => x.latency.p50)),
        p99_ms: median(r.results.map((x) => x.latency.p99)),
        requests: r.results.reduce((n, x) => n + x.requests.total, 0),
      })),
      ratio_post_pct: ratio('POST /api/v1/orders'),
      ratio_health_pct: ratio('GET /api/v1/health'),
      target_post_pct: 50,
      exchange_trades: trades,
    };
    report(args, 'HTTP: exchange REST vs bare uWebSockets.js', summary, [
      ...summary.results.map((r) => ({
        scenario: r.scenario,
        target: r.target,
        'req/s': r.req_per_s,
        'p50 ms': r.p50_ms,
        'p99 ms': r.p99_ms,
      })),
      {
        scenario: 'ratio POST exchange/bare',
        target: '',
        'req/s': `${summary.ratio_post_pct}%`,
        'p50 ms': '',
        'p99 ms': '',
      },
      {
        scenario: 'ratio health exchange/bare',
        target: '',
        'req/s': `${summary.ratio_health_pct}%`,
        'p50 ms': '',
        'p99 ms': '',
      },
    ]);
  } finally {
    bare.child.kill('SIGTERM');
    exchange.child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
