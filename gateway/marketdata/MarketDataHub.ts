/**
 * MarketDataHub: turns the engine's event stream into the public market-data feed.
 *
 * Per symbol (a SymbolFeed) it keeps an exact L2 mirror (L2Book), an L3 order mirror (L3Book), the
 * recent trades (TradeHistory), the last BBO and trading status, and one sequence per channel
 * (trades, l2, bbo, l3, status: each counts the messages of that channel of that symbol, from 1).
 *
 * Flow: the gateway calls `onEvent` for every engine event (main thread, records read in place).
 * - L2_UPDATE: the level's new absolute state is conflated per (side, price) within the dispatcher
 *   turn; BBO: the last one of the turn wins. The first event of a turn queues a microtask that runs
 *   `flush()` once the dispatcher's synchronous batch is done: each dirty symbol's changes are applied
 *   to the mirror, stamped with the next l2 seq and the CRC-32 of the new top 10, encoded ONCE and
 *   published to the symbol's l2 topic (uWS copies it to every subscriber). A turn that changes more
 *   than `maxChangesPerUpdate` levels of one symbol is published in several updates.
 * - FILL: a Trade (next trades seq) is appended to the history and published at once; FILL and the
 *   order events also drive the L3 mirror, whose OrderEvents are published at once (never conflated).
 * Encoding is skipped when a topic has no subscriber (seqs still advance).
 *
 * Sequencing contract: a snapshot (BookSnapshot / OrderBookSnapshot / Bbo / SymbolStatus) carries
 * the seq of the last message of its channel it includes; the next delta has seq + 1. Snapshots are
 * built from the mirrors as of the last flush, so they are always consistent with the published seq.
 *
 * Callers: gateway/app.ts (onEvent), MarketDataGateway (snapshots, heartbeats, topics),
 * MarketDataApi (REST). Crash recovery: `feed(id).book.reset()/seed()` then `resetSeq()`.
 * Thread-safety: main thread only.
 */

import {
  ASK_PRICE,
  ASK_QTY,
  BID_PRICE,
  BID_QTY,
  DISPLAY_QTY,
  EventType,
  L2_ORDER_COUNT,
  L2_PRICE,
  L2_QTY,
  LEAVES_QTY,
  MAKER_LEAVES_QTY,
  MAKER_ORDER_ID,
  MATCH_PRICE,
  MATCH_QTY,
  ORDER_ID,
  ORDER_TYPE,
  PRICE,
  QUANTITY,
  readF64,
  readSide,
  readSymbolId,
  readTimestamp,
  readType,
  readU8,
  TAKER_LEAVES_QTY,
  TAKER_ORDER_ID,
  TRADE_ID,
} from '../../engine/records/EventRecord.js';
import { OrderType } from '../../engine/records/OrderCodes.js';
import { BookChecksum } from '../../schema/codec/book-checksum.js';
import {
  BookOrderColumns,
  GatewayEncoder,
  LevelColumns,
  type OrderEventFields,
} from '../../schema/codec/gateway-encoder.js';
import { TradingStatus } from '../../schema/generated/exchange/v1/trading-status.js';
import type { SymbolSpec } from '../symbols/SymbolTable.js';
import { ASK, BID, L2Book } from './L2Book.js';
import { L3Book } from './L3Book.js';
import { MarketDataError } from './MarketDataError.js';
import { TradeHistory } from './TradeHistory.js';

/** Channel bits (schema Channel enum) and their index in per-channel arrays. */
export const ChannelBit = { TRADES: 1, L2: 2, BBO: 4, L3: 8, STATUS: 16 } as const;
export const ALL_CHANNELS = 31;
export const CHANNEL_INDEX: Readonly<Record<number, number>> = { 1: 0, 2: 1, 4: 2, 8: 3, 16: 4 };
export const CHANNEL_NAMES = ['trades', 'l2', 'bbo', 'l3', 'status'] as const;

/** Where frames go: uWS app.publish / app.numSubscribers in production. */
export interface Publisher {
  publish(topic: string, frame: Uint8Array): void;
  subscribers(topic: string): number;
}

export interface MarketDataHubOptions {
  readonly symbols: readonly SymbolSpec[];
  readonly publisher: Publisher;
  /** Trades kept per symbol for replay, REST and candles (power of two; default 8192). */
  readonly tradeHistory?: number;
  /** Most level changes in one BookUpdate (default 512); more in one turn = several updates. */
  readonly maxChangesPerUpdate?: number;
}

export class SymbolFeed {
  readonly spec: SymbolSpec;
  readonly id: number;
  readonly book: L2Book;
  readonly l3: L3Book;
  readonly trades: TradeHistory;
  readonly checksum: BookChecksum;
  /** Last seq per channel index (0 trades, 1 l2, 2 bbo, 3 l3, 4 status). */
  readonly seq = new Float64Array(5);
  /** Topic per channel index, plus [5] = heartbeat. */
  readonly topics: readonly string[];
  /** Checksum of the mirror as of the last flush, or -1: not computed since (see `lastChecksum`). */
  private checksumCache = -1;
  lastUpdateUs = 0;
  // Conflation of the current turn.
  readonly changes: LevelColumns;
  readonly bidIndex = new Map<number, number>();
  readonly askIndex = new Map<number, number>();
  l2Dirty = false;
  l2FirstTs = 0;
  // BBO.
  bboDirty = false;
  bidPrice = 0;
  bidQty = 0;
  askPrice = 0;
  askQty = 0;
  bboTs = 0;
  status: number = TradingStatus.Open;
  statusTs = 0;
  lastPrice = 0;
  lastQty = 0;
  lastTradeTs = 0;

  constructor(
    spec: SymbolSpec,
    tradeHistory: number,
    maxChanges: number,
    emitL3: (f: OrderEventFields) => void,
  ) {
    this.spec = spec;
    this.id = spec.id;
    this.book = new L2Book(spec.id);
    this.l3 = new L3Book(spec.id, emitL3);
    this.trades = new TradeHistory(tradeHistory);
    this.checksum = new BookChecksum(spec.tickSize, spec.lotSize);
    this.changes = new LevelColumns(maxChanges);
    this.topics = [...CHANNEL_NAMES, 'hb'].map((c) => `md/${spec.id}/${c}`);
  }

  /** Subscribers of each of `topics`, as read at `countsGeneration` (MarketDataHub.listened). */
  readonly subscriberCounts = new Int32Array(6);
  countsGeneration = 0;

  /**
   * Checksum of the mirror as of the last flush. Computed when asked (a snapshot, the REST book) or
   * when an update is published, not on every flush of a book nobody watches.
   */
  get lastChecksum(): number {
    if (this.checksumCache < 0) this.checksumCache = this.computeChecksum();
    return this.checksumCache;
  }

  /** The mirror changed: the checksum is computed again at its next use. */
  mirrorChanged(): void {
    this.checksumCache = -1;
  }

  /** CRC-32 of the mirror's top 10 (Kraken rule). */
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
}

export class MarketDataHub {
  readonly feeds: ReadonlyMap<number, SymbolFeed>;
  /** Frames published (all channels) and BookUpdates published, for metrics and the bench. */
  published = 0;
  bookUpdates = 0;
  /** Set by the owner: called after each flush (e.g. the slow-subscriber check). */
  afterFlush: () => void = () => {};
  private readonly publisher: Publisher;
  private readonly encoder = new GatewayEncoder(64 * 1024);
  private readonly dirty: SymbolFeed[] = [];
  private scheduled = false;
  /** Bumped by topicsChanged(); SymbolFeed.countsGeneration below it = stale counts. */
  private topicsGeneration = 1;
  private readonly flushBound: () => void;
  private snapshotLevels = new LevelColumns(256);
  private snapshotLevels2 = new LevelColumns(256);
  private snapshotOrders = new BookOrderColumns(1024);

  constructor(options: MarketDataHubOptions) {
    this.publisher = options.publisher;
    const tradeHistory = options.tradeHistory ?? 8192;
    const maxChanges = options.maxChangesPerUpdate ?? 512;
    if (!Number.isInteger(maxChanges) || maxChanges < 1) {
      throw new MarketDataError(`maxChangesPerUpdate must be an integer >= 1, got ${maxChanges}`);
    }
    const feeds = new Map<number, SymbolFeed>();
    for (const s of options.symbols) {
      const feed: SymbolFeed = new SymbolFeed(s, tradeHistory, maxChanges, (f) => this.publishL3(feed, f));
      feeds.set(s.id, feed);
    }
    this.feeds = feeds;
    this.flushBound = () => this.flush();
  }

  feed(symbolId: number): SymbolFeed | undefined {
    return this.feeds.get(symbolId);
  }

  /** Every engine event, in order, on the main thread. */
  readonly onEvent = (_shard: number, view: DataView, offset: number): void => {
    const type = readType(view, offset);
    if (
      type === EventType.REJECTED ||
      type === EventType.MASS_CANCEL_DONE ||
      type === EventType.SELF_TRADE_PREVENTED
    ) {
      return;
    }
    const feed = this.feeds.get(readSymbolId(view, offset));
    if (feed === undefined) return;
    const ts = readTimestamp(view, offset);
    switch (type) {
      case EventType.L2_UPDATE:
        feed.l3.settle(ts);
        this.l2(feed, view, offset, ts);
        break;
      case EventType.BBO:
        feed.l3.settle(ts);
        feed.bidPrice = readF64(view, offset, BID_PRICE);
        feed.bidQty = readF64(view, offset, BID_QTY);
        feed.askPrice = readF64(view, offset, ASK_PRICE);
        feed.askQty = readF64(view, offset, ASK_QTY);
        feed.bboTs = ts;
        if (!feed.bboDirty) {
          feed.bboDirty = true;
          this.markDirty(feed);
        }
        break;
      case EventType.FILL:
        this.trade(feed, view, offset, ts);
        break;
      case EventType.ACCEPTED:
      case EventType.TRIGGERED: {
        // An order that can rest enters the L3 book: a LIMIT when accepted, a STOP_LIMIT when
        // triggered (a triggered STOP is a market order; stops are not on the book before).
        const rests = type === EventType.ACCEPTED ? OrderType.LIMIT : OrderType.STOP_LIMIT;
        if (readU8(view, offset, ORDER_TYPE) === rests) {
          feed.l3.incoming(
            readF64(view, offset, ORDER_ID),
            readSide(view, offset),
            readF64(view, offset, PRICE),
            readF64(view, offset, QUANTITY),
            readF64(view, offset, LEAVES_QTY),
            readF64(view, offset, DISPLAY_QTY),
            ts,
          );
        } else {
          feed.l3.settle(ts);
        }
        break;
      }
      case EventType.CANCELLED:
      case EventType.EXPIRED:
        feed.l3.removed(readF64(view, offset, ORDER_ID), ts);
        break;
      case EventType.AMENDED:
        feed.l3.amended(
          readF64(view, offset, ORDER_ID),
          readF64(view, offset, PRICE),
          readF64(view, offset, QUANTITY),
          readF64(view, offset, LEAVES_QTY),
          readF64(view, offset, DISPLAY_QTY),
          ts,
        );
        break;
      default:
        break;
    }
  };

  /**
   * Some connection subscribed or unsubscribed (or closed): the per-topic subscriber counts cached
   * for `listened` are read again at their next use. The subscription owner (MarketDataGateway) calls
   * it after every change, before the next publication.
   */
  topicsChanged(): void {
    this.topicsGeneration++;
  }

  /** Publishes every pending conflated change (normally from the microtask queued by the first event of a turn). */
  flush(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const feed = dirty[i];
      if (feed.l2Dirty) this.publishL2(feed);
      if (feed.bboDirty) this.publishBbo(feed);
    }
    dirty.length = 0;
    this.afterFlush();
  }

  /** Changes a symbol's trading status (admin / halts) and publishes it on the status channel. */
  setStatus(symbolId: number, status: number, timestampUs: number): void {
    const feed = this.requireFeed(symbolId);
    feed.status = status;
    feed.statusTs = timestampUs;
    const seq = ++feed.seq[4];
    const topic = feed.topics[4];
    if (this.listened(feed, 4)) {
      this.publish(topic, this.encoder.symbolStatus(symbolId, status, seq, timestampUs));
    }
  }

  /**
   * Crash recovery: after `feed.book.reset()/seed()` (and `feed.l3.seed()`), restart the l2 and l3
   * streams from a new snapshot seq (subscribers that see the jump resynchronise).
   */
  resetSeq(symbolId: number): void {
    const feed = this.requireFeed(symbolId);
    feed.seq[1]++;
    feed.seq[3]++;
    feed.mirrorChanged();
  }

  // ------------------------------------------------------------------ snapshots (off the hot path)

  /** BookSnapshot of the mirror as of the last flush, `depth` levels per side (0 = all). A view: send it at once. */
  bookSnapshot(feed: SymbolFeed, depth = 0, timestampUs = 0): Uint8Array {
    const b = feed.book;
    this.snapshotLevels = ensure(this.snapshotLevels, b.bids.count);
    this.snapshotLevels2 = ensure(this.snapshotLevels2, b.asks.count);
    const bids = this.fillLevels(this.snapshotLevels, b.bids, depth);
    const asks = this.fillLevels(this.snapshotLevels2, b.asks, depth);
    return this.encoder.bookSnapshot(
      feed.id,
      feed.seq[1],
      timestampUs || feed.lastUpdateUs,
      bids,
      asks,
      feed.lastChecksum,
    );
  }

  orderBookSnapshot(feed: SymbolFeed, timestampUs = 0): Uint8Array {
    if (this.snapshotOrders.capacity < feed.l3.size) {
      this.snapshotOrders = new BookOrderColumns(Math.max(feed.l3.size, this.snapshotOrders.capacity * 2));
    }
    feed.l3.snapshot(this.snapshotOrders);
    return this.encoder.orderBookSnapshot(feed.id, feed.seq[3], timestampUs, this.snapshotOrders);
  }

  bboFrame(feed: SymbolFeed): Uint8Array {
    return this.encoder.bbo(
      feed.id,
      feed.seq[2],
      feed.bidPrice,
      feed.bidQty,
      feed.askPrice,
      feed.askQty,
      feed.bboTs,
    );
  }

  statusFrame(feed: SymbolFeed): Uint8Array {
    return this.encoder.symbolStatus(feed.id, feed.status, feed.seq[4], feed.statusTs);
  }

  /** The k-th held trade of the history as a Trade frame (replay). */
  tradeFrame(feed: SymbolFeed, k: number): Uint8Array {
    const h = feed.trades;
    const i = h.index(k);
    return this.encoder.trade(
      feed.id,
      h.seq[i],
      h.tradeId[i],
      h.price[i],
      h.quantity[i],
      h.side[i],
      h.timestampUs[i],
    );
  }

  get encoderForHeartbeats(): GatewayEncoder {
    return this.encoder;
  }

  // ------------------------------------------------------------------ internals

  private l2(feed: SymbolFeed, view: DataView, offset: number, ts: number): void {
    const side = readSide(view, offset);
    const price = readF64(view, offset, L2_PRICE);
    const index = side === BID ? feed.bidIndex : feed.askIndex;
    const c = feed.changes;
    let i = index.get(price);
    if (i === undefined) {
      if (c.count === c.capacity) this.publishL2(feed);
      i = c.count++;
      index.set(price, i);
      c.price[i] = price;
      c.side[i] = side;
    }
    c.quantity[i] = readF64(view, offset, L2_QTY);
    c.orderCount[i] = view.getUint32(offset + L2_ORDER_COUNT, true);
    if (!feed.l2Dirty) {
      feed.l2Dirty = true;
      feed.l2FirstTs = ts;
      this.markDirty(feed);
    }
  }

  private markDirty(feed: SymbolFeed): void {
    if (!feed.l2Dirty || !feed.bboDirty) this.dirty.push(feed);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushBound);
    }
  }

  private publishL2(feed: SymbolFeed): void {
    const c = feed.changes;
    const book = feed.book;
    // Apply to the mirror, dropping changes that end where they started (e.g. 5 -> 7 -> 5 lots).
    let n = 0;
    for (let i = 0; i < c.count; i++) {
      const side = c.side[i] === BID ? book.bids : book.asks;
      const price = c.price[i];
      const qty = c.quantity[i];
      const orders = qty === 0 ? 0 : c.orderCount[i];
      const at = side.find(price);
      const same = at >= 0 ? side.quantity[at] === qty && side.orderCount[at] === orders : qty === 0;
      if (same) continue;
      side.set(price, qty, orders);
      if (n !== i) {
        c.price[n] = price;
        c.side[n] = c.side[i];
        c.quantity[n] = qty;
        c.orderCount[n] = orders;
      }
      n++;
    }
    c.count = n;
    feed.bidIndex.clear();
    feed.askIndex.clear();
    feed.l2Dirty = false;
    if (n > 0) {
      const seq = ++feed.seq[1];
      feed.mirrorChanged();
      feed.lastUpdateUs = feed.l2FirstTs;
      this.bookUpdates++;
      const topic = feed.topics[1];
      if (this.listened(feed, 1)) {
        this.publish(topic, this.encoder.bookUpdate(feed.id, seq, feed.l2FirstTs, c, feed.lastChecksum));
      }
    }
    c.count = 0;
  }

  private publishBbo(feed: SymbolFeed): void {
    feed.bboDirty = false;
    feed.seq[2]++;
    const topic = feed.topics[2];
    if (this.listened(feed, 2)) this.publish(topic, this.bboFrame(feed));
  }

  private trade(feed: SymbolFeed, view: DataView, offset: number, ts: number): void {
    const price = readF64(view, offset, MATCH_PRICE);
    const qty = readF64(view, offset, MATCH_QTY);
    const tradeId = readF64(view, offset, TRADE_ID);
    const side = readSide(view, offset);
    const seq = ++feed.seq[0];
    feed.trades.append(seq, tradeId, price, qty, side, ts);
    feed.lastPrice = price;
    feed.lastQty = qty;
    feed.lastTradeTs = ts;
    const topic = feed.topics[0];
    if (this.listened(feed, 0)) {
      this.publish(topic, this.encoder.trade(feed.id, seq, tradeId, price, qty, side, ts));
    }
    feed.l3.fill(
      readF64(view, offset, MAKER_ORDER_ID),
      readF64(view, offset, TAKER_ORDER_ID),
      price,
      qty,
      readF64(view, offset, MAKER_LEAVES_QTY),
      readF64(view, offset, TAKER_LEAVES_QTY),
      tradeId,
      ts,
    );
  }

  private publishL3(feed: SymbolFeed, f: OrderEventFields): void {
    f.seq = ++feed.seq[3];
    const topic = feed.topics[3];
    if (this.listened(feed, 3)) this.publish(topic, this.encoder.orderEvent(f));
  }

  /**
   * Whether channel `channel` (index into feed.topics) of `feed` has subscribers: a frame nobody
   * receives is not encoded. Counts are cached per feed until `topicsChanged()` (one native
   * numSubscribers call per publication, with its topic string, was ~6 % of the gateway thread under
   * bench:ws).
   */
  private listened(feed: SymbolFeed, channel: number): boolean {
    const counts = feed.subscriberCounts;
    if (feed.countsGeneration !== this.topicsGeneration) {
      for (let i = 0; i < counts.length; i++) counts[i] = this.publisher.subscribers(feed.topics[i]);
      feed.countsGeneration = this.topicsGeneration;
    }
    return counts[channel] > 0;
  }

  private publish(topic: string, frame: Uint8Array): void {
    this.published++;
    this.publisher.publish(topic, frame);
  }

  private fillLevels(cols: LevelColumns, side: L2Book['bids'], depth: number): LevelColumns {
    const n = depth > 0 && depth < side.count ? depth : side.count;
    for (let i = 0; i < n; i++) {
      cols.price[i] = side.price[i];
      cols.quantity[i] = side.quantity[i];
      cols.orderCount[i] = side.orderCount[i];
    }
    cols.count = n;
    return cols;
  }

  private requireFeed(symbolId: number): SymbolFeed {
    const f = this.feeds.get(symbolId);
    if (f === undefined) throw new MarketDataError(`unknown symbol id ${symbolId}`);
    return f;
  }
}

function ensure(cols: LevelColumns, n: number): LevelColumns {
  return cols.capacity >= n ? cols : new LevelColumns(Math.max(n, cols.capacity * 2));
}

export { ASK, BID };
