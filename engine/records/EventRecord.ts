/**
 * Event record: the fixed-layout binary form of every outcome the matching engine reports.
 *
 * Written by the engine into an `EventSink` slot (a ring slot in production, a growable buffer in
 * tests and replay); read in place by the gateway (execution reports, market data) and the journal.
 * 128 bytes, little-endian, numbers that can exceed 2^32 are float64 holding integers. Every byte of a
 * record is written: bytes not listed for its type are zero, so two engines that agree on the
 * semantics produce byte-identical streams.
 *
 * Common header (every event type):
 *
 *    0       1       2       3       4       5       6       7
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   | type  | side  |  reason (u16) |          symbolId (u32)       |   0
 *   +-------+-------+---------------+-------------------------------+
 *   |                      seq (f64, per shard, from 1)             |   8
 *   +---------------------------------------------------------------+
 *   |                  timestamp (f64, engine time)                 |  16
 *   +---------------------------------------------------------------+
 *   |          correlationId (f64, echo of the causing command)     |  24
 *   +-------------------------------+-------------------------------+
 *   | sessionId (u32, echo of cmd)  |   accountId (u32, see below)  |  32
 *   +-------------------------------+-------------------------------+
 *
 * ORDER body (ACCEPTED, REJECTED, CANCELLED, AMENDED, EXPIRED, TRIGGERED); header.accountId = owner:
 *
 *   40 orderId f64        48 clientOrderId f64   56 price f64         64 stopPrice f64
 *   72 quantity f64       80 filledQty f64       88 leavesQty f64     96 displayQty f64
 *  104 expireTime f64    112 orderSessionId u32 116 tradeGroup u32
 *  120 orderType u8      121 timeInForce u8     122 flags u8         123 stpMode u8
 *  124 commandType u8 (REJECTED only: the rejected command's type byte)   125..127 zero
 *
 * FILL and SELF_TRADE_PREVENTED body; header.side = taker side, header.accountId = 0:
 *
 *   40 tradeId f64 (FILL) | stpMode u8 + 7 zero bytes (SELF_TRADE_PREVENTED)
 *   48 price f64          56 quantity f64
 *   64 makerOrderId f64   72 makerClientOrderId f64   80 makerLeavesQty f64
 *   88 takerOrderId f64   96 takerClientOrderId f64  104 takerLeavesQty f64
 *  112 makerAccountId u32 116 makerSessionId u32 120 takerAccountId u32 124 takerSessionId u32
 *
 * L2_UPDATE body; header.side = book side, header.accountId = 0:
 *   40 price f64   48 quantity f64 (aggregate displayed qty; 0 = level gone)   56 orderCount u32
 *
 * BBO body; header.side = 0, header.accountId = 0 (an empty side has price 0 and qty 0):
 *   40 bidPrice f64   48 bidQty f64   56 askPrice f64   64 askQty f64
 *
 * MASS_CANCEL_DONE body; header.side = side filter, header.accountId = the command's account:
 *   40 cancelledCount f64
 *
 * SYMBOL_ADDED: header only (header.accountId = the command's account).
 *
 * Thread-safety: pure functions over a caller-owned DataView; the caller guarantees exclusive access.
 */
import { RecordBoundsError } from '../EngineError.js';

/** Size of one event record in bytes. */
export const EVENT_SIZE = 128;

/** Event type codes (byte 0). */
export const EventType = {
  ACCEPTED: 1,
  REJECTED: 2,
  FILL: 3,
  CANCELLED: 4,
  AMENDED: 5,
  EXPIRED: 6,
  TRIGGERED: 7,
  SELF_TRADE_PREVENTED: 8,
  L2_UPDATE: 9,
  BBO: 10,
  MASS_CANCEL_DONE: 11,
  SYMBOL_ADDED: 12,
} as const;

// Header.
export const TYPE = 0; // u8
export const SIDE = 1; // u8
export const REASON = 2; // u16
export const SYMBOL_ID = 4; // u32
export const SEQ = 8; // f64
export const TIMESTAMP = 16; // f64
export const CORRELATION_ID = 24; // f64
export const SESSION_ID = 32; // u32
export const ACCOUNT_ID = 36; // u32
export const HEADER_SIZE = 40;

// ORDER body.
export const ORDER_ID = 40; // f64
export const CLIENT_ORDER_ID = 48; // f64
export const PRICE = 56; // f64
export const STOP_PRICE = 64; // f64
export const QUANTITY = 72; // f64
export const FILLED_QTY = 80; // f64
export const LEAVES_QTY = 88; // f64
export const DISPLAY_QTY = 96; // f64
export const EXPIRE_TIME = 104; // f64
export const ORDER_SESSION_ID = 112; // u32
export const TRADE_GROUP = 116; // u32
export const ORDER_TYPE = 120; // u8
export const TIME_IN_FORCE = 121; // u8
export const FLAGS = 122; // u8
export const STP_MODE = 123; // u8
export const COMMAND_TYPE = 124; // u8

// FILL / SELF_TRADE_PREVENTED body.
export const TRADE_ID = 40; // f64 (FILL)
export const STP_EVENT_MODE = 40; // u8 (SELF_TRADE_PREVENTED)
export const MATCH_PRICE = 48; // f64
export const MATCH_QTY = 56; // f64
export const MAKER_ORDER_ID = 64; // f64
export const MAKER_CLIENT_ORDER_ID = 72; // f64
export const MAKER_LEAVES_QTY = 80; // f64
export const TAKER_ORDER_ID = 88; // f64
export const TAKER_CLIENT_ORDER_ID = 96; // f64
export const TAKER_LEAVES_QTY = 104; // f64
export const MAKER_ACCOUNT_ID = 112; // u32
export const MAKER_SESSION_ID = 116; // u32
export const TAKER_ACCOUNT_ID = 120; // u32
export const TAKER_SESSION_ID = 124; // u32

// L2_UPDATE body.
export const L2_PRICE = 40; // f64
export const L2_QTY = 48; // f64
export const L2_ORDER_COUNT = 56; // u32

// BBO body.
export const BID_PRICE = 40; // f64
export const BID_QTY = 48; // f64
export const ASK_PRICE = 56; // f64
export const ASK_QTY = 64; // f64

// MASS_CANCEL_DONE body.
export const CANCELLED_COUNT = 40; // f64

/** Throws unless `view` holds a whole event record at byte `offset`. */
export function checkCapacity(view: DataView, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + EVENT_SIZE > view.byteLength) {
    throw new RecordBoundsError(
      `event record at offset ${offset} needs ${EVENT_SIZE} bytes; view has ${view.byteLength}`,
    );
  }
}

/** Writes the 40-byte header. */
export function writeHeader(
  v: DataView,
  o: number,
  type: number,
  side: number,
  reason: number,
  symbolId: number,
  seq: number,
  timestamp: number,
  correlationId: number,
  sessionId: number,
  accountId: number,
): void {
  v.setUint8(o + TYPE, type);
  v.setUint8(o + SIDE, side);
  v.setUint16(o + REASON, reason, true);
  v.setUint32(o + SYMBOL_ID, symbolId, true);
  v.setFloat64(o + SEQ, seq, true);
  v.setFloat64(o + TIMESTAMP, timestamp, true);
  v.setFloat64(o + CORRELATION_ID, correlationId, true);
  v.setUint32(o + SESSION_ID, sessionId, true);
  v.setUint32(o + ACCOUNT_ID, accountId, true);
}

/** Writes zeros from byte `from` (a multiple of 8) to the end of the record. */
export function zeroFrom(v: DataView, o: number, from: number): void {
  for (let i = from; i < EVENT_SIZE; i += 8) v.setFloat64(o + i, 0, true);
}

/** Writes the whole ORDER body (bytes 40..127). */
export function writeOrderBody(
  v: DataView,
  o: number,
  orderId: number,
  clientOrderId: number,
  price: number,
  stopPrice: number,
  quantity: number,
  filledQty: number,
  leavesQty: number,
  displayQty: number,
  expireTime: number,
  orderSessionId: number,
  tradeGroup: number,
  orderType: number,
  timeInForce: number,
  flags: number,
  stpMode: number,
  commandType: number,
): void {
  v.setFloat64(o + ORDER_ID, orderId, true);
  v.setFloat64(o + CLIENT_ORDER_ID, clientOrderId, true);
  v.setFloat64(o + PRICE, price, true);
  v.setFloat64(o + STOP_PRICE, stopPrice, true);
  v.setFloat64(o + QUANTITY, quantity, true);
  v.setFloat64(o + FILLED_QTY, filledQty, true);
  v.setFloat64(o + LEAVES_QTY, leavesQty, true);
  v.setFloat64(o + DISPLAY_QTY, displayQty, true);
  v.setFloat64(o + EXPIRE_TIME, expireTime, true);
  v.setUint32(o + ORDER_SESSION_ID, orderSessionId, true);
  v.setUint32(o + TRADE_GROUP, tradeGroup, true);
  // Bytes 120..127: four u8 fields, commandType, three zero bytes (one u32 + one u32 write).
  v.setUint32(o + ORDER_TYPE, orderType | (timeInForce << 8) | (flags << 16) | (stpMode << 24), true);
  v.setUint32(o + COMMAND_TYPE, commandType, true);
}

/**
 * Writes the whole FILL / SELF_TRADE_PREVENTED body (bytes 40..127). For a FILL pass the trade id as
 * `tradeIdOrMode` and `isFill = true`; for SELF_TRADE_PREVENTED pass the STP mode and `isFill = false`.
 */
export function writeMatchBody(
  v: DataView,
  o: number,
  isFill: boolean,
  tradeIdOrMode: number,
  price: number,
  quantity: number,
  makerOrderId: number,
  makerClientOrderId: number,
  makerLeavesQty: number,
  takerOrderId: number,
  takerClientOrderId: number,
  takerLeavesQty: number,
  makerAccountId: number,
  makerSessionId: number,
  takerAccountId: number,
  takerSessionId: number,
): void {
  if (isFill) {
    v.setFloat64(o + TRADE_ID, tradeIdOrMode, true);
  } else {
    v.setFloat64(o + STP_EVENT_MODE, 0, true);
    v.setUint8(o + STP_EVENT_MODE, tradeIdOrMode);
  }
  v.setFloat64(o + MATCH_PRICE, price, true);
  v.setFloat64(o + MATCH_QTY, quantity, true);
  v.setFloat64(o + MAKER_ORDER_ID, makerOrderId, true);
  v.setFloat64(o + MAKER_CLIENT_ORDER_ID, makerClientOrderId, true);
  v.setFloat64(o + MAKER_LEAVES_QTY, makerLeavesQty, true);
  v.setFloat64(o + TAKER_ORDER_ID, takerOrderId, true);
  v.setFloat64(o + TAKER_CLIENT_ORDER_ID, takerClientOrderId, true);
  v.setFloat64(o + TAKER_LEAVES_QTY, takerLeavesQty, true);
  v.setUint32(o + MAKER_ACCOUNT_ID, makerAccountId, true);
  v.setUint32(o + MAKER_SESSION_ID, makerSessionId, true);
  v.setUint32(o + TAKER_ACCOUNT_ID, takerAccountId, true);
  v.setUint32(o + TAKER_SESSION_ID, takerSessionId, true);
}

/** Writes the whole L2_UPDATE body (bytes 40..127). */
export function writeL2Body(
  v: DataView,
  o: number,
  price: number,
  quantity: number,
  orderCount: number,
): void {
  v.setFloat64(o + L2_PRICE, price, true);
  v.setFloat64(o + L2_QTY, quantity, true);
  v.setFloat64(o + L2_ORDER_COUNT, 0, true);
  v.setUint32(o + L2_ORDER_COUNT, orderCount, true);
  zeroFrom(v, o, 64);
}

/** Writes the whole BBO body (bytes 40..127). */
export function writeBboBody(
  v: DataView,
  o: number,
  bidPrice: number,
  bidQty: number,
  askPrice: number,
  askQty: number,
): void {
  v.setFloat64(o + BID_PRICE, bidPrice, true);
  v.setFloat64(o + BID_QTY, bidQty, true);
  v.setFloat64(o + ASK_PRICE, askPrice, true);
  v.setFloat64(o + ASK_QTY, askQty, true);
  zeroFrom(v, o, 72);
}

// Readers for the header; body fields are read with the offsets above.
export const readType = (v: DataView, o: number): number => v.getUint8(o + TYPE);
export const readSide = (v: DataView, o: number): number => v.getUint8(o + SIDE);
export const readReason = (v: DataView, o: number): number => v.getUint16(o + REASON, true);
export const readSymbolId = (v: DataView, o: number): number => v.getUint32(o + SYMBOL_ID, true);
export const readSeq = (v: DataView, o: number): number => v.getFloat64(o + SEQ, true);
export const readTimestamp = (v: DataView, o: number): number => v.getFloat64(o + TIMESTAMP, true);
export const readCorrelationId = (v: DataView, o: number): number => v.getFloat64(o + CORRELATION_ID, true);
export const readSessionId = (v: DataView, o: number): number => v.getUint32(o + SESSION_ID, true);
export const readAccountId = (v: DataView, o: number): number => v.getUint32(o + ACCOUNT_ID, true);
export const readF64 = (v: DataView, o: number, field: number): number => v.getFloat64(o + field, true);
export const readU32 = (v: DataView, o: number, field: number): number => v.getUint32(o + field, true);
export const readU8 = (v: DataView, o: number, field: number): number => v.getUint8(o + field);
