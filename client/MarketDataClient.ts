/**
 * MarketDataClient: the SDK side of the public market-data feed (/api/v1/ws/market,
 * docs/marketdata.md). `subscribe(symbol, channels, { conflate })` keeps a local L2 book per symbol
 * that checks every BookUpdate — its seq must be the previous seq + 1, and after applying it the
 * CRC-32 of the top 10 must equal the update's checksum — and resynchronises by itself (unsubscribe
 * + subscribe in one Batch: a fresh snapshot follows) on a gap, a checksum mismatch, or a heartbeat
 * showing a later seq than it has. Trades with a gap are recovered from the gateway's recent history
 * (Subscribe.trades_from_seq). A snapshot is accepted whenever one arrives (e.g. a conflation resync).
 *
 * Tick and lot sizes (needed for the checksum) come from GET /api/v1/symbols on the same host.
 * Events: 'book' (symbol, book) after each applied snapshot/update, 'trade', 'bbo', 'orderEvent',
 * 'status', 'resync' (symbol, reason), 'gatewayError' (code, text), 'close' (code, reason).
 * Not thread-safe: use from one thread. Reuses flyweight readers; nothing is read after the callback.
 */
import { EventEmitter } from 'node:events';
import { L2Book } from '../gateway/marketdata/L2Book.js';
import {
  BboReader,
  Body,
  BookChecksum,
  BookSnapshotReader,
  BookUpdateReader,
  Channel,
  ClientEncoder,
  Direction,
  ErrorReader,
  FrameVerifier,
  MarketHeartbeatReader,
  MessageReader,
  OrderEventReader,
  SymbolStatusReader,
  TradeReader,
  VerifyResult,
} from '../schema/index.js';
import { ClientUsageError } from './errors.js';
import { RawWebSocket } from './ws/RawWebSocket.js';

export type ChannelName = 'trades' | 'l2' | 'bbo' | 'l3' | 'status';
const CHANNEL_BITS: Record<ChannelName, number> = {
  trades: Channel.Trades,
  l2: Channel.L2,
  bbo: Channel.Bbo,
  l3: Channel.L3,
  status: Channel.Status,
};

export interface MdSymbol {
  readonly id: number;
  readonly name: string;
  readonly tickSize: string;
  readonly lotSize: string;
}

export interface PublicTrade {
  symbolId: number;
  seq: number;
  tradeId: number;
  /** Ticks / lots. */
  price: number;
  quantity: number;
  aggressorSide: number;
  timestampUs: number;
}

export interface Bbo {
  symbolId: number;
  seq: number;
  bidPrice: number;
  bidQuantity: number;
  askPrice: number;
  askQuantity: number;
}

/** One subscribed symbol: its local book and per-channel sequences. */
export class LocalBook {
  readonly symbol: MdSymbol;
  readonly book: L2Book;
  /** Last l2 seq applied; -1 = waiting for a snapshot. */
  seq = -1;
  tradeSeq = 0;
  /** Counters. */
  updates = 0;
  resyncs = 0;
  checksumFailures = 0;
  gaps = 0;
  /** Timestamp (µs) of the last update applied (the engine's, see docs). */
  lastUpdateUs = 0;
  readonly checksum: BookChecksum;

  constructor(symbol: MdSymbol) {
    this.symbol = symbol;
    this.book = new L2Book(symbol.id);
    this.checksum = new BookChecksum(symbol.tickSize, symbol.lotSize);
  }

  get synced(): boolean {
    return this.seq >= 0;
  }

  computeChecksum(): number {
    const b = this.book;
    return this.checksum.compute(
      b.asks.price,
      b.asks.quantity,
      b.asks.count,
      b.bids.price,
      b.bids.quantity,
      b.bids.count,
    );
  }

  /** Best bid / ask in ticks and lots (0 = empty side). */
  bestBid(): { price: number; quantity: number } {
    const s = this.book.bids;
    return s.count === 0 ? { price: 0, quantity: 0 } : { price: s.price[0], quantity: s.quantity[0] };
  }

  bestAsk(): { price: number; quantity: number } {
    const s = this.book.asks;
    return s.count === 0 ? { price: 0, quantity: 0 } : { price: s.price[0], quantity: s.quantity[0] };
  }
}

export interface MarketDataClientEvents {
  book: [LocalBook];
  trade: [PublicTrade];
  bbo: [Bbo];
  orderEvent: [OrderEventReader];
  status: [number, number];
  resync: [LocalBook, string];
  gatewayError: [number, string];
  close: [number, string];
}

export interface MarketDataConnectOptions {
  /** ws://host:port/api/v1/ws/market (the path is added when missing). */
  readonly url: string;
  /** Symbols with tick/lot sizes; fetched from GET /api/v1/symbols when absent. */
  readonly symbols?: readonly MdSymbol[];
}

export class MarketDataClient extends EventEmitter<MarketDataClientEvents> {
  readonly url: string;
  readonly books = new Map<number, LocalBook>();
  private readonly symbolsById = new Map<number, MdSymbol>();
  private readonly symbolsByName = new Map<string, MdSymbol>();
  private readonly ws: RawWebSocket;
  private readonly encoder = new ClientEncoder();
  private readonly verifier = new FrameVerifier(Direction.GatewayToClient);
  private readonly message = new MessageReader();
  private readonly snapshot = new BookSnapshotReader();
  private readonly update = new BookUpdateReader();
  private readonly tradeReader = new TradeReader();
  private readonly bboReader = new BboReader();
  private readonly hb = new MarketHeartbeatReader();
  private readonly orderEventReader = new OrderEventReader();
  private readonly statusReader = new SymbolStatusReader();
  private readonly errorReader = new ErrorReader();
  private readonly channels = new Map<number, { bits: number; conflate: number }>();

  private constructor(url: string, ws: RawWebSocket, symbols: readonly MdSymbol[]) {
    super();
    this.url = url;
    this.ws = ws;
    for (const s of symbols) {
      this.symbolsById.set(s.id, s);
      this.symbolsByName.set(s.name, s);
    }
    ws.onMessage = (bytes, start, end, isBinary) => {
      if (isBinary) this.received(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
    };
    ws.onClose = (code, reason) => this.emit('close', code, reason);
  }

  static async connect(options: MarketDataConnectOptions): Promise<MarketDataClient> {
    const u = new URL(options.url);
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/v1/ws/market';
    let symbols = options.symbols;
    if (symbols === undefined) {
      const http = `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}/api/v1/symbols`;
      const res = await fetch(http);
      const body = (await res.json()) as {
        symbols: { symbol_id: number; symbol: string; tick_size: string; lot_size: string }[];
      };
      symbols = body.symbols.map((s) => ({
        id: s.symbol_id,
        name: s.symbol,
        tickSize: s.tick_size,
        lotSize: s.lot_size,
      }));
    }
    const ws = await RawWebSocket.connect(u);
    return new MarketDataClient(u.href, ws, symbols);
  }

  symbol(ref: string | number): MdSymbol {
    const s =
      typeof ref === 'number'
        ? this.symbolsById.get(ref)
        : (this.symbolsByName.get(ref) ?? this.byLooseName(ref));
    if (s === undefined) throw new ClientUsageError(`unknown symbol ${JSON.stringify(ref)}`);
    return s;
  }

  /** Starts channels of a symbol; returns its local book (synced once the snapshot arrives). */
  subscribe(
    ref: string | number,
    channels: readonly ChannelName[] = ['l2'],
    options: { conflate?: boolean } = {},
  ): LocalBook {
    const s = this.symbol(ref);
    let bits = 0;
    for (const c of channels) {
      const b = CHANNEL_BITS[c];
      if (b === undefined) throw new ClientUsageError(`unknown channel ${JSON.stringify(c)}`);
      bits |= b;
    }
    let book = this.books.get(s.id);
    if (book === undefined) {
      book = new LocalBook(s);
      this.books.set(s.id, book);
    }
    const conflate = options.conflate === true ? 1 : 0;
    const held = this.channels.get(s.id);
    this.channels.set(s.id, { bits: (held?.bits ?? 0) | bits, conflate: conflate || (held?.conflate ?? 0) });
    this.ws.send(this.encoder.subscribe(s.id, bits, conflate, 0));
    return book;
  }

  unsubscribe(ref: string | number, channels?: readonly ChannelName[]): void {
    const s = this.symbol(ref);
    let bits = 0;
    for (const c of channels ?? []) bits |= CHANNEL_BITS[c];
    this.ws.send(this.encoder.unsubscribe(s.id, bits));
    const held = this.channels.get(s.id);
    const left = bits === 0 ? 0 : (held?.bits ?? 0) & ~bits;
    if (left === 0) {
      this.channels.delete(s.id);
      this.books.delete(s.id);
    } else if (held !== undefined) {
      held.bits = left;
    }
  }

  /** Closes the connection (waits for the close handshake). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.onClose = (code, reason) => {
        this.emit('close', code, reason);
        resolve();
      };
      this.ws.close();
    });
  }

  /** Drops the local book and asks for a fresh snapshot (and missed trades). */
  resync(book: LocalBook, reason: string): void {
    book.resyncs++;
    book.seq = -1;
    this.emit('resync', book, reason);
    const held = this.channels.get(book.symbol.id);
    const conflate = held?.conflate ?? 0;
    this.encoder.beginBatch();
    this.encoder.addUnsubscribe(book.symbol.id, Channel.L2);
    this.encoder.addSubscribe(book.symbol.id, Channel.L2, conflate, 0);
    this.ws.send(this.encoder.endBatch());
  }

  private recoverTrades(book: LocalBook): void {
    const conflate = this.channels.get(book.symbol.id)?.conflate ?? 0;
    this.encoder.beginBatch();
    this.encoder.addUnsubscribe(book.symbol.id, Channel.Trades);
    this.encoder.addSubscribe(book.symbol.id, Channel.Trades, conflate, book.tradeSeq);
    this.ws.send(this.encoder.endBatch());
  }

  private received(frame: Uint8Array): void {
    if (this.verifier.verify(frame) !== VerifyResult.OK) return;
    const m = this.message.wrap(frame);
    const pos = m.bodyPos;
    switch (m.bodyType) {
      case Body.BookSnapshot: {
        const r = this.snapshot.wrap(frame, pos);
        const book = this.books.get(r.symbolId);
        if (book === undefined) return;
        const b = book.book;
        b.bids.clear();
        b.asks.clear();
        for (let i = 0; i < r.bids.length; i++)
          b.bids.set(r.bids.price(i), r.bids.quantity(i), r.bids.orderCount(i));
        for (let i = 0; i < r.asks.length; i++)
          b.asks.set(r.asks.price(i), r.asks.quantity(i), r.asks.orderCount(i));
        book.seq = r.seq;
        book.lastUpdateUs = r.timestampUs;
        if (r.checksum !== 0 && book.computeChecksum() !== r.checksum) {
          book.checksumFailures++;
          this.resync(book, 'snapshot checksum mismatch');
          return;
        }
        this.emit('book', book);
        return;
      }
      case Body.BookUpdate: {
        const u = this.update.wrap(frame, pos);
        const book = this.books.get(u.symbolId);
        if (book === undefined || !book.synced) return;
        if (u.seq !== book.seq + 1) {
          if (u.seq <= book.seq) return; // already in the snapshot
          book.gaps++;
          this.resync(book, `gap: expected seq ${book.seq + 1}, got ${u.seq}`);
          return;
        }
        const b = book.book;
        const n = u.changeCount;
        for (let i = 0; i < n; i++)
          b.apply(u.changeSide(i), u.changePrice(i), u.changeQuantity(i), u.changeOrderCount(i));
        book.seq = u.seq;
        book.updates++;
        book.lastUpdateUs = u.timestampUs;
        if (u.checksum !== 0 && book.computeChecksum() !== u.checksum) {
          book.checksumFailures++;
          this.resync(book, `checksum mismatch at seq ${u.seq}`);
          return;
        }
        this.emit('book', book);
        return;
      }
      case Body.Trade: {
        const t = this.tradeReader.wrap(frame, pos);
        const book = this.books.get(t.symbolId);
        if (book !== undefined) {
          if (t.seq <= book.tradeSeq) return;
          if (book.tradeSeq > 0 && t.seq !== book.tradeSeq + 1) {
            book.gaps++;
            this.recoverTrades(book);
            return;
          }
          book.tradeSeq = t.seq;
        }
        this.emit('trade', {
          symbolId: t.symbolId,
          seq: t.seq,
          tradeId: t.tradeId,
          price: t.price,
          quantity: t.quantity,
          aggressorSide: t.aggressorSide,
          timestampUs: t.timestampUs,
        });
        return;
      }
      case Body.Bbo: {
        const r = this.bboReader.wrap(frame, pos);
        this.emit('bbo', {
          symbolId: r.symbolId,
          seq: r.seq,
          bidPrice: r.bidPrice,
          bidQuantity: r.bidQuantity,
          askPrice: r.askPrice,
          askQuantity: r.askQuantity,
        });
        return;
      }
      case Body.OrderEvent:
        this.emit('orderEvent', this.orderEventReader.wrap(frame, pos));
        return;
      case Body.SymbolStatus: {
        const r = this.statusReader.wrap(frame, pos);
        this.emit('status', r.symbolId, r.status);
        return;
      }
      case Body.MarketHeartbeat: {
        const h = this.hb.wrap(frame, pos);
        for (let i = 0; i < h.sequenceCount; i++) {
          const book = this.books.get(h.symbolId(i));
          if (book === undefined) continue;
          const held = this.channels.get(book.symbol.id)?.bits ?? 0;
          const ch = h.channel(i);
          if (ch === Channel.L2 && (held & Channel.L2) !== 0 && book.synced && h.seq(i) > book.seq) {
            book.gaps++;
            this.resync(book, `heartbeat: l2 seq ${h.seq(i)} ahead of ${book.seq}`);
          } else if (
            ch === Channel.Trades &&
            (held & Channel.Trades) !== 0 &&
            h.seq(i) > book.tradeSeq &&
            book.tradeSeq > 0
          ) {
            book.gaps++;
            this.recoverTrades(book);
          }
        }
        return;
      }
      case Body.Error: {
        const e = this.errorReader.wrap(frame, pos);
        this.emit('gatewayError', e.code, e.text ?? '');
        return;
      }
      default:
        return;
    }
  }

  private byLooseName(ref: string): MdSymbol | undefined {
    const key = ref.toLowerCase().replace(/[-_/ ]/g, '');
    for (const s of this.symbolsById.values())
      if (s.name.toLowerCase().replace(/[-_/ ]/g, '') === key) return s;
    return /^\d+$/.test(ref) ? this.symbolsById.get(Number(ref)) : undefined;
  }
}
