/**
 * Market-data fan-out bench: many subscribers of one symbol's L2 feed while the engine trades.
 *
 *   npm run bench:md                         # human table
 *   npm run bench:md -- --json               # exactly one JSON object on stdout
 *   flags: --subscribers=100,1000,5000 --rate=20000 (orders/s offered) --warmup=1 --duration=3 (s)
 *          --url=ws://host:port (an exchange already running; default: spawn dist/server.js on port 0)
 *          --secret=S (that exchange's JWT_SECRET, to sign the order driver's tokens)
 *
 * Processes: the exchange runs in a child process (bench/ws/peers.ts), the order driver in another
 * (orderDriver.ts: two ExchangeClient sessions sending Batches of 32 random orders around 50,000.00
 * at `rate` orders/s: resting limits, crossing limits, IOC); this process holds every subscriber
 * (RawWebSocket, one TCP connection each, frames read in place, no per-frame allocation beyond the
 * socket's chunks).
 * Measured per subscriber count, after `warmup`, for `duration`:
 *   - BookUpdate frames/s and level changes/s published (counted at subscriber 0),
 *   - frames/s delivered to all subscribers together,
 *   - delivery latency: subscriber receive time - the update's timestamp_us, which is the engine
 *     timestamp of the first event the update conflates (the command's stamp as it entered the shard's
 *     ring): it covers ring + matching + event ring + conflation + uWS fan-out + loopback + parsing.
 *     Both clocks are performance.timeOrigin + performance.now() (wall-clock based, same machine).
 * Checked before printing: no subscriber saw a seq gap, and subscriber 0's SDK book (MarketDataClient,
 * seq + CRC-32 checked on every update) never failed a checksum. Subscribers subscribe with
 * conflate = 1, so one that falls behind is resynchronised rather than dropped: resyncs are reported.
 * Caveat: a 2-core machine runs the exchange, the subscribers and the driver on the same cores.
 * Thread-safety: main thread of its own process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MarketDataClient } from '../../client/MarketDataClient.js';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import { MdReason } from '../../gateway/marketdata/MdReason.js';
import {
  Body,
  BookSnapshotReader,
  BookUpdateReader,
  Channel,
  ClientEncoder,
  ErrorReader,
  MessageReader,
} from '../../schema/index.js';
import {
  assertResult,
  type LatencySummary,
  latencyHistogram,
  numberFlag,
  parseArgs,
  report,
  summarize,
} from '../lib/harness.js';
import { startExchange } from '../ws/peers.js';

const args = parseArgs();
const SUBSCRIBERS = (args.flags.get('subscribers') ?? '100,1000,5000').split(',').map(Number);
const RATE = numberFlag(args, 'rate', 20_000);
const WARMUP_S = numberFlag(args, 'warmup', 1);
const DURATION_S = numberFlag(args, 'duration', 3);
const BTC = 1;

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  subscribers: number;
  offered_orders_per_s: number;
  orders_sent: number;
  book_updates_per_s: number;
  level_changes_per_s: number;
  delivered_per_s: number;
  latency: LatencySummary;
  gaps: number;
  resyncs: number;
  checksum_failures: number;
  sdk_updates_checked: number;
}

/** Shared per-run state of the raw subscribers (one object, no closures per frame). */
class Sink {
  readonly hist = latencyHistogram();
  readonly message = new MessageReader();
  readonly update = new BookUpdateReader();
  readonly snapshot = new BookSnapshotReader();
  readonly error = new ErrorReader();
  measuring = false;
  delivered = 0;
  updates0 = 0;
  changes0 = 0;
  gaps = 0;
  resyncs = 0;

  frame(sub: Sub, bytes: Uint8Array, start: number): void {
    const m = this.message;
    m.view.wrap(
      bytes,
      start + (bytes[start] | (bytes[start + 1] << 8) | (bytes[start + 2] << 16) | (bytes[start + 3] << 24)),
    );
    const type = m.bodyType;
    if (type === Body.BookUpdate) {
      const u = this.update.wrap(bytes, m.bodyPos);
      const seq = u.seq;
      if (sub.seq >= 0 && seq !== sub.seq + 1) this.gaps++;
      sub.seq = seq;
      if (!this.measuring) return;
      const lat = nowUs() - u.timestampUs;
      this.hist.recordValue(Math.max(1, Math.round(lat * 1000)));
      this.delivered++;
      if (sub.index === 0) {
        this.updates0++;
        this.changes0 += u.changeCount;
      }
    } else if (type === Body.BookSnapshot) {
      sub.seq = this.snapshot.wrap(bytes, m.bodyPos).seq;
    } else if (type === Body.Error && this.error.wrap(bytes, m.bodyPos).code === MdReason.RESYNCED) {
      this.resyncs++;
      sub.seq = -1;
    }
  }
}

class Sub {
  seq = -1;
  constructor(
    readonly index: number,
    readonly ws: RawWebSocket,
  ) {}
}

/** Starts the order driver process; resolves once it is connected. `sent()` = orders sent so far. */
async function startDriver(
  baseWs: string,
  secret: string,
  seed: number,
): Promise<{ sent(): number; stop(): void }> {
  const script = fileURLToPath(new URL('./orderDriver.js', import.meta.url));
  const child = spawn(process.execPath, [script, baseWs, secret, String(RATE), String(seed)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let sent = 0;
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    for (const line of text.split('\n')) {
      if (line === 'ready') ready();
      else if (line.startsWith('sent ')) sent = Number(line.slice(5));
    }
  });
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`order driver exited with ${code}\n`);
    ready();
  });
  await isReady;
  return { sent: () => sent, stop: () => child.kill('SIGTERM') };
}

async function run(baseWs: string, secret: string, n: number, seed: number): Promise<RunResult> {
  const mdUrl = `${baseWs}/api/v1/ws/market`;
  const sink = new Sink();
  const subs: Sub[] = [];
  const subscribe = new ClientEncoder().subscribe(BTC, Channel.L2, 1, 0).slice();
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, () =>
        RawWebSocket.connect(mdUrl, { handshakeTimeoutMs: 30_000 }),
      ),
    );
    for (const ws of batch) {
      const sub = new Sub(subs.length, ws);
      ws.onMessage = (bytes, start) => sink.frame(sub, bytes, start);
      ws.send(subscribe);
      subs.push(sub);
    }
  }
  // The SDK subscriber: checks every seq and checksum (the result assertion).
  const sdk = await MarketDataClient.connect({ url: mdUrl });
  const sdkBook = sdk.subscribe(BTC, ['l2'], { conflate: true });
  const driver = await startDriver(baseWs, secret, seed);
  await sleep(WARMUP_S * 1000);
  sink.measuring = true;
  const sent0 = driver.sent();
  const t0 = performance.now();
  await sleep(DURATION_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  sink.measuring = false;
  const ordersSent = driver.sent() - sent0;
  driver.stop();
  await sleep(300);
  const checksumFailures = sdkBook.checksumFailures;
  const sdkUpdates = sdkBook.updates;
  await sdk.close();
  for (const s of subs) s.ws.terminate();
  await sleep(200);
  return {
    subscribers: n,
    offered_orders_per_s: RATE,
    orders_sent: ordersSent,
    book_updates_per_s: Math.round(sink.updates0 / seconds),
    level_changes_per_s: Math.round(sink.changes0 / seconds),
    delivered_per_s: Math.round(sink.delivered / seconds),
    latency: summarize(sink.hist),
    gaps: sink.gaps,
    resyncs: sink.resyncs,
    checksum_failures: checksumFailures,
    sdk_updates_checked: sdkUpdates,
  };
}

async function main(): Promise<void> {
  const url = args.flags.get('url');
  const secret =
    args.flags.get('secret') ?? process.env.EXCHANGE_JWT_SECRET ?? randomBytes(16).toString('hex');
  // startExchange spawns dist/server.js with its own secret unless --url is given.
  const peer = await startExchange(url, url === undefined ? undefined : secret);
  const base = new URL(peer.url);
  const baseWs = `ws://${base.host}`;
  const results: RunResult[] = [];
  try {
    for (const [i, n] of SUBSCRIBERS.entries())
      results.push(await run(baseWs, peer.secret ?? secret, n, 1000 + i));
  } finally {
    await peer.stop();
  }
  for (const r of results) {
    assertResult(r.gaps === 0, `${r.subscribers} subscribers: ${r.gaps} seq gaps`);
    assertResult(
      r.checksum_failures === 0,
      `${r.subscribers} subscribers: ${r.checksum_failures} checksum failures`,
    );
    assertResult(
      r.sdk_updates_checked > 0 && r.latency.count > 0,
      `${r.subscribers} subscribers: no update measured`,
    );
  }
  report(
    args,
    'market data fan-out (one symbol, L2)',
    { rate: RATE, warmup_s: WARMUP_S, duration_s: DURATION_S, results },
    results.map((r) => ({
      subscribers: r.subscribers,
      'orders/s': Math.round(r.orders_sent / DURATION_S),
      'updates/s': r.book_updates_per_s,
      'levels/s': r.level_changes_per_s,
      'delivered/s': r.delivered_per_s,
      'p50 us': r.latency.p50_us,
      'p99 us': r.latency.p99_us,
      'p99.9 us': r.latency.p999_us,
      'max us': r.latency.max_us,
      resyncs: r.resyncs,
    })),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
