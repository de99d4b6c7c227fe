/**
 * REST market data: book snapshots, recent trades, ticker and OHLCV candles, all public (no auth).
 *
 *   GET /api/v1/book/:symbol?depth=N      L2 book from the gateway's mirror (never asks a shard), with
 *                                         the l2 seq and the CRC-32 of its top 10 (same as the feed)
 *   GET /api/v1/trades/:symbol?limit=N    most recent trades, newest first (from the bounded history)
 *   GET /api/v1/ticker/:symbol            last trade, BBO, rolling 24 h volume / high / low / open
 *   GET /api/v1/candles/:symbol?interval=1m&limit=N
 *                                         OHLCV computed in a piscina worker (CandlePool); 503
 *                                         CANDLES_BUSY when its queue is full
 *
 * Prices and quantities are decimal strings (integer ticks/lots converted once at this edge).
 * Errors use the API's JSON shape: 404 UNKNOWN_SYMBOL, 400 INVALID_PARAMETER, 503 CANDLES_BUSY.
 * Callers: gateway/app.ts registers it. Thread-safety: main thread only.
 */
import type { HttpRequestInfo, HttpRouter } from '../http/HttpRouter.js';
import { errorReply, json, type Reply } from '../http/Reply.js';
import { CANDLE_INTERVALS, CandleOutcome, type CandlePool } from '../marketdata/CandlePool.js';
import type { MarketDataHub, SymbolFeed } from '../marketdata/MarketDataHub.js';
import { DecimalFormat } from './DecimalFormat.js';
import type { SymbolDirectory } from './SymbolDirectory.js';
import { show } from './showValue.js';

export const BOOK_PATH = '/api/v1/book/:symbol';
export const TRADES_PATH = '/api/v1/trades/:symbol';
export const TICKER_PATH = '/api/v1/ticker/:symbol';
export const CANDLES_PATH = '/api/v1/candles/:symbol';
export const MAX_TRADES = 1000;
export const MAX_CANDLES = 1000;
const SIDE_NAMES = ['', 'buy', 'sell'];

interface Formats {
  price: DecimalFormat;
  qty: DecimalFormat;
}

export interface MarketDataApiOptions {
  readonly hub: MarketDataHub;
  readonly symbols: SymbolDirectory;
  readonly candles: CandlePool;
}

export class MarketDataApi {
  private readonly hub: MarketDataHub;
  private readonly symbols: SymbolDirectory;
  private readonly candles: CandlePool;
  private readonly formats = new Map<number, Formats>();

  constructor(options: MarketDataApiOptions) {
    this.hub = options.hub;
    this.symbols = options.symbols;
    this.candles = options.candles;
    for (const s of options.symbols.symbols) {
      this.formats.set(s.id, { price: new DecimalFormat(s.tickSize), qty: new DecimalFormat(s.lotSize) });
    }
  }

  register(router: HttpRouter): void {
    router.get(BOOK_PATH, (req) => this.book(req));
    router.get(TRADES_PATH, (req) => this.trades(req));
    router.get(TICKER_PATH, (req) => this.ticker(req));
    router.get(CANDLES_PATH, (req) => this.candleReply(req));
  }

  private book(req: HttpRequestInfo): Reply {
    const feed = this.feed(req);
    if (feed === undefined) return unknownSymbol(req);
    const depth = intParam(req.query, 'depth', 0, 0, 100_000);
    if (depth === undefined) return badParam('depth', 'an integer in 0..100000 (0 = whole book)');
    const f = this.fmt(feed);
    const levels = (side: SymbolFeed['book']['bids']) => {
      const n = depth > 0 && depth < side.count ? depth : side.count;
      const out: [string, string, number][] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = [f.price.format(side.price[i]), f.qty.format(side.quantity[i]), side.orderCount[i]];
      }
      return out;
    };
    return json(200, {
      symbol: feed.spec.name,
      symbol_id: feed.id,
      seq: feed.seq[1],
      checksum: feed.lastChecksum,
      timestamp_us: feed.lastUpdateUs,
      bids: levels(feed.book.bids),
      asks: levels(feed.book.asks),
    });
  }

  private trades(req: HttpRequestInfo): Reply {
    const feed = this.feed(req);
    if (feed === undefined) return unknownSymbol(req);
    const limit = intParam(req.query, 'limit', 100, 1, MAX_TRADES);
    if (limit === undefined) return badParam('limit', `an integer in 1..${MAX_TRADES}`);
    const h = feed.trades;
    const f = this.fmt(feed);
    const n = Math.min(limit, h.size);
    const trades = [];
    for (let k = h.size - 1; k >= h.size - n; k--) {
      const i = h.index(k);
      trades.push({
        seq: h.seq[i],
        trade_id: h.tradeId[i],
        price: f.price.format(h.price[i]),
        quantity: f.qty.format(h.quantity[i]),
        aggressor_side: SIDE_NAMES[h.side[i]] ?? '',
        timestamp_us: h.timestampUs[i],
      });
    }
    return json(200, { symbol: feed.spec.name, symbol_id: feed.id, trades });
  }

  private ticker(req: HttpRequestInfo): Reply {
    const feed = this.feed(req);
    if (feed === undefined) return unknownSymbol(req);
    const f = this.fmt(feed);
    const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const s = feed.trades.stats24h(nowUs);
    const px = (v: number) => (v === 0 ? null : f.price.format(v));
    const qty = (v: number) => (v === 0 ? null : f.qty.format(v));
    return json(200, {
      symbol: feed.spec.name,
      symbol_id: feed.id,
      last_price: px(feed.lastPrice),
      last_quantity: qty(feed.lastQty),
      last_trade_time_us: feed.lastTradeTs,
      bid_price: px(feed.bidPrice),
      bid_quantity: qty(feed.bidQty),
      ask_price: px(feed.askPrice),
      ask_quantity: qty(feed.askQty),
      volume_24h: f.qty.format(s.volume),
      trades_24h: s.trades,
      high_24h: px(s.high),
      low_24h: px(s.low),
      open_24h: px(s.open),
      status: feed.status,
    });
  }

  private candleReply(req: HttpRequestInfo): Reply | Promise<Reply> {
    const feed = this.feed(req);
    if (feed === undefined) return unknownSymbol(req);
    const params = new URLSearchParams(req.query);
    const interval = params.get('interval') ?? '1m';
    const intervalUs = CANDLE_INTERVALS[interval];
    if (intervalUs === undefined) return badParam('interval', Object.keys(CANDLE_INTERVALS).join(', '));
    const limit = intParam(req.query, 'limit', 100, 1, MAX_CANDLES);
    if (limit === undefined) return badParam('limit', `an integer in 1..${MAX_CANDLES}`);
    const run = this.candles.run(feed.trades, intervalUs, limit);
    if (run === CandleOutcome.BUSY) {
      return errorReply(503, 'CANDLES_BUSY', 'candle workers are saturated: retry shortly', undefined, [
        ['retry-after', '1'],
      ]);
    }
    const f = this.fmt(feed);
    return run.then((c) =>
      json(200, {
        symbol: feed.spec.name,
        symbol_id: feed.id,
        interval,
        candles: c.openTimeUs.map((t, i) => ({
          open_time_us: t,
          open: f.price.format(c.open[i]),
          high: f.price.format(c.high[i]),
          low: f.price.format(c.low[i]),
          close: f.price.format(c.close[i]),
          volume: f.qty.format(c.volume[i]),
          trades: c.trades[i],
        })),
      }),
    );
  }

  private feed(req: HttpRequestInfo): SymbolFeed | undefined {
    let ref: string;
    try {
      ref = decodeURIComponent(req.params[0] ?? '');
    } catch {
      return undefined;
    }
    const spec = this.symbols.find(ref);
    return spec === undefined ? undefined : this.hub.feed(spec.id);
  }

  private fmt(feed: SymbolFeed): Formats {
    return this.formats.get(feed.id) as Formats;
  }
}

function unknownSymbol(req: HttpRequestInfo): Reply {
  return errorReply(404, 'UNKNOWN_SYMBOL', `unknown symbol ${show(req.params[0] ?? '')}`);
}

function badParam(name: string, expected: string): Reply {
  return errorReply(400, 'INVALID_PARAMETER', `${name} must be ${expected}`);
}

/** Integer query parameter in [min, max]; `fallback` when absent; undefined when malformed. */
function intParam(
  query: string,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number | undefined {
  const raw = new URLSearchParams(query).get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const v = Number(raw);
  return v >= min && v <= max ? v : undefined;
}
