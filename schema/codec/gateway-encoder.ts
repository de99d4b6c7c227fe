// GatewayEncoder: builds gateway -> client frames (execution reports, market data, session replies).
// The gateway keeps one per thread and reuses it for every outgoing frame; each method returns a view
// of the encoder's buffer valid until the next call (ws.send copies it, so send it right away). The
// per-order path — executionReport, bookUpdate, trade, bbo — does not allocate beyond the Builder's
// vtable list; methods taking text (error, logonReject, symbolList) encode strings and do.
// Not thread-safe.
//
// int64/uint64 values are numbers that must be integers in 0 .. 2^53-1 (SchemaError otherwise: a bug
// upstream, never a rounded frame). Client order ids are two uint32 halves, echoed as received.
// Field order follows FrameWriter's rule (flatc-compatible bytes).

import { Body } from '../generated/exchange/v1/body.js';
import {
  BboFieldCount,
  BboVt,
  BookOrderStruct,
  BookSnapshotFieldCount,
  BookSnapshotVt,
  BookUpdateFieldCount,
  BookUpdateVt,
  ChannelSeqStruct,
  ErrorFieldCount,
  ErrorVt,
  ExecutionReportFieldCount,
  ExecutionReportVt,
  HeartbeatFieldCount,
  HeartbeatVt,
  LevelChangeStruct,
  LevelStruct,
  LogonAckFieldCount,
  LogonAckVt,
  LogonRejectFieldCount,
  LogonRejectVt,
  MarketHeartbeatFieldCount,
  MarketHeartbeatVt,
  OrderBookSnapshotFieldCount,
  OrderBookSnapshotVt,
  OrderEventFieldCount,
  OrderEventVt,
  SymbolInfoFieldCount,
  SymbolInfoVt,
  SymbolListFieldCount,
  SymbolListVt,
  SymbolStatusFieldCount,
  SymbolStatusVt,
  TradeFieldCount,
  TradeVt,
} from '../generated/layout.js';
import { SchemaError } from '../schema-error.js';
import { FrameTemplate, MAX_TEMPLATES } from './frame-template.js';
import { FrameWriter } from './frame-writer.js';
import { SCHEMA_VERSION } from './protocol.js';
import { isSafeWireInt } from './wire.js';

/** Mutable, reusable field set of an ExecutionReport (the gateway fills one per event). */
export class ExecutionReportFields {
  seq = 0;
  execType = 0;
  orderStatus = 0;
  orderId = 0;
  clientOrderIdHi = 0;
  clientOrderIdLo = 0;
  symbolId = 0;
  side = 0;
  orderType = 0;
  timeInForce = 0;
  price = 0;
  quantity = 0;
  lastPrice = 0;
  lastQuantity = 0;
  leavesQuantity = 0;
  cumQuantity = 0;
  rejectReason = 0;
  tradeId = 0;
  liquidity = 0;
  transactTimeUs = 0;
  receivedTimeUs = 0;
}

/**
 * Preallocated columns of price levels: `count` rows of price, quantity, orderCount (and side, used by
 * BookUpdate only). Fill rows 0 .. count-1 and pass the columns; capacity is fixed at construction.
 */
export class LevelColumns {
  count = 0;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  readonly orderCount: Uint32Array;
  readonly side: Uint8Array;

  constructor(capacity: number) {
    this.price = new Float64Array(capacity);
    this.quantity = new Float64Array(capacity);
    this.orderCount = new Uint32Array(capacity);
    this.side = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.price.length;
  }
}

/** Preallocated columns of resting orders for an OrderBookSnapshot (fixed capacity). */
export class BookOrderColumns {
  count = 0;
  readonly orderId: Float64Array;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  readonly side: Uint8Array;

  constructor(capacity: number) {
    this.orderId = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
    this.quantity = new Float64Array(capacity);
    this.side = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.price.length;
  }
}

/** Preallocated (symbol, channel, seq) rows for a MarketHeartbeat (fixed capacity). */
export class ChannelSeqColumns {
  count = 0;
  readonly seq: Float64Array;
  readonly symbolId: Uint32Array;
  readonly channel: Uint8Array;

  constructor(capacity: number) {
    this.seq = new Float64Array(capacity);
    this.symbolId = new Uint32Array(capacity);
    this.channel = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.seq.length;
  }
}

/** Mutable, reusable field set of an L3 OrderEvent. */
export class OrderEventFields {
  symbolId = 0;
  seq = 0;
  kind = 0;
  orderId = 0;
  side = 0;
  price = 0;
  quantity = 0;
  leavesQuantity = 0;
  tradeId = 0;
  timestampUs = 0;
}

export interface SymbolInfoFields {
  symbolId: number;
  name: string;
  tickSize: string;
  lotSize: string;
  status: number;
}

/** A nonzero int64 value outside 0 .. 2^53-1 (the Builder path names the field and throws). */
function unsafe(value: number): boolean {
  return value !== 0 && !isSafeWireInt(value);
}

/** `1 << id` when `value` would be stored (it differs from the default 0), else 0. */
function bit(value: number, id: number): number {
  // biome-ignore lint/suspicious/noDoubleEquals: the Builder's own test (`value != defaultValue`).
  return value != 0 ? 1 << id : 0;
}

export class GatewayEncoder {
  private readonly w: FrameWriter;
  /** ExecutionReport templates by presence mask (frame-template.ts). */
  private readonly reportTemplates = new Map<number, FrameTemplate>();

  constructor(initialCapacity = 1024) {
    this.w = new FrameWriter(initialCapacity);
  }

  logonAck(sessionId: number, heartbeatIntervalMs: number, serverTimeUs: number): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(LogonAckFieldCount);
    w.int53(LogonAckVt.serverTimeUs, serverTimeUs, 'LogonAck.server_time_us');
    w.int53(LogonAckVt.sessionId, sessionId, 'LogonAck.session_id');
    w.u32(LogonAckVt.heartbeatIntervalMs, heartbeatIntervalMs);
    w.u16(LogonAckVt.protocolVersion, SCHEMA_VERSION, SCHEMA_VERSION);
    return w.finish(Body.LogonAck, w.builder.endObject());
  }

  /** `text` may be pre-encoded UTF-8 bytes to avoid encoding it on every call. */
  logonReject(code: number, text: string | Uint8Array | null): Uint8Array {
    const w = this.w;
    w.begin();
    const t = text === null ? 0 : w.builder.createString(text);
    w.builder.startObject(LogonRejectFieldCount);
    w.offset(LogonRejectVt.text, t);
    w.u16(LogonRejectVt.code, code, 0);
    return w.finish(Body.LogonReject, w.builder.endObject());
  }

  /**
   * The frame of one report: a view valid until the next executionReport with the same fields present
   * (copy it if you keep it). Fast path: the FrameTemplate of the report's presence set, patched in
   * place (same bytes as the Builder's, see frame-template.ts); the Builder writes the first report of
   * each presence set, and any report with a field outside the 2^53 rule (it throws SchemaError).
   */
  executionReport(r: ExecutionReportFields): Uint8Array {
    const seq = r.seq;
    const orderId = r.orderId;
    const price = r.price;
    const quantity = r.quantity;
    const lastPrice = r.lastPrice;
    const lastQuantity = r.lastQuantity;
    const leaves = r.leavesQuantity;
    const cum = r.cumQuantity;
    const tradeId = r.tradeId;
    const transact = r.transactTimeUs;
    const received = r.receivedTimeUs;
    if (
      unsafe(seq) ||
      unsafe(orderId) ||
      unsafe(price) ||
      unsafe(quantity) ||
      unsafe(lastPrice) ||
      unsafe(lastQuantity) ||
      unsafe(leaves) ||
      unsafe(cum) ||
      unsafe(tradeId) ||
      unsafe(transact) ||
      unsafe(received)
    ) {
      return this.executionReportBuilt(r);
    }
    const cidHi = r.clientOrderIdHi;
    const cidLo = r.clientOrderIdLo;
    // Note: bit i = field id i present (value != default 0), exactly the Builder's omission rule.
    const mask =
      bit(seq, 0) |
      bit(r.execType, 1) |
      bit(r.orderStatus, 2) |
      bit(orderId, 3) |
      (cidHi !== 0 || cidLo !== 0 ? 1 << 4 : 0) |
      bit(r.symbolId, 5) |
      bit(r.side, 6) |
      bit(r.orderType, 7) |
      bit(r.timeInForce, 8) |
      bit(price, 9) |
      bit(quantity, 10) |
      bit(lastPrice, 11) |
      bit(lastQuantity, 12) |
      bit(leaves, 13) |
      bit(cum, 14) |
      bit(r.rejectReason, 15) |
      bit(tradeId, 16) |
      bit(r.liquidity, 17) |
      bit(transact, 18) |
      bit(received, 19);
    const t = this.reportTemplates.get(mask);
    if (t === undefined) {
      const frame = this.executionReportBuilt(r);
      if (this.reportTemplates.size < MAX_TEMPLATES) {
        this.reportTemplates.set(mask, new FrameTemplate(frame, ExecutionReportFieldCount));
      }
      return frame;
    }
    if ((mask & (1 << 0)) !== 0) t.int53(0, seq);
    if ((mask & (1 << 1)) !== 0) t.u8(1, r.execType);
    if ((mask & (1 << 2)) !== 0) t.u8(2, r.orderStatus);
    if ((mask & (1 << 3)) !== 0) t.int53(3, orderId);
    if ((mask & (1 << 4)) !== 0) t.raw64(4, cidHi, cidLo);
    if ((mask & (1 << 5)) !== 0) t.u32(5, r.symbolId);
    if ((mask & (1 << 6)) !== 0) t.u8(6, r.side);
    if ((mask & (1 << 7)) !== 0) t.u8(7, r.orderType);
    if ((mask & (1 << 8)) !== 0) t.u8(8, r.timeInForce);
    if ((mask & (1 << 9)) !== 0) t.int53(9, price);
    if ((mask & (1 << 10)) !== 0) t.int53(10, quantity);
    if ((mask & (1 << 11)) !== 0) t.int53(11, lastPrice);
    if ((mask & (1 << 12)) !== 0) t.int53(12, lastQuantity);
    if ((mask & (1 << 13)) !== 0) t.int53(13, leaves);
    if ((mask & (1 << 14)) !== 0) t.int53(14, cum);
    if ((mask & (1 << 15)) !== 0) t.u16(15, r.rejectReason);
    if ((mask & (1 << 16)) !== 0) t.int53(16, tradeId);
    if ((mask & (1 << 17)) !== 0) t.u8(17, r.liquidity);
    if ((mask & (1 << 18)) !== 0) t.int53(18, transact);
    if ((mask & (1 << 19)) !== 0) t.int53(19, received);
    return t.bytes;
  }

  /** The Builder's encoding of a report (first of its presence set, or one that must throw). */
  executionReportBuilt(r: ExecutionReportFields): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(ExecutionReportFieldCount);
    w.int53(ExecutionReportVt.receivedTimeUs, r.receivedTimeUs, 'ExecutionReport.received_time_us');
    w.int53(ExecutionReportVt.transactTimeUs, r.transactTimeUs, 'ExecutionReport.transact_time_us');
    w.int53(ExecutionReportVt.tradeId, r.tradeId, 'ExecutionReport.trade_id');
    w.int53(ExecutionReportVt.cumQuantity, r.cumQuantity, 'ExecutionReport.cum_quantity');
    w.int53(ExecutionReportVt.leavesQuantity, r.leavesQuantity, 'ExecutionReport.leaves_quantity');
    w.int53(ExecutionReportVt.lastQuantity, r.lastQuantity, 'ExecutionReport.last_quantity');
    w.int53(ExecutionReportVt.lastPrice, r.lastPrice, 'ExecutionReport.last_price');
    w.int53(ExecutionReportVt.quantity, r.quantity, 'ExecutionReport.quantity');
    w.int53(ExecutionReportVt.price, r.price, 'ExecutionReport.price');
    w.raw64(ExecutionReportVt.clientOrderId, r.clientOrderIdHi, r.clientOrderIdLo);
    w.int53(ExecutionReportVt.orderId, r.orderId, 'ExecutionReport.order_id');
    w.int53(ExecutionReportVt.seq, r.seq, 'ExecutionReport.seq');
    w.u32(ExecutionReportVt.symbolId, r.symbolId);
    w.u16(ExecutionReportVt.rejectReason, r.rejectReason, 0);
    w.u8(ExecutionReportVt.liquidity, r.liquidity);
    w.u8(ExecutionReportVt.timeInForce, r.timeInForce);
    w.u8(ExecutionReportVt.orderType, r.orderType);
    w.u8(ExecutionReportVt.side, r.side);
    w.u8(ExecutionReportVt.orderStatus, r.orderStatus);
    w.u8(ExecutionReportVt.execType, r.execType);
    return w.finish(Body.ExecutionReport, w.builder.endObject());
  }

  /**
   * A refused request or frame. `code` is a reason code (e.g. a VerifyResult); `text` may be
   * pre-encoded UTF-8 bytes (verifyReasonUtf8 in schema/verify.ts) to avoid encoding it on every call.
   */
  error(
    code: number,
    text: string | Uint8Array | null,
    clientOrderIdHi = 0,
    clientOrderIdLo = 0,
  ): Uint8Array {
    const w = this.w;
    w.begin();
    const t = text === null ? 0 : w.builder.createString(text);
    w.builder.startObject(ErrorFieldCount);
    w.raw64(ErrorVt.clientOrderId, clientOrderIdHi, clientOrderIdLo);
    w.offset(ErrorVt.text, t);
    w.u16(ErrorVt.code, code, 0);
    return w.finish(Body.Error, w.builder.endObject());
  }

  bookSnapshot(
    symbolId: number,
    seq: number,
    timestampUs: number,
    bids: LevelColumns,
    asks: LevelColumns,
    checksum = 0,
  ): Uint8Array {
    const w = this.w;
    w.begin();
    const bidVec = this.levels(bids, 'BookSnapshot.bids');
    const askVec = this.levels(asks, 'BookSnapshot.asks');
    w.builder.startObject(BookSnapshotFieldCount);
    w.int53(BookSnapshotVt.timestampUs, timestampUs, 'BookSnapshot.timestamp_us');
    w.int53(BookSnapshotVt.seq, seq, 'BookSnapshot.seq');
    w.u32(BookSnapshotVt.checksum, checksum);
    w.offset(BookSnapshotVt.asks, askVec);
    w.offset(BookSnapshotVt.bids, bidVec);
    w.u32(BookSnapshotVt.symbolId, symbolId);
    return w.finish(Body.BookSnapshot, w.builder.endObject());
  }

  /** `changes` rows use the side column (Side.Buy = bid, Side.Sell = ask); quantity 0 removes a level. */
  bookUpdate(
    symbolId: number,
    seq: number,
    timestampUs: number,
    changes: LevelColumns,
    checksum: number,
  ): Uint8Array {
    const w = this.w;
    const b = w.builder;
    w.begin();
    const n = checkCount(changes, 'BookUpdate.changes');
    b.startVector(LevelChangeStruct.SIZE, n, LevelChangeStruct.ALIGN);
    for (let i = n - 1; i >= 0; i--) {
      // Note: a struct is written backwards, last field (and its padding) first.
      b.prep(LevelChangeStruct.ALIGN, LevelChangeStruct.SIZE);
      b.pad(LevelChangeStruct.SIZE - LevelChangeStruct.side - 1);
      b.writeInt8(changes.side[i]);
      b.writeInt32(changes.orderCount[i]);
      w.structInt53(changes.quantity[i], 'LevelChange.quantity');
      w.structInt53(changes.price[i], 'LevelChange.price');
    }
    const vec = b.endVector();
    b.startObject(BookUpdateFieldCount);
    w.int53(BookUpdateVt.timestampUs, timestampUs, 'BookUpdate.timestamp_us');
    w.int53(BookUpdateVt.seq, seq, 'BookUpdate.seq');
    w.u32(BookUpdateVt.checksum, checksum);
    w.offset(BookUpdateVt.changes, vec);
    w.u32(BookUpdateVt.symbolId, symbolId);
    return w.finish(Body.BookUpdate, b.endObject());
  }

  trade(
    symbolId: number,
    seq: number,
    tradeId: number,
    price: number,
    quantity: number,
    aggressorSide: number,
    timestampUs: number,
  ): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(TradeFieldCount);
    w.int53(TradeVt.timestampUs, timestampUs, 'Trade.timestamp_us');
    w.int53(TradeVt.quantity, quantity, 'Trade.quantity');
    w.int53(TradeVt.price, price, 'Trade.price');
    w.int53(TradeVt.tradeId, tradeId, 'Trade.trade_id');
    w.int53(TradeVt.seq, seq, 'Trade.seq');
    w.u32(TradeVt.symbolId, symbolId);
    w.u8(TradeVt.aggressorSide, aggressorSide);
    return w.finish(Body.Trade, w.builder.endObject());
  }

  bbo(
    symbolId: number,
    seq: number,
    bidPrice: number,
    bidQuantity: number,
    askPrice: number,
    askQuantity: number,
    timestampUs: number,
  ): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(BboFieldCount);
    w.int53(BboVt.timestampUs, timestampUs, 'Bbo.timestamp_us');
    w.int53(BboVt.askQuantity, askQuantity, 'Bbo.ask_quantity');
    w.int53(BboVt.askPrice, askPrice, 'Bbo.ask_price');
    w.int53(BboVt.bidQuantity, bidQuantity, 'Bbo.bid_quantity');
    w.int53(BboVt.bidPrice, bidPrice, 'Bbo.bid_price');
    w.int53(BboVt.seq, seq, 'Bbo.seq');
    w.u32(BboVt.symbolId, symbolId);
    return w.finish(Body.Bbo, w.builder.endObject());
  }

  heartbeat(lastSeq: number, timestampUs: number): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(HeartbeatFieldCount);
    w.int53(HeartbeatVt.timestampUs, timestampUs, 'Heartbeat.timestamp_us');
    w.int53(HeartbeatVt.lastSeq, lastSeq, 'Heartbeat.last_seq');
    return w.finish(Body.Heartbeat, w.builder.endObject());
  }

  /** One L3 (order-by-order) event. */
  orderEvent(e: OrderEventFields): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(OrderEventFieldCount);
    w.int53(OrderEventVt.timestampUs, e.timestampUs, 'OrderEvent.timestamp_us');
    w.int53(OrderEventVt.tradeId, e.tradeId, 'OrderEvent.trade_id');
    w.int53(OrderEventVt.leavesQuantity, e.leavesQuantity, 'OrderEvent.leaves_quantity');
    w.int53(OrderEventVt.quantity, e.quantity, 'OrderEvent.quantity');
    w.int53(OrderEventVt.price, e.price, 'OrderEvent.price');
    w.int53(OrderEventVt.orderId, e.orderId, 'OrderEvent.order_id');
    w.int53(OrderEventVt.seq, e.seq, 'OrderEvent.seq');
    w.u32(OrderEventVt.symbolId, e.symbolId);
    w.u8(OrderEventVt.side, e.side);
    w.u8(OrderEventVt.kind, e.kind);
    return w.finish(Body.OrderEvent, w.builder.endObject());
  }

  /** The L3 book: rows in the order they should appear (bids best first, then asks best first). */
  orderBookSnapshot(
    symbolId: number,
    seq: number,
    timestampUs: number,
    orders: BookOrderColumns,
  ): Uint8Array {
    const w = this.w;
    const b = w.builder;
    w.begin();
    const n = orders.count;
    if (!Number.isInteger(n) || n < 0 || n > orders.capacity) {
      throw new SchemaError(`OrderBookSnapshot.orders: count ${n} outside 0..${orders.capacity}`);
    }
    b.startVector(BookOrderStruct.SIZE, n, BookOrderStruct.ALIGN);
    for (let i = n - 1; i >= 0; i--) {
      b.prep(BookOrderStruct.ALIGN, BookOrderStruct.SIZE);
      b.pad(BookOrderStruct.SIZE - BookOrderStruct.side - 1);
      b.writeInt8(orders.side[i]);
      w.structInt53(orders.quantity[i], 'BookOrder.quantity');
      w.structInt53(orders.price[i], 'BookOrder.price');
      w.structInt53(orders.orderId[i], 'BookOrder.order_id');
    }
    const vec = b.endVector();
    b.startObject(OrderBookSnapshotFieldCount);
    w.int53(OrderBookSnapshotVt.timestampUs, timestampUs, 'OrderBookSnapshot.timestamp_us');
    w.int53(OrderBookSnapshotVt.seq, seq, 'OrderBookSnapshot.seq');
    w.offset(OrderBookSnapshotVt.orders, vec);
    w.u32(OrderBookSnapshotVt.symbolId, symbolId);
    return w.finish(Body.OrderBookSnapshot, b.endObject());
  }

  /** Market-data heartbeat with the last seq of each (symbol, channel) row. */
  marketHeartbeat(timestampUs: number, rows: ChannelSeqColumns): Uint8Array {
    const w = this.w;
    const b = w.builder;
    w.begin();
    const n = rows.count;
    if (!Number.isInteger(n) || n < 0 || n > rows.capacity) {
      throw new SchemaError(`MarketHeartbeat.sequences: count ${n} outside 0..${rows.capacity}`);
    }
    b.startVector(ChannelSeqStruct.SIZE, n, ChannelSeqStruct.ALIGN);
    for (let i = n - 1; i >= 0; i--) {
      b.prep(ChannelSeqStruct.ALIGN, ChannelSeqStruct.SIZE);
      b.pad(ChannelSeqStruct.SIZE - ChannelSeqStruct.channel - 1);
      b.writeInt8(rows.channel[i]);
      b.writeInt32(rows.symbolId[i]);
      w.structInt53(rows.seq[i], 'ChannelSeq.seq');
    }
    const vec = b.endVector();
    b.startObject(MarketHeartbeatFieldCount);
    w.int53(MarketHeartbeatVt.timestampUs, timestampUs, 'MarketHeartbeat.timestamp_us');
    w.offset(MarketHeartbeatVt.sequences, vec);
    return w.finish(Body.MarketHeartbeat, b.endObject());
  }

  /** The symbol table (off the hot path: encodes strings). */
  symbolList(symbols: readonly SymbolInfoFields[]): Uint8Array {
    const w = this.w;
    const b = w.builder;
    w.begin();
    const offsets = new Int32Array(symbols.length);
    for (let i = 0; i < symbols.length; i++) {
      const s = symbols[i];
      const name = b.createString(s.name);
      const tick = b.createString(s.tickSize);
      const lot = b.createString(s.lotSize);
      b.startObject(SymbolInfoFieldCount);
      w.offset(SymbolInfoVt.lotSize, lot);
      w.offset(SymbolInfoVt.tickSize, tick);
      w.offset(SymbolInfoVt.name, name);
      w.u32(SymbolInfoVt.symbolId, s.symbolId);
      w.u8(SymbolInfoVt.status, s.status);
      offsets[i] = b.endObject();
    }
    b.startVector(4, symbols.length, 4);
    for (let i = symbols.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
    const vec = b.endVector();
    b.startObject(SymbolListFieldCount);
    w.offset(SymbolListVt.symbols, vec);
    return w.finish(Body.SymbolList, b.endObject());
  }

  symbolStatus(symbolId: number, status: number, seq: number, timestampUs: number): Uint8Array {
    const w = this.w;
    w.begin();
    w.builder.startObject(SymbolStatusFieldCount);
    w.int53(SymbolStatusVt.timestampUs, timestampUs, 'SymbolStatus.timestamp_us');
    w.int53(SymbolStatusVt.seq, seq, 'SymbolStatus.seq');
    w.u32(SymbolStatusVt.symbolId, symbolId);
    w.u8(SymbolStatusVt.status, status);
    return w.finish(Body.SymbolStatus, w.builder.endObject());
  }

  /** Writes a vector of Level structs; returns its offset. */
  private levels(cols: LevelColumns, field: string): number {
    const w = this.w;
    const b = w.builder;
    const n = checkCount(cols, field);
    b.startVector(LevelStruct.SIZE, n, LevelStruct.ALIGN);
    for (let i = n - 1; i >= 0; i--) {
      b.prep(LevelStruct.ALIGN, LevelStruct.SIZE);
      b.pad(LevelStruct.SIZE - LevelStruct.orderCount - 4);
      b.writeInt32(cols.orderCount[i]);
      w.structInt53(cols.quantity[i], 'Level.quantity');
      w.structInt53(cols.price[i], 'Level.price');
    }
    return b.endVector();
  }
}

function checkCount(cols: LevelColumns, field: string): number {
  const n = cols.count;
  if (!Number.isInteger(n) || n < 0 || n > cols.capacity) {
    throw new SchemaError(`${field}: count ${n} outside 0..${cols.capacity}`);
  }
  return n;
}
