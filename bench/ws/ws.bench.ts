/**
 * WebSocket load bench: binary order entry over loopback, the exchange against a bare uWS echo peer
 * of the same frames, measured in the same run.
 *
 *   npm run bench:ws                        # human table
 *   npm run bench:ws -- --json              # exactly one JSON object on stdout
 *   flags: --url=ws://host:port/api/v1/ws (default: spawn dist/server.js, PORT=0, no database)
 *          --token=JWT (default $EXCHANGE_TOKEN: every connection logs on with it)
 *          --secret=S (default $EXCHANGE_JWT_SECRET: the --url exchange's JWT_SECRET; the bench then
 *          signs one token per connection, accounts 101, 102, ...; the spawned exchange gets a random
 *          secret and the same treatment)
 *          --connections=4 --warmup=1 --duration=3 (s) --rates=10000,50000,100000 --rate-duration=3
 *          --window=1024 (requests in flight per connection) --batch=32 --batch-window=64 (frames)
 *          --commands=65536 (pre-encoded requests per connection) --max-live=1000
 *          --ws-client=false (skip the npm `ws` comparison) --exchange=false (echo only)
 *          --batch-reports=true (exchange connections ask for batched reports: `?batch_reports=1`,
 *          each message of length-prefixed frames; docs/protocol.md)
 *
 * Processes: the load generator is this process (RawWebSocket, pre-encoded and pre-masked frames,
 * OrderFlow + LoadConnection); every server under test runs in a child process (peers.ts).
 * Request mix (exchange-core): NewOrder GTC 9%, IOC 3%, Cancel 6%, Amend 82%; the echo peer gets the
 * same frames. Scenarios, for each peer:
 *   1. max throughput, 1 request per frame: `window` requests in flight per connection, refilled as
 *      answers arrive; answers/s over `duration` after `warmup`
 *   2. max throughput, Batch frames of `batch` requests (`batch-window` frames in flight)
 *   3. latency at fixed offered rates, 1 request per frame: request i of a connection is DUE at
 *      t0 + i / rate and is sent at that time; latency = arrival of its answer - due time (HDR, ns), so
 *      a stall delays no measurement (no coordinated omission); the first 0.5 s is warm-up
 * plus, for reference, the echo peer driven by the npm `ws` client (1 request per frame).
 * Every answer is matched to its request (LoadConnection) and the run is checked (no mismatches, every
 * request answered) before anything is printed. Targets (Gateway issue): exchange 1-per-frame
 * throughput >= 40% of echo; 32-request batches >= 3M requests/s; at 50k/s p50 <= 30 us, p99 <= 200 us.
 * The exchange part is skipped, with the reason, when the exchange does not serve /api/v1/ws yet.
 * Thread-safety: main thread of its own process.
 */
import { createRequire } from 'node:module';
import { SignJWT } from 'jose';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import { decimalToUnits } from '../../gateway/symbols/decimal.js';
import { DEMO_SYMBOLS } from '../../gateway/symbols/SymbolTable.js';
import {
  assertResult,
  type BenchArgs,
  type LatencySummary,
  latencyHistogram,
  numberFlag,
  parseArgs,
  report,
  summarize,
} from '../lib/harness.js';
import { LoadConnection, nowNs, PeerKind, type PeerKindValue } from './LoadConnection.js';
import { OrderFlow } from './OrderFlow.js';
import { type Peer, probeOrderEntry, startEchoPeer, startExchange } from './peers.js';

interface Config {
  connections: number;
  warmupS: number;
  durationS: number;
  rates: number[];
  rateDurationS: number;
  rateWarmupS: number;
  window: number;
  batch: number;
  batchWindow: number;
  commands: number;
  maxLive: number;
  wsClient: boolean;
  exchange: boolean;
  url: string | undefined;
  token: string | undefined;
  secret: string | undefined;
}

interface Throughput {
  connections: number;
  requests_per_frame: number;
  frames_per_s: number;
  orders_per_s: number;
  seconds: number;
  rejected: number;
  other_reports: number;
  ok: boolean;
}

interface RateRun {
  offered_per_s: number;
  achieved_per_s: number;
  latency: LatencySummary;
  rejected: number;
  ok: boolean;
}

interface Suite {
  url: string;
  single: Throughput;
  batch: Throughput;
  rates: RateRun[];
}

interface Mix {
  gtc: number;
  ioc: number;
  cancel: number;
  amend: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

function config(args: BenchArgs): Config {
  const rates = (args.flags.get('rates') ?? '10000,50000,100000').split(',').map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--rates must be positive numbers, got ${s}`);
    return n;
  });
  return {
    connections: numberFlag(args, 'connections', 4),
    warmupS: numberFlag(args, 'warmup', 1),
    durationS: numberFlag(args, 'duration', 3),
    rates,
    rateDurationS: numberFlag(args, 'rate-duration', 3),
    rateWarmupS: 0.5,
    window: numberFlag(args, 'window', 1024),
    batch: numberFlag(args, 'batch', 32),
    batchWindow: numberFlag(args, 'batch-window', 64),
    commands: numberFlag(args, 'commands', 65_536),
    maxLive: numberFlag(args, 'max-live', 1000),
    wsClient: args.flags.get('ws-client') !== 'false',
    exchange: args.flags.get('exchange') !== 'false',
    url: args.flags.get('url'),
    token: args.flags.get('token') ?? process.env.EXCHANGE_TOKEN,
    secret: args.flags.get('secret') ?? process.env.EXCHANGE_JWT_SECRET,
  };
}

/** One flow per connection; `set` separates the client order id ranges of the flows. */
function flows(cfg: Config, set: number, batch: number, symbolIds: readonly number[]): OrderFlow[] {
  return Array.from({ length: cfg.connections }, (_, c) => {
    const symbolId = symbolIds[c % symbolIds.length];
    const sym = DEMO_SYMBOLS.find((s) => s.id === symbolId);
    const refPrice =
      sym?.referencePrice !== undefined ? decimalToUnits(sym.referencePrice, sym.tickSize) : 5_000_000;
    return new OrderFlow({
      cidBase: (1 + c + 64 * set) * 2 ** 40 + 1,
      symbolId,
      refPrice,
      commands: cfg.commands,
      batch,
      maxLive: cfg.maxLive,
      seed: 1 + c + 100 * set,
    });
  });
}

async function open(
  url: string,
  peer: PeerKindValue,
  tokens: readonly string[],
  fs: readonly OrderFlow[],
  capacity: number,
): Promise<{ conns: LoadConnection[]; lost: () => number }> {
  const conns: LoadConnection[] = [];
  let lost = 0;
  for (let c = 0; c < fs.length; c++) {
    const flow = fs[c];
    const batched = peer === PeerKind.EXCHANGE && BATCH_REPORTS;
    const ws = await RawWebSocket.connect(batched ? `${url}?batch_reports=1` : url);
    if (peer === PeerKind.EXCHANGE)
      await LoadConnection.logon(ws, tokens[c % tokens.length], 10_000, batched);
    ws.onClose = () => {
      lost++;
    };
    conns.push(new LoadConnection(ws, flow, peer, capacity, batched));
  }
  return { conns, lost: () => lost };
}

/** Stops sending and waits until every request is answered (or `ms` passed). */
async function drain(conns: readonly LoadConnection[], ms: number): Promise<boolean> {
  for (const c of conns) c.sending = false;
  const end = Date.now() + ms;
  while (conns.some((c) => c.inFlight > 0)) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

function close(conns: readonly LoadConnection[]): void {
  for (const c of conns) {
    c.ws.onClose = () => {};
    c.ws.terminate();
  }
}

function sum(conns: readonly LoadConnection[], f: (c: LoadConnection) => number): number {
  return conns.reduce((n, c) => n + f(c), 0);
}

/** Checks a run; for the echo peer a failure is a bench bug (throws), for the exchange a finding. */
function check(
  name: string,
  peer: PeerKindValue,
  conns: readonly LoadConnection[],
  drained: boolean,
  lost: number,
) {
  const mismatches = sum(conns, (c) => c.mismatches);
  const invalid = sum(conns, (c) => c.invalidFrames);
  const ok = drained && mismatches === 0 && invalid === 0 && lost === 0;
  const what =
    `${name}: drained=${drained} mismatches=${mismatches} invalid frames=${invalid} ` +
    `connections lost=${lost} unanswered=${sum(conns, (c) => c.inFlight)}`;
  if (peer === PeerKind.ECHO) {
    assertResult(ok, what);
    assertResult(
      sum(conns, (c) => c.sentItems) === sum(conns, (c) => c.receivedItems),
      `${name}: echo answers != requests`,
    );
  } else if (!ok) process.stderr.write(`warning: ${what}\n`);
  return ok;
}

async function throughput(
  name: string,
  url: string,
  peer: PeerKindValue,
  tokens: readonly string[],
  fs: readonly OrderFlow[],
  perFrame: number,
  windowItems: number,
  cfg: Config,
): Promise<Throughput> {
  const { conns, lost } = await open(url, peer, tokens, fs, windowItems + perFrame);
  for (const c of conns) {
    c.windowItems = windowItems;
    c.fill();
  }
  await sleep(cfg.warmupS * 1000);
  const r0 = sum(conns, (c) => c.receivedItems);
  const t0 = nowNs();
  await sleep(cfg.durationS * 1000);
  const r1 = sum(conns, (c) => c.receivedItems);
  const t1 = nowNs();
  const drained = await drain(conns, 15_000);
  const ok = check(name, peer, conns, drained, lost());
  close(conns);
  const seconds = (t1 - t0) / 1e9;
  const orders = (r1 - r0) / seconds;
  return {
    connections: conns.length,
    requests_per_frame: perFrame,
    frames_per_s: Math.round(orders / perFrame),
    orders_per_s: Math.round(orders),
    seconds: round(seconds, 3),
    rejected: sum(conns, (c) => c.rejected),
    other_reports: sum(conns, (c) => c.otherReports),
    ok,
  };
}

async function paced(
  name: string,
  url: string,
  peer: PeerKindValue,
  tokens: readonly string[],
  fs: readonly OrderFlow[],
  rate: number,
  cfg: Config,
): Promise<RateRun> {
  const n = fs.length;
  const perConnection = Math.ceil((rate / n) * (cfg.rateWarmupS + cfg.rateDurationS));
  const { conns, lost } = await open(url, peer, tokens, fs, perConnection + 1);
  const h = latencyHistogram();
  const interval = (1e9 * n) / rate;
  const t0 = nowNs() + 2e6;
  const recordFrom = t0 + cfg.rateWarmupS * 1e9;
  const next = new Float64Array(n);
  const sent = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    conns[c].histogram = h;
    conns[c].recordFromNs = recordFrom;
    next[c] = t0 + (c * 1e9) / rate;
  }
  // Note: a busy setImmediate loop: the poll phase does not block while immediates are pending, so
  // answers are read between sends and each request leaves at (or just after) its due time.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowNs();
      let done = true;
      for (let c = 0; c < n; c++) {
        const conn = conns[c];
        while (sent[c] < perConnection && next[c] <= now) {
          conn.sendNext(next[c]);
          sent[c]++;
          next[c] = t0 + (c * 1e9) / rate + sent[c] * interval;
        }
        if (sent[c] < perConnection) done = false;
      }
      if (done) resolve();
      else setImmediate(tick);
    };
    setImmediate(tick);
  });
  const drained = await drain(conns, 15_000);
  const ok = check(`${name} @${rate}/s`, peer, conns, drained, lost());
  close(conns);
  return {
    offered_per_s: rate,
    achieved_per_s: Math.round(h.totalCount / cfg.rateDurationS),
    latency: summarize(h),
    rejected: sum(conns, (c) => c.rejected),
    ok,
  };
}

async function suite(
  name: string,
  url: string,
  peer: PeerKindValue,
  tokens: readonly string[],
  symbolIds: readonly number[],
  cfg: Config,
): Promise<{ suite: Suite; mix: Mix }> {
  const single = flows(cfg, 0, 1, symbolIds);
  const batched = flows(cfg, 1, cfg.batch, symbolIds);
  const s1 = await throughput(`${name} 1/frame`, url, peer, tokens, single, 1, cfg.window, cfg);
  const s2 = await throughput(
    `${name} ${cfg.batch}/frame`,
    url,
    peer,
    tokens,
    batched,
    cfg.batch,
    cfg.batchWindow * cfg.batch,
    cfg,
  );
  const rates: RateRun[] = [];
  for (const r of cfg.rates) rates.push(await paced(name, url, peer, tokens, single, r, cfg));
  const mix = { gtc: 0, ioc: 0, cancel: 0, amend: 0 };
  for (const f of single) {
    mix.gtc += f.counts.gtc;
    mix.ioc += f.counts.ioc;
    mix.cancel += f.counts.cancel;
    mix.amend += f.counts.amend;
  }
  return { suite: { url, single: s1, batch: s2, rates }, mix };
}

interface WsSocket {
  binaryType: string;
  on(event: 'open' | 'message' | 'error' | 'close', cb: (...args: unknown[]) => void): void;
  send(data: Uint8Array): void;
  terminate(): void;
}

/** The echo peer driven by the npm `ws` client (frames unmasked from the same flows): a reference. */
async function wsPackageEcho(url: string, fs: readonly OrderFlow[], cfg: Config): Promise<Throughput> {
  const require = createRequire(import.meta.url);
  const WebSocketCtor = require('ws') as new (url: string) => WsSocket;
  let received = 0;
  let sentTotal = 0;
  let stop = false;
  const sockets: WsSocket[] = [];
  for (const flow of fs) {
    const payloads: Buffer[] = [];
    for (let f = 0; f < Math.min(4096, flow.frameCount); f++) {
      const s = flow.frameStart[f];
      const m = flow.maskPos[f];
      const p = Buffer.from(flow.wire.subarray(m + 4, flow.frameStart[f + 1]));
      for (let i = 0; i < p.length; i++) p[i] ^= flow.wire[m + (i & 3)];
      assertResult(m > s, 'ws client: payload extraction');
      payloads.push(p);
    }
    const ws = new WebSocketCtor(url);
    ws.binaryType = 'nodebuffer';
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', (e) => reject(e as Error));
    });
    let inFlight = 0;
    let next = 0;
    const fill = () => {
      while (!stop && inFlight < cfg.window) {
        ws.send(payloads[next]);
        next = (next + 1) % payloads.length;
        inFlight++;
        sentTotal++;
      }
    };
    ws.on('message', () => {
      received++;
      inFlight--;
      if (inFlight <= cfg.window >> 1) fill();
    });
    sockets.push(ws);
    fill();
  }
  await sleep(cfg.warmupS * 1000);
  const r0 = received;
  const t0 = nowNs();
  await sleep(cfg.durationS * 1000);
  const r1 = received;
  const t1 = nowNs();
  stop = true;
  const end = Date.now() + 15_000;
  while (received < sentTotal && Date.now() < end) await sleep(5);
  assertResult(received === sentTotal, `ws client: ${sentTotal - received} echoes missing`);
  for (const s of sockets) s.terminate();
  const seconds = (t1 - t0) / 1e9;
  const perS = Math.round((r1 - r0) / seconds);
  return {
    connections: fs.length,
    requests_per_frame: 1,
    frames_per_s: perS,
    orders_per_s: perS,
    seconds: round(seconds, 3),
    rejected: 0,
    other_reports: 0,
    ok: true,
  };
}

/** Finds the exchange, checks /api/v1/ws and a token; returns the peer or why the part is skipped. */
async function exchangePeer(
  cfg: Config,
): Promise<{ peer: Peer; tokens: string[] } | { skipped: string; peer?: Peer }> {
  let peer: Peer;
  try {
    peer = await startExchange(cfg.url, cfg.secret);
  } catch (err) {
    return { skipped: `could not start the exchange: ${(err as Error).message}` };
  }
  const why = await probeOrderEntry(peer.url);
  if (why !== null) {
    return {
      skipped: `${peer.url} does not serve binary order entry yet (${why}): exchange part skipped`,
      peer,
    };
  }
  if (cfg.token !== undefined) return { peer, tokens: [cfg.token] };
  if (peer.secret !== undefined) {
    // Note: one account per connection (ids 101, 102, ...), like independent traders.
    const key = new TextEncoder().encode(peer.secret);
    const tokens = await Promise.all(
      Array.from({ length: cfg.connections }, (_, c) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(String(101 + c))
          .setExpirationTime('2h')
          .sign(key),
      ),
    );
    return { peer, tokens };
  }
  const token = peer.tokens[0];
  if (token === undefined) {
    return { skipped: 'no token for the exchange: pass --token=<JWT> or set EXCHANGE_TOKEN', peer };
  }
  return { peer, tokens: [token] };
}

function rows(peer: string, s: Suite | null, wsClient: Throughput | null): Record<string, string | number>[] {
  if (s === null) return [];
  const out: Record<string, string | number>[] = [];
  const fmt = (v: number) => v.toLocaleString('en-US');
  const t = (name: string, r: Throughput) =>
    out.push({
      peer,
      scenario: name,
      'frames/s': fmt(r.frames_per_s),
      'orders/s': fmt(r.orders_per_s),
      'p50 us': '',
      'p99 us': '',
      'p99.9 us': '',
      'max us': '',
      refused: r.rejected,
      check: r.ok ? 'ok' : 'FAILED',
    });
  t('max, 1/frame', s.single);
  t(`max, ${s.batch.requests_per_frame}/frame`, s.batch);
  for (const r of s.rates) {
    out.push({
      peer,
      scenario: `${fmt(r.offered_per_s)}/s offered`,
      'frames/s': fmt(r.achieved_per_s),
      'orders/s': fmt(r.achieved_per_s),
      'p50 us': r.latency.p50_us,
      'p99 us': r.latency.p99_us,
      'p99.9 us': r.latency.p999_us,
      'max us': r.latency.max_us,
      refused: r.rejected,
      check: r.ok ? 'ok' : 'FAILED',
    });
  }
  if (wsClient !== null) t('max, 1/frame, npm ws client', wsClient);
  return out;
}

/** --batch-reports=true: exchange connections use `?batch_reports=1`. */
let BATCH_REPORTS = false;

async function main(): Promise<void> {
  const args = parseArgs();
  BATCH_REPORTS = args.flags.get('batch-reports') === 'true';
  const cfg = config(args);
  const notes: string[] = [];

  // 1. the reference: a bare uWS echo of the same frames, in its own process
  const echo = await startEchoPeer();
  let echoSuite: Suite;
  let mix: Mix;
  let wsClient: Throughput | null = null;
  try {
    ({ suite: echoSuite, mix } = await suite('echo', echo.url, PeerKind.ECHO, [''], [1], cfg));
    if (cfg.wsClient) wsClient = await wsPackageEcho(echo.url, flows(cfg, 2, 1, [1]), cfg);
  } finally {
    await echo.stop();
  }

  // 2. the exchange, if it serves /api/v1/ws
  let exchange: Suite | { skipped: string } = { skipped: 'disabled with --exchange=false' };
  if (cfg.exchange) {
    const found = await exchangePeer(cfg);
    try {
      if ('skipped' in found) exchange = { skipped: found.skipped };
      else {
        const symbols = DEMO_SYMBOLS.map((s) => s.id);
        exchange = (await suite('exchange', found.peer.url, PeerKind.EXCHANGE, found.tokens, symbols, cfg))
          .suite;
      }
    } finally {
      await found.peer?.stop();
    }
  }
  if ('skipped' in exchange) notes.push(`exchange: ${exchange.skipped}`);
  else {
    for (const [name, r] of [
      ['1/frame', exchange.single],
      [`${cfg.batch}/frame`, exchange.batch],
    ] as const) {
      const answered = r.orders_per_s * r.seconds;
      if (r.rejected > answered * 0.01) {
        notes.push(`exchange ${name}: ${r.rejected} requests refused (check symbols, token, limits)`);
      }
    }
  }

  // 3. ratios and targets
  const ex = 'skipped' in exchange ? null : exchange;
  const at50k = ex?.rates.find((r) => r.offered_per_s === 50_000) ?? null;
  const target = (value: number | null, limit: number, atLeast: boolean) => ({
    value,
    target: limit,
    met: value === null ? null : atLeast ? value >= limit : value <= limit,
  });
  const ratios = {
    exchange_1_per_frame_to_echo:
      ex === null ? null : round(ex.single.orders_per_s / echoSuite.single.orders_per_s, 3),
    raw_client_to_ws_client_echo:
      wsClient === null ? null : round(echoSuite.single.frames_per_s / wsClient.frames_per_s, 1),
  };
  const targets = {
    exchange_1_per_frame_to_echo_ge_0_40: target(ratios.exchange_1_per_frame_to_echo, 0.4, true),
    exchange_batch_orders_per_s_ge_3M: target(ex === null ? null : ex.batch.orders_per_s, 3_000_000, true),
    exchange_p50_us_at_50k_le_30: target(at50k?.latency.p50_us ?? null, 30, false),
    exchange_p99_us_at_50k_le_200: target(at50k?.latency.p99_us ?? null, 200, false),
  };
  const result = {
    config: {
      connections: cfg.connections,
      warmup_s: cfg.warmupS,
      duration_s: cfg.durationS,
      rates: cfg.rates,
      rate_duration_s: cfg.rateDurationS,
      rate_warmup_s: cfg.rateWarmupS,
      window: cfg.window,
      batch: cfg.batch,
      batch_window: cfg.batchWindow,
      commands_per_connection: cfg.commands,
      max_live: cfg.maxLive,
      batch_reports: BATCH_REPORTS,
      mix,
      generator: 'RawWebSocket, pre-encoded pre-masked frames, this process; peers in child processes',
    },
    echo: echoSuite,
    ws_client_echo: wsClient,
    exchange,
    ratios,
    targets,
  };
  report(args, 'WebSocket order entry: exchange vs bare uWS echo', result, [
    ...rows('echo', echoSuite, wsClient),
    ...rows('exchange', ex, null),
  ]);
  if (!args.json) {
    const lines = [...notes];
    if (ratios.raw_client_to_ws_client_echo !== null) {
      lines.push(`raw client / npm ws client, echo 1/frame: ${ratios.raw_client_to_ws_client_echo}x`);
    }
    for (const [name, t] of Object.entries(targets)) {
      lines.push(
        `target ${name}: ${t.value ?? 'n/a'} (${t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met'})`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    for (const n of notes) process.stderr.write(`${n}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
