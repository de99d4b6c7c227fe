/**
 * Command record: the fixed-layout binary form of every request to a shard's matching engine.
 *
 * Written by the gateway into a shard's inbound ring (and by tests and the WAL replayer), read in
 * place by `MatchingEngine.process()`. The WAL stores these bytes verbatim. 96 bytes, little-endian,
 * all numbers that can exceed 2^32 are float64 holding integers (|n| <= 2^53-1), never BigInt.
 * Reserved and unused bytes are written as zero and ignored by the engine.
 *
 * Common header (every command type):
 *
 *    0       1       2       3       4       5       6       7
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | type  | side  |ordType|  tif  | flags |stpMode|   reserved    |  0
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |          symbolId (u32)       |         accountId (u32)       |  8
 *   +-------------------------------+-------------------------------+
 *   |          sessionId (u32)      |        tradeGroup (u32)       | 16
 *   +-------------------------------+-------------------------------+
 *   |                     timestamp (f64, integer)                  | 24
 *   +---------------------------------------------------------------+
 *   |                   correlationId (f64, integer)                | 32
 *   +---------------------------------------------------------------+
 *   |                   clientOrderId (f64, integer)                | 40
 *   +---------------------------------------------------------------+
 *
 * Body by type (offsets 48..95; a slot not listed for a type is zero):
 *
 *   offset  NEW_ORDER      AMEND            CANCEL    ADD_SYMBOL
 *   48      price          newPrice         -         minPrice
 *   56      quantity       newQuantity      -         maxPrice
 *   64      stopPrice      orderId          orderId   minQty
 *   72      displayQty     -                -         maxQty
 *   80      minQty         -                -         maxNotional
 *   88      expireTime     -                -         referencePrice
 *
 *   CANCEL_BY_CLIENT_ID: the target is header.clientOrderId; no body.
 *   AMEND_BY_CLIENT_ID: the target is header.clientOrderId; newPrice and newQuantity as AMEND, where
 *                0 means "unchanged" (the gateway need not know an order it has not seen acknowledged).
 *   MASS_CANCEL: header.accountId, header.symbolId (0 = every symbol of the shard), header.side
 *                (0 = both sides); no body.
 *   TIME_ADVANCE: header.timestamp only.
 *   ADD_SYMBOL: header.tradeGroup holds priceBandBps (u32; 0 = no band).
 *
 * Field meaning: see docs/matching.md. `sessionId` and `correlationId` are opaque to the engine and
 * echoed in the header of every event the command causes, so the gateway can route the report.
 * Thread-safety: pure functions over a caller-owned DataView; the caller guarantees exclusive access.
 */
import { RecordBoundsError } from '../EngineError.js';

/** Size of one command record in bytes. */
export const COMMAND_SIZE = 96;

/** Command type codes (byte 0). */
export const CommandType = {
  NEW_ORDER: 1,
  CANCEL: 2,
  CANCEL_BY_CLIENT_ID: 3,
  AMEND: 4,
  MASS_CANCEL: 5,
  TIME_ADVANCE: 6,
  ADD_SYMBOL: 7,
  AMEND_BY_CLIENT_ID: 8,
} as const;

// Header offsets.
export const TYPE = 0; // u8
export const SIDE = 1; // u8
export const ORDER_TYPE = 2; // u8
export const TIME_IN_FORCE = 3; // u8
export const FLAGS = 4; // u8
export const STP_MODE = 5; // u8
export const SYMBOL_ID = 8; // u32
export const ACCOUNT_ID = 12; // u32
export const SESSION_ID = 16; // u32
export const TRADE_GROUP = 20; // u32
export const TIMESTAMP = 24; // f64
export const CORRELATION_ID = 32; // f64
export const CLIENT_ORDER_ID = 40; // f64

// NEW_ORDER body.
export const PRICE = 48; // f64 (ticks; 0 for MARKET and STOP)
export const QUANTITY = 56; // f64 (lots)
export const STOP_PRICE = 64; // f64 (ticks; 0 unless STOP or STOP_LIMIT)
export const DISPLAY_QTY = 72; // f64 (lots; 0 = not an iceberg)
export const MIN_QTY = 80; // f64 (lots; 0 = none)
export const EXPIRE_TIME = 88; // f64 (same unit as timestamp; 0 unless GTD)

// AMEND body: PRICE and QUANTITY above carry the new price and the new total quantity.
/** Target order id of CANCEL and AMEND (shares the STOP_PRICE slot). */
export const ORDER_ID = 64; // f64

// ADD_SYMBOL body.
export const SYM_MIN_PRICE = 48; // f64
export const SYM_MAX_PRICE = 56; // f64
export const SYM_MIN_QTY = 64; // f64
export const SYM_MAX_QTY = 72; // f64
export const SYM_MAX_NOTIONAL = 80; // f64 (0 = no limit)
export const SYM_REFERENCE_PRICE = 88; // f64 (0 = none until the first trade)
/** ADD_SYMBOL: price band in basis points (u32 in the TRADE_GROUP slot; 0 = no band). */
export const SYM_PRICE_BAND_BPS = 20;

/** Throws unless `view` holds a whole command record at byte `offset`. */
export function checkCapacity(view: DataView, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + COMMAND_SIZE > view.byteLength) {
    throw new RecordBoundsError(
      `command record at offset ${offset} needs ${COMMAND_SIZE} bytes; view has ${view.byteLength}`,
    );
  }
}

/** Zeroes the record and writes the common header. Every encoder below calls it first. */
export function writeHeader(
  view: DataView,
  off: number,
  type: number,
  symbolId: number,
  accountId: number,
  sessionId: number,
  timestamp: number,
  correlationId: number,
  clientOrderId: number,
): void {
  for (let i = 0; i < COMMAND_SIZE; i += 8) view.setFloat64(off + i, 0, true);
  view.setUint8(off + TYPE, type);
  view.setUint32(off + SYMBOL_ID, symbolId, true);
  view.setUint32(off + ACCOUNT_ID, accountId, true);
  view.setUint32(off + SESSION_ID, sessionId, true);
  view.setFloat64(off + TIMESTAMP, timestamp, true);
  view.setFloat64(off + CORRELATION_ID, correlationId, true);
  view.setFloat64(off + CLIENT_ORDER_ID, clientOrderId, true);
}

/**
 * Writes the NEW_ORDER fields after `writeHeader(..., CommandType.NEW_ORDER, ...)`. Positional
 * arguments so that encoding allocates nothing.
 */
export function writeNewOrder(
  view: DataView,
  off: number,
  side: number,
  orderType: number,
  timeInForce: number,
  flags: number,
  stpMode: number,
  tradeGroup: number,
  price: number,
  quantity: number,
  stopPrice: number,
  displayQty: number,
  minQty: number,
  expireTime: number,
): void {
  view.setUint8(off + SIDE, side);
  view.setUint8(off + ORDER_TYPE, orderType);
  view.setUint8(off + TIME_IN_FORCE, timeInForce);
  view.setUint8(off + FLAGS, flags);
  view.setUint8(off + STP_MODE, stpMode);
  view.setUint32(off + TRADE_GROUP, tradeGroup, true);
  view.setFloat64(off + PRICE, price, true);
  view.setFloat64(off + QUANTITY, quantity, true);
  view.setFloat64(off + STOP_PRICE, stopPrice, true);
  view.setFloat64(off + DISPLAY_QTY, displayQty, true);
  view.setFloat64(off + MIN_QTY, minQty, true);
  view.setFloat64(off + EXPIRE_TIME, expireTime, true);
}

/** Writes the CANCEL target after `writeHeader(..., CommandType.CANCEL, ...)`. */
export function writeCancel(view: DataView, off: number, orderId: number): void {
  view.setFloat64(off + ORDER_ID, orderId, true);
}

/** Writes the AMEND fields after `writeHeader(..., CommandType.AMEND, ...)`. */
export function writeAmend(
  view: DataView,
  off: number,
  orderId: number,
  newPrice: number,
  newQuantity: number,
): void {
  view.setFloat64(off + ORDER_ID, orderId, true);
  view.setFloat64(off + PRICE, newPrice, true);
  view.setFloat64(off + QUANTITY, newQuantity, true);
}

/** Writes the MASS_CANCEL side filter (0 = both) after `writeHeader(..., CommandType.MASS_CANCEL, ...)`. */
export function writeMassCancel(view: DataView, off: number, side: number): void {
  view.setUint8(off + SIDE, side);
}

/** Writes the ADD_SYMBOL fields after `writeHeader(..., CommandType.ADD_SYMBOL, ...)`. */
export function writeAddSymbol(
  view: DataView,
  off: number,
  minPrice: number,
  maxPrice: number,
  minQty: number,
  maxQty: number,
  maxNotional: number,
  referencePrice: number,
  priceBandBps: number,
): void {
  view.setFloat64(off + SYM_MIN_PRICE, minPrice, true);
  view.setFloat64(off + SYM_MAX_PRICE, maxPrice, true);
  view.setFloat64(off + SYM_MIN_QTY, minQty, true);
  view.setFloat64(off + SYM_MAX_QTY, maxQty, true);
  view.setFloat64(off + SYM_MAX_NOTIONAL, maxNotional, true);
  view.setFloat64(off + SYM_REFERENCE_PRICE, referencePrice, true);
  view.setUint32(off + SYM_PRICE_BAND_BPS, priceBandBps, true);
}

// Readers: one per field, so the engine reads exactly what it needs in place.
export const readType = (v: DataView, o: number): number => v.getUint8(o + TYPE);
export const readSide = (v: DataView, o: number): number => v.getUint8(o + SIDE);
export const readOrderType = (v: DataView, o: number): number => v.getUint8(o + ORDER_TYPE);
export const readTimeInForce = (v: DataView, o: number): number => v.getUint8(o + TIME_IN_FORCE);
export const readFlags = (v: DataView, o: number): number => v.getUint8(o + FLAGS);
export const readStpMode = (v: DataView, o: number): number => v.getUint8(o + STP_MODE);
export const readSymbolId = (v: DataView, o: number): number => v.getUint32(o + SYMBOL_ID, true);
export const readAccountId = (v: DataView, o: number): number => v.getUint32(o + ACCOUNT_ID, true);
export const readSessionId = (v: DataView, o: number): number => v.getUint32(o + SESSION_ID, true);
export const readTradeGroup = (v: DataView, o: number): number => v.getUint32(o + TRADE_GROUP, true);
export const readTimestamp = (v: DataView, o: number): number => v.getFloat64(o + TIMESTAMP, true);
export const readCorrelationId = (v: DataView, o: number): number => v.getFloat64(o + CORRELATION_ID, true);
export const readClientOrderId = (v: DataView, o: number): number => v.getFloat64(o + CLIENT_ORDER_ID, true);
export const readPrice = (v: DataView, o: number): number => v.getFloat64(o + PRICE, true);
export const readQuantity = (v: DataView, o: number): number => v.getFloat64(o + QUANTITY, true);
export const readStopPrice = (v: DataView, o: number): number => v.getFloat64(o + STOP_PRICE, true);
export const readDisplayQty = (v: DataView, o: number): number => v.getFloat64(o + DISPLAY_QTY, true);
export const readMinQty = (v: DataView, o: number): number => v.getFloat64(o + MIN_QTY, true);
export const readExpireTime = (v: DataView, o: number): number => v.getFloat64(o + EXPIRE_TIME, true);
export const readOrderId = (v: DataView, o: number): number => v.getFloat64(o + ORDER_ID, true);
