/**
 * Late join: subscribers join the public feed at many random points of a seeded trading run (real
 * gateway, real shard workers, real sockets). Each applies snapshot + deltas with the SDK's local book
 * (which checks every seq and every checksum); at the end every book equals the engine's own L2 view
 * (the oracle built from every L2_UPDATE, unconflated) and the gateway's mirror. An L3 subscriber's
 * order-by-order book, summed per level, equals the same book. REST /book agrees too.
 */
import t from 'tap';
import { type LocalBook, MarketDataClient, type OrderResult, RawWebSocket } from '../../client/index.js';
import { EventType } from '../../engine/records/EventRecord.js';
import type { L2Book } from '../../gateway/marketdata/L2Book.js';
import { MdReason } from '../../gateway/marketdata/MdReason.js';
import {
  Body,
  Channel,
  ClientEncoder,
  Direction,
  ErrorReader,
  FrameVerifier,
  MessageReader,
  OrderBookSnapshotReader,
  OrderEventKind,
  OrderEventReader,
  TradeReader,
  VerifyResult,
} from '../../schema/index.js';
import { until } from '../fixtures/until.js';
import { type MdExchange, prng, randomOrder, startMdExchange } from './fixtures/mdExchange.js';

const SEED = Number(process.env.MD_SEED ?? 20261129);
const ORDERS = 3000;
const JOINERS = 16;
const BTC = 1;

let ex: MdExchange;
t.before(async () => {
  ex = await startMdExchange({ heartbeatMs: 200, tradeHistory: 256 });
});
t.teardown(() => ex.stop());

function levels(b: L2Book): string {
  const rows: string[] = [];
  for (const [name, s] of [
    ['bid', b.bids],
    ['ask', b.asks],
  ] as const) {
    for (let i = 0; i < s.count; i++) rows.push(`${name} ${s.price[i]} ${s.quantity[i]} ${s.orderCount[i]}`);
  }
  return rows.join('\n');
}

/** A raw L3 subscriber: OrderBookSnapshot + OrderEvents -> per-level sums. */
class L3Watcher {
  readonly orders = new Map<number, { side: number; price: number; qty: number }>();
  seq = -1;
  gaps = 0;
  private readonly verifier = new FrameVerifier(Direction.GatewayToClient);
  private readonly m = new MessageReader();
  private readonly snap = new OrderBookSnapshotReader();
  private readonly ev = new OrderEventReader();

  constructor(readonly ws: RawWebSocket) {
    ws.onMessage = (bytes, start, end) => this.frame(bytes.subarray(start, end));
    ws.send(new ClientEncoder().subscribe(BTC, Channel.L3));
  }

  private frame(f: Uint8Array): void {
    if (this.verifier.verify(f) !== VerifyResult.OK) throw new Error('bad frame');
    const m = this.m.wrap(f);
    if (m.bodyType === Body.OrderBookSnapshot) {
      const s = this.snap.wrap(f, m.bodyPos);
      this.orders.clear();
      for (let i = 0; i < s.orderCount; i++)
        this.orders.set(s.orderId(i), { side: s.side(i), price: s.price(i), qty: s.quantity(i) });
      this.seq = s.seq;
    } else if (m.bodyType === Body.OrderEvent) {
      const e = this.ev.wrap(f, m.bodyPos);
      if (this.seq < 0) return;
      if (e.seq !== this.seq + 1) this.gaps++;
      this.seq = e.seq;
      if (e.kind === OrderEventKind.Add)
        this.orders.set(e.orderId, { side: e.side, price: e.price, qty: e.leavesQuantity });
      else if (e.leavesQuantity === 0) this.orders.delete(e.orderId);
      else {
        const o = this.orders.get(e.orderId);
        if (o === undefined) throw new Error(`L3 event for unknown order ${e.orderId}`);
        o.qty = e.leavesQuantity;
        o.price = e.price === 0 ? o.price : e.kind === OrderEventKind.Execute ? o.price : e.price;
      }
    }
  }

  /** Per-level text in the same form as levels(). */
  levels(): string {
    const agg = new Map<string, { side: number; price: number; qty: number; n: number }>();
    for (const o of this.orders.values()) {
      const k = `${o.side}:${o.price}`;
      const a = agg.get(k) ?? { side: o.side, price: o.price, qty: 0, n: 0 };
      a.qty += o.qty;
      a.n++;
      agg.set(k, a);
    }
    const bids = [...agg.values()].filter((a) => a.side === 1).sort((a, b) => b.price - a.price);
    const asks = [...agg.values()].filter((a) => a.side === 2).sort((a, b) => a.price - b.price);
    return [
      ...bids.map((a) => `bid ${a.price} ${a.qty} ${a.n}`),
      ...asks.map((a) => `ask ${a.price} ${a.qty} ${a.n}`),
    ].join('\n');
  }
}

t.test(`late joiners rebuild the engine's book exactly (seed ${SEED})`, async (t) => {
  const rnd = prng(SEED);
  const a = await ex.client(101);
  const b = await ex.client(202);
  const joinAt = new Set<number>();
  while (joinAt.size < JOINERS) joinAt.add(Math.floor(rnd() * ORDERS));
  const books: LocalBook[] = [];
  const mds: MarketDataClient[] = [];
  const l3: L3Watcher[] = [];
  const resting: { c: typeof a; id: number }[] = [];
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const c = rnd() < 0.5 ? a : b;
    const r = rnd();
    if (r < 0.12 && resting.length > 0) {
      const k = Math.floor(rnd() * resting.length);
      const o = resting[k];
      resting[k] = resting[resting.length - 1];
      resting.pop();
      pending.push(o.c.cancel({ orderId: o.id, symbol: 'BTC/USD' }).catch(() => {}));
    } else if (r < 0.17 && resting.length > 0) {
      const o = resting[Math.floor(rnd() * resting.length)];
      const change =
        rnd() < 0.5 ? { quantity: '0.0002' } : { price: (50000 + Math.floor(rnd() * 20) / 100).toFixed(2) };
      pending.push(o.c.amend({ orderId: o.id, symbol: 'BTC/USD', ...change }).catch(() => {}));
    } else {
      pending.push(
        c
          .placeOrder(randomOrder(rnd))
          .then((res: OrderResult) => {
            if (res.ok && res.report.leavesQuantity > 0) resting.push({ c, id: res.report.orderId });
          })
          .catch(() => {}),
      );
    }
    if (joinAt.has(i)) {
      // Let the run catch up to here, then join (alternately L2 SDK client and raw L3 watcher).
      await Promise.all(pending);
      pending = [];
      const md = await MarketDataClient.connect({ url: ex.mdUrl });
      mds.push(md);
      books.push(md.subscribe('BTC/USD', ['l2', 'bbo', 'trades'], { conflate: rnd() < 0.5 }));
      if (l3.length < JOINERS / 2) l3.push(new L3Watcher(await RawWebSocket.connect(ex.mdUrl)));
    }
    if (pending.length >= 64) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  await until(() => books.every((bk) => bk.seq === feed.seq[1]), 'every joiner at the last l2 seq');
  await until(() => l3.every((w) => w.seq === feed.seq[3]), 'every L3 watcher at the last l3 seq');
  const n = ex.eventCounts;
  t.ok(
    n[EventType.FILL] > 0 && n[EventType.CANCELLED] > 0 && n[EventType.AMENDED] > 0,
    `the run traded, cancelled and amended (${n[EventType.FILL]} fills, ${n[EventType.CANCELLED]} cancels, ${n[EventType.AMENDED]} amends)`,
  );
  const oracle = levels(ex.oracle.get(BTC)!);
  t.ok(
    feed.book.depth > 0,
    `the run left a book (${feed.book.depth} levels, l2 seq ${feed.seq[1]}, ${feed.seq[0]} trades)`,
  );
  t.equal(levels(feed.book), oracle, "gateway mirror = engine's L2");
  for (const [i, bk] of books.entries()) {
    t.equal(levels(bk.book), oracle, `joiner ${i}: snapshot + deltas = engine's L2`);
    t.equal(bk.checksumFailures, 0, `joiner ${i}: every checksum matched`);
    t.equal(bk.gaps, 0, `joiner ${i}: no gap`);
    t.equal(bk.computeChecksum(), feed.lastChecksum, `joiner ${i}: final checksum`);
  }
  t.ok(books.reduce((n, bk) => n + bk.updates, 0) > 0, 'updates were applied and checked');
  for (const [i, w] of l3.entries()) {
    t.equal(w.gaps, 0, `L3 watcher ${i}: no gap`);
    t.equal(w.levels(), oracle, `L3 watcher ${i}: orders summed per level = engine's L2`);
  }
  const rest = (await (await fetch(`${ex.httpUrl}/api/v1/book/BTC-USD?depth=5`)).json()) as {
    seq: number;
    checksum: number;
    bids: [string, string, number][];
  };
  t.equal(rest.seq, feed.seq[1], 'REST book carries the feed seq');
  t.equal(rest.checksum, feed.lastChecksum, 'REST book carries the checksum');
  t.ok(rest.bids.length <= 5, 'REST depth honoured');
  for (const md of mds) await md.close();
  for (const w of l3) w.ws.close();
  await until(() => ex.gateway.marketData.statistics.connections === 0, 'connections released');
  for (const topic of feed.topics)
    t.equal(ex.gateway.app.numSubscribers(topic), 0, `${topic}: no subscriber left`);
});

t.test('REST trades, ticker and candles reflect the run', async (t) => {
  const trades = (await (await fetch(`${ex.httpUrl}/api/v1/trades/BTC-USD?limit=5`)).json()) as {
    trades: { seq: number }[];
  };
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  t.equal(trades.trades.length, 5);
  t.equal(trades.trades[0].seq, feed.seq[0], 'newest trade first');
  const ticker = (await (await fetch(`${ex.httpUrl}/api/v1/ticker/BTC-USD`)).json()) as Record<
    string,
    unknown
  >;
  t.type(ticker.last_price, 'string');
  t.ok(Number(ticker.volume_24h) > 0, '24 h volume');
  const candles = (await (await fetch(`${ex.httpUrl}/api/v1/candles/BTC-USD?interval=1m`)).json()) as {
    candles: { trades: number; volume: string }[];
  };
  const n = candles.candles.reduce((s, c) => s + c.trades, 0);
  t.equal(n, Math.min(feed.trades.size, feed.seq[0]), 'candles count every held trade');
  const bad = await fetch(`${ex.httpUrl}/api/v1/candles/BTC-USD?interval=7m`);
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: { code: 'INVALID_PARAMETER' } });
  const unknown = await fetch(`${ex.httpUrl}/api/v1/book/NOPE`);
  t.equal(unknown.status, 404);
  t.match(await unknown.json(), { error: { code: 'UNKNOWN_SYMBOL' } });
});

t.test('CLI watch prints the top of book from the feed', async (t) => {
  const { runCli } = await import('../../client/cli.js');
  const lines: string[] = [];
  const code = await runCli(
    ['watch', 'BTC/USD', '--count', '1', '--url', ex.httpUrl],
    {},
    {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
    },
  );
  t.equal(code, 0);
  const top = JSON.parse(lines[0]) as Record<string, unknown>;
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  t.equal(top.symbol, 'BTC/USD');
  t.equal(top.seq, feed.seq[1]);
  t.equal(top.bid, (feed.book.bids.price[0] / 100).toFixed(2), 'best bid as a decimal');
  t.equal(top.checksum_ok, true);
  t.equal(await runCli(['watch'], {}, { out: () => {}, err: () => {} }), 2, 'usage error without a symbol');
});

t.test('trades missed are replayed from the recent history (trades_from_seq)', async (t) => {
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  const last = feed.seq[0];
  t.ok(last > 10, `the run traded (${last} trades)`);
  const ws = await RawWebSocket.connect(ex.mdUrl);
  const verifier = new FrameVerifier(Direction.GatewayToClient);
  const m = new MessageReader();
  const trade = new TradeReader();
  const err = new ErrorReader();
  const seqs: number[] = [];
  const errors: number[] = [];
  ws.onMessage = (bytes, start, end) => {
    const f = bytes.subarray(start, end);
    if (verifier.verify(f) !== VerifyResult.OK) return;
    const r = m.wrap(f);
    if (r.bodyType === Body.Trade) seqs.push(trade.wrap(f, r.bodyPos).seq);
    if (r.bodyType === Body.Error) errors.push(err.wrap(f, r.bodyPos).code);
  };
  const enc = new ClientEncoder();
  ws.send(enc.subscribe(BTC, Channel.Trades, 0, last - 10));
  await until(() => seqs.length >= 10, 'the replay');
  t.same(
    seqs,
    Array.from({ length: 10 }, (_, i) => last - 9 + i),
    'the ten missed trades, in order',
  );
  const gone = feed.trades.oldestSeq - 2;
  if (gone > 0) {
    enc.beginBatch();
    enc.addUnsubscribe(BTC, Channel.Trades);
    enc.addSubscribe(BTC, Channel.Trades, 0, gone);
    ws.send(enc.endBatch());
    await until(() => errors.length > 0, 'the unavailable notice');
    t.same(errors, [MdReason.TRADES_UNAVAILABLE], 'a range no longer held is refused');
  }
  ws.close();
});
