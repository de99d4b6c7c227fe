// Flyweight readers of the gateway -> client messages, for the client SDK, tests and benches (the
// gateway itself only encodes these). Same contract as client-readers.ts: wrap verified frames only
// (FrameVerifier with Direction.GatewayToClient), reuse one instance per message type, getters read in
// place and never allocate except the string getters. int64/uint64 getters return 0 .. 2^53-1.

import {
  BboVt,
  BookOrderStruct,
  BookSnapshotVt,
  BookUpdateVt,
  ChannelSeqStruct,
  ErrorVt,
  ExecutionReportVt,
  LevelChangeStruct,
  LevelStruct,
  LogonAckVt,
  LogonRejectVt,
  MarketHeartbeatVt,
  OrderBookSnapshotVt,
  OrderEventVt,
  SymbolInfoVt,
  SymbolListVt,
  SymbolStatusVt,
  TradeVt,
} from '../generated/layout.js';
import { SCHEMA_VERSION } from './protocol.js';
import { TableView } from './table-view.js';
import { readSafeUint64, readU32 } from './wire.js';

export class LogonAckReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get sessionId(): number {
    return this.view.int53(LogonAckVt.sessionId);
  }

  get protocolVersion(): number {
    return this.view.u16(LogonAckVt.protocolVersion, SCHEMA_VERSION);
  }

  get heartbeatIntervalMs(): number {
    return this.view.u32(LogonAckVt.heartbeatIntervalMs, 0);
  }

  get serverTimeUs(): number {
    return this.view.int53(LogonAckVt.serverTimeUs);
  }
}

export class LogonRejectReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get code(): number {
    return this.view.u16(LogonRejectVt.code, 0);
  }

  /** Allocates. */
  get text(): string | null {
    return this.view.string(LogonRejectVt.text);
  }
}

export class ExecutionReportReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get seq(): number {
    return this.view.int53(ExecutionReportVt.seq);
  }

  get execType(): number {
    return this.view.u8(ExecutionReportVt.execType, 0);
  }

  get orderStatus(): number {
    return this.view.u8(ExecutionReportVt.orderStatus, 0);
  }

  get orderId(): number {
    return this.view.int53(ExecutionReportVt.orderId);
  }

  get clientOrderIdHi(): number {
    return this.view.hi32(ExecutionReportVt.clientOrderId);
  }

  get clientOrderIdLo(): number {
    return this.view.lo32(ExecutionReportVt.clientOrderId);
  }

  get symbolId(): number {
    return this.view.u32(ExecutionReportVt.symbolId, 0);
  }

  get side(): number {
    return this.view.u8(ExecutionReportVt.side, 0);
  }

  get orderType(): number {
    return this.view.u8(ExecutionReportVt.orderType, 0);
  }

  get timeInForce(): number {
    return this.view.u8(ExecutionReportVt.timeInForce, 0);
  }

  get price(): number {
    return this.view.int53(ExecutionReportVt.price);
  }

  get quantity(): number {
    return this.view.int53(ExecutionReportVt.quantity);
  }

  get lastPrice(): number {
    return this.view.int53(ExecutionReportVt.lastPrice);
  }

  get lastQuantity(): number {
    return this.view.int53(ExecutionReportVt.lastQuantity);
  }

  get leavesQuantity(): number {
    return this.view.int53(ExecutionReportVt.leavesQuantity);
  }

  get cumQuantity(): number {
    return this.view.int53(ExecutionReportVt.cumQuantity);
  }

  get rejectReason(): number {
    return this.view.u16(ExecutionReportVt.rejectReason, 0);
  }

  get tradeId(): number {
    return this.view.int53(ExecutionReportVt.tradeId);
  }

  get liquidity(): number {
    return this.view.u8(ExecutionReportVt.liquidity, 0);
  }

  get transactTimeUs(): number {
    return this.view.int53(ExecutionReportVt.transactTimeUs);
  }

  get receivedTimeUs(): number {
    return this.view.int53(ExecutionReportVt.receivedTimeUs);
  }
}

export class ErrorReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get code(): number {
    return this.view.u16(ErrorVt.code, 0);
  }

  /** Allocates. */
  get text(): string | null {
    return this.view.string(ErrorVt.text);
  }

  get clientOrderIdHi(): number {
    return this.view.hi32(ErrorVt.clientOrderId);
  }

  get clientOrderIdLo(): number {
    return this.view.lo32(ErrorVt.clientOrderId);
  }
}

/** Reads one vector of Level structs in place (bids or asks of a BookSnapshot). */
export class LevelsView {
  private bytes: Uint8Array = new Uint8Array(0);
  private start = 0;
  length = 0;

  /** @internal Points the view at a vector; called by BookSnapshotReader. */
  wrap(view: TableView, vtOffset: number): this {
    this.bytes = view.bytes;
    this.start = view.vectorStart(vtOffset);
    this.length = view.vectorLength(vtOffset);
    return this;
  }

  price(index: number): number {
    return readSafeUint64(this.bytes, this.start + index * LevelStruct.SIZE + LevelStruct.price);
  }

  quantity(index: number): number {
    return readSafeUint64(this.bytes, this.start + index * LevelStruct.SIZE + LevelStruct.quantity);
  }

  orderCount(index: number): number {
    return readU32(this.bytes, this.start + index * LevelStruct.SIZE + LevelStruct.orderCount);
  }
}

export class BookSnapshotReader {
  readonly view = new TableView();
  readonly bids = new LevelsView();
  readonly asks = new LevelsView();

  /** Also points `bids` and `asks` at this snapshot's vectors. */
  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    this.bids.wrap(this.view, BookSnapshotVt.bids);
    this.asks.wrap(this.view, BookSnapshotVt.asks);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(BookSnapshotVt.symbolId, 0);
  }

  get seq(): number {
    return this.view.int53(BookSnapshotVt.seq);
  }

  get timestampUs(): number {
    return this.view.int53(BookSnapshotVt.timestampUs);
  }

  get checksum(): number {
    return this.view.u32(BookSnapshotVt.checksum, 0);
  }
}

export class BookUpdateReader {
  readonly view = new TableView();
  private start = 0;

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    this.start = this.view.vectorStart(BookUpdateVt.changes);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(BookUpdateVt.symbolId, 0);
  }

  get seq(): number {
    return this.view.int53(BookUpdateVt.seq);
  }

  get timestampUs(): number {
    return this.view.int53(BookUpdateVt.timestampUs);
  }

  get checksum(): number {
    return this.view.u32(BookUpdateVt.checksum, 0);
  }

  get changeCount(): number {
    return this.view.vectorLength(BookUpdateVt.changes);
  }

  changePrice(index: number): number {
    return readSafeUint64(
      this.view.bytes,
      this.start + index * LevelChangeStruct.SIZE + LevelChangeStruct.price,
    );
  }

  changeQuantity(index: number): number {
    return readSafeUint64(
      this.view.bytes,
      this.start + index * LevelChangeStruct.SIZE + LevelChangeStruct.quantity,
    );
  }

  changeOrderCount(index: number): number {
    return readU32(
      this.view.bytes,
      this.start + index * LevelChangeStruct.SIZE + LevelChangeStruct.orderCount,
    );
  }

  /** Side.Buy = bid level, Side.Sell = ask level. */
  changeSide(index: number): number {
    return this.view.bytes[this.start + index * LevelChangeStruct.SIZE + LevelChangeStruct.side];
  }
}

export class TradeReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(TradeVt.symbolId, 0);
  }

  get seq(): number {
    return this.view.int53(TradeVt.seq);
  }

  get tradeId(): number {
    return this.view.int53(TradeVt.tradeId);
  }

  get price(): number {
    return this.view.int53(TradeVt.price);
  }

  get quantity(): number {
    return this.view.int53(TradeVt.quantity);
  }

  get aggressorSide(): number {
    return this.view.u8(TradeVt.aggressorSide, 0);
  }

  get timestampUs(): number {
    return this.view.int53(TradeVt.timestampUs);
  }
}

export class BboReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(BboVt.symbolId, 0);
  }

  get seq(): number {
    return this.view.int53(BboVt.seq);
  }

  get bidPrice(): number {
    return this.view.int53(BboVt.bidPrice);
  }

  get bidQuantity(): number {
    return this.view.int53(BboVt.bidQuantity);
  }

  get askPrice(): number {
    return this.view.int53(BboVt.askPrice);
  }

  get askQuantity(): number {
    return this.view.int53(BboVt.askQuantity);
  }

  get timestampUs(): number {
    return this.view.int53(BboVt.timestampUs);
  }
}

export class SymbolInfoReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(SymbolInfoVt.symbolId, 0);
  }

  /** Allocates. */
  get name(): string {
    return this.view.string(SymbolInfoVt.name) ?? '';
  }

  /** Decimal string, e.g. "0.01". Allocates. */
  get tickSize(): string {
    return this.view.string(SymbolInfoVt.tickSize) ?? '';
  }

  /** Decimal string. Allocates. */
  get lotSize(): string {
    return this.view.string(SymbolInfoVt.lotSize) ?? '';
  }

  /** TradingStatus value. */
  get status(): number {
    return this.view.u8(SymbolInfoVt.status, 0);
  }
}

export class SymbolListReader {
  readonly view = new TableView();
  private readonly info = new SymbolInfoReader();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get length(): number {
    return this.view.vectorLength(SymbolListVt.symbols);
  }

  /** Symbol `index`, read through one reused SymbolInfoReader (valid until the next call). */
  symbol(index: number): SymbolInfoReader {
    return this.info.wrap(this.view.bytes, this.view.vectorTable(SymbolListVt.symbols, index));
  }
}

export class SymbolStatusReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(SymbolStatusVt.symbolId, 0);
  }

  /** TradingStatus value. */
  get status(): number {
    return this.view.u8(SymbolStatusVt.status, 0);
  }

  get seq(): number {
    return this.view.int53(SymbolStatusVt.seq);
  }

  get timestampUs(): number {
    return this.view.int53(SymbolStatusVt.timestampUs);
  }
}

export class OrderEventReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(OrderEventVt.symbolId, 0);
  }

  get seq(): number {
    return this.view.int53(OrderEventVt.seq);
  }

  /** OrderEventKind value. */
  get kind(): number {
    return this.view.u8(OrderEventVt.kind, 0);
  }

  get orderId(): number {
    return this.view.int53(OrderEventVt.orderId);
  }

  get side(): number {
    return this.view.u8(OrderEventVt.side, 0);
  }

  get price(): number {
    return this.view.int53(OrderEventVt.price);
  }

  get quantity(): number {
    return this.view.int53(OrderEventVt.quantity);
  }

  get leavesQuantity(): number {
    return this.view.int53(OrderEventVt.leavesQuantity);
  }

  get tradeId(): number {
    return this.view.int53(OrderEventVt.tradeId);
  }

  get timestampUs(): number {
    return this.view.int53(OrderEventVt.timestampUs);
  }
}

export class OrderBookSnapshotReader {
  readonly view = new TableView();
  private start = 0;

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    this.start = this.view.vectorStart(OrderBookSnapshotVt.orders);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(OrderBookSnapshotVt.symbolId, 0);
  }

  get seq(): number {
    return this.view.int53(OrderBookSnapshotVt.seq);
  }

  get timestampUs(): number {
    return this.view.int53(OrderBookSnapshotVt.timestampUs);
  }

  get orderCount(): number {
    return this.view.vectorLength(OrderBookSnapshotVt.orders);
  }

  orderId(index: number): number {
    return readSafeUint64(
      this.view.bytes,
      this.start + index * BookOrderStruct.SIZE + BookOrderStruct.orderId,
    );
  }

  price(index: number): number {
    return readSafeUint64(this.view.bytes, this.start + index * BookOrderStruct.SIZE + BookOrderStruct.price);
  }

  quantity(index: number): number {
    return readSafeUint64(
      this.view.bytes,
      this.start + index * BookOrderStruct.SIZE + BookOrderStruct.quantity,
    );
  }

  side(index: number): number {
    return this.view.bytes[this.start + index * BookOrderStruct.SIZE + BookOrderStruct.side];
  }
}

export class MarketHeartbeatReader {
  readonly view = new TableView();
  private start = 0;

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    this.start = this.view.vectorStart(MarketHeartbeatVt.sequences);
    return this;
  }

  get timestampUs(): number {
    return this.view.int53(MarketHeartbeatVt.timestampUs);
  }

  get sequenceCount(): number {
    return this.view.vectorLength(MarketHeartbeatVt.sequences);
  }

  seq(index: number): number {
    return readSafeUint64(this.view.bytes, this.start + index * ChannelSeqStruct.SIZE + ChannelSeqStruct.seq);
  }

  symbolId(index: number): number {
    return readU32(this.view.bytes, this.start + index * ChannelSeqStruct.SIZE + ChannelSeqStruct.symbolId);
  }

  /** One Channel bit. */
  channel(index: number): number {
    return this.view.bytes[this.start + index * ChannelSeqStruct.SIZE + ChannelSeqStruct.channel];
  }
}
