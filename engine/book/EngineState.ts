/**
 * Layout of an engine state dump (`MatchingEngine.exportState()` / `MatchingEngine.fromState()`): a
 * LOGICAL dump of a shard at a command boundary, little-endian, no internal slot numbers.
 *
 * ```
 * header (HEADER_BYTES = 72)
 *   0 magic u32 "EXST"   4 version u16   6 reserved u16 (0)   8 shardId u32
 *  12 maxOrders u32     16 maxSymbols u32     20 maxAccounts u32         (the exporting config)
 *  24 seq f64           32 now f64            40 orderCounter f64        48 tradeCounter f64
 *  56 accountCount u32  60 symbolCount u32    64 orderCount u32          68 reserved u32 (0)
 * accounts: accountCount x accountId u32, in account-table order (order of first acceptance)
 * symbols, in ADD_SYMBOL order, each:
 *   SYMBOL_BYTES = 64: symbolId u32 | priceBandBps u32 | minPrice maxPrice minQty maxQty maxNotional
 *                      referencePrice lastTradePrice (f64 each)
 *   4 sides (bids, asks, buy stops, sell stops), each: levelCount u32, then per level in priority
 *   order (best first; stop-book order for stops):
 *     LEVEL_BYTES = 12: price f64 (the stop price for stops) | orderCount u32
 *     orderCount x ORDER_BYTES = 96, in queue (FIFO) order:
 *        0 orderId f64   8 clientOrderId f64  16 price f64  24 stopPrice f64  32 quantity f64
 *       40 leavesQty f64 48 visibleQty f64    56 displayQty f64  64 expireTime f64
 *       72 accountId u32 76 sessionId u32     80 tradeGroup u32
 *       84 side u8  85 orderType u8  86 timeInForce u8  87 flags u8  88 stpMode u8  89..95 zero
 * ```
 *
 * Everything else is rebuilt on restore: the order-id and client-order-id indexes, the per-account
 * lists (ascending order id = acceptance order, the mass-cancel order), the GTD heap (keyed by
 * (expireTime, orderId), a total order), level displayed quantities and counts, the BitIndexes.
 * docs/snapshots.md explains why nothing the engine emits depends on slot numbers.
 *
 * `stateHashOfState(bytes)` computes `stateHash()` of the engine a dump describes straight from the
 * bytes (one sequential pass, no engine): the snapshot writer hashes and checks dumps off the
 * journal thread with it.
 *
 * Callers: MatchingEngine (export/restore), journal/snapshot (framing, hashing), tests.
 * Thread-safety: constants and pure functions.
 */
import { EngineError } from '../EngineError.js';
import { StateHasher } from './StateHasher.js';

/** "EXST" read as a little-endian u32. */
export const STATE_MAGIC = 0x54535845;
export const STATE_VERSION = 1;

export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_SHARD_ID = 8;
export const H_MAX_ORDERS = 12;
export const H_MAX_SYMBOLS = 16;
export const H_MAX_ACCOUNTS = 20;
export const H_SEQ = 24;
export const H_NOW = 32;
export const H_ORDER_COUNTER = 40;
export const H_TRADE_COUNTER = 48;
export const H_ACCOUNT_COUNT = 56;
export const H_SYMBOL_COUNT = 60;
export const H_ORDER_COUNT = 64;
export const HEADER_BYTES = 72;

export const S_SYMBOL_ID = 0;
export const S_PRICE_BAND_BPS = 4;
export const S_MIN_PRICE = 8;
export const S_MAX_PRICE = 16;
export const S_MIN_QTY = 24;
export const S_MAX_QTY = 32;
export const S_MAX_NOTIONAL = 40;
export const S_REFERENCE_PRICE = 48;
export const S_LAST_TRADE_PRICE = 56;
export const SYMBOL_BYTES = 64;

export const L_PRICE = 0;
export const L_COUNT = 8;
export const LEVEL_BYTES = 12;

export const O_ID = 0;
export const O_CLIENT_ID = 8;
export const O_PRICE = 16;
export const O_STOP_PRICE = 24;
export const O_QUANTITY = 32;
export const O_LEAVES = 40;
export const O_VISIBLE = 48;
export const O_DISPLAY = 56;
export const O_EXPIRE_TIME = 64;
export const O_ACCOUNT = 72;
export const O_SESSION = 76;
export const O_GROUP = 80;
export const O_SIDE = 84;
export const O_TYPE = 85;
export const O_TIF = 86;
export const O_FLAGS = 87;
export const O_STP = 88;
export const ORDER_BYTES = 96;

/** A state dump is malformed, truncated, from another version, or does not fit the engine config. */
export class EngineStateError extends EngineError {
  constructor(message: string) {
    super('EXC_ERR_ENGINE_STATE', message);
  }
}

/**
 * One open order as `MatchingEngine.forEachOpenOrder()` presents it. The engine reuses one instance
 * for every call: copy what you keep.
 */
export interface OpenOrder {
  symbolId: number;
  orderId: number;
  clientOrderId: number;
  accountId: number;
  sessionId: number;
  tradeGroup: number;
  side: number;
  orderType: number;
  timeInForce: number;
  flags: number;
  stpMode: number;
  /** 0 for STOP (market) orders. */
  price: number;
  stopPrice: number;
  quantity: number;
  filledQty: number;
  leavesQty: number;
  visibleQty: number;
  displayQty: number;
  expireTime: number;
  /** True for an untriggered stop (in the stop book, not in L2). */
  isStop: boolean;
}

/**
 * `stateHash()` (docs/matching.md "State hash") of the engine state in `bytes`, a well-formed dump
 * from `exportState()` (not validated: a truncated one throws RangeError).
 */
export function stateHashOfState(bytes: Uint8Array): string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = new StateHasher();
  const accountCount = v.getUint32(H_ACCOUNT_COUNT, true);
  const symbolCount = v.getUint32(H_SYMBOL_COUNT, true);
  h.add(v.getFloat64(H_SEQ, true));
  h.add(v.getFloat64(H_NOW, true));
  h.add(v.getFloat64(H_ORDER_COUNTER, true));
  h.add(v.getFloat64(H_TRADE_COUNTER, true));
  h.add(accountCount);
  h.add(symbolCount);
  // The dump lists symbols in ADD_SYMBOL order; the hash wants ascending symbolId.
  const starts: [number, number][] = [];
  let p = HEADER_BYTES + 4 * accountCount;
  for (let k = 0; k < symbolCount; k++) {
    starts.push([v.getUint32(p + S_SYMBOL_ID, true), p]);
    p += SYMBOL_BYTES;
    for (let side = 0; side < 4; side++) p = skipSide(v, p);
  }
  starts.sort((a, b) => a[0] - b[0]);
  for (const [symbolId, at] of starts) {
    h.add(symbolId);
    h.add(v.getFloat64(at + S_MIN_PRICE, true));
    h.add(v.getFloat64(at + S_MAX_PRICE, true));
    h.add(v.getFloat64(at + S_MIN_QTY, true));
    h.add(v.getFloat64(at + S_MAX_QTY, true));
    h.add(v.getFloat64(at + S_MAX_NOTIONAL, true));
    h.add(v.getFloat64(at + S_REFERENCE_PRICE, true));
    h.add(v.getUint32(at + S_PRICE_BAND_BPS, true));
    h.add(v.getFloat64(at + S_LAST_TRADE_PRICE, true));
    let q = at + SYMBOL_BYTES;
    for (let side = 0; side < 2; side++) {
      const levels = v.getUint32(q, true);
      h.add(levels);
      q += 4;
      for (let l = 0; l < levels; l++) {
        const count = v.getUint32(q + L_COUNT, true);
        h.add(v.getFloat64(q + L_PRICE, true));
        q += LEVEL_BYTES;
        let qty = 0;
        for (let i = 0; i < count; i++) qty += v.getFloat64(q + i * ORDER_BYTES + O_VISIBLE, true);
        h.add(qty);
        h.add(count);
        for (let i = 0; i < count; i++, q += ORDER_BYTES) hashOrder(h, v, q);
      }
    }
    for (let side = 0; side < 2; side++) {
      const levels = v.getUint32(q, true);
      let total = 0;
      let r = q + 4;
      for (let l = 0; l < levels; l++) {
        const count = v.getUint32(r + L_COUNT, true);
        total += count;
        r += LEVEL_BYTES + count * ORDER_BYTES;
      }
      h.add(total);
      q += 4;
      for (let l = 0; l < levels; l++) {
        const count = v.getUint32(q + L_COUNT, true);
        q += LEVEL_BYTES;
        for (let i = 0; i < count; i++, q += ORDER_BYTES) hashOrder(h, v, q);
      }
    }
  }
  return h.digest();
}

function skipSide(v: DataView, p: number): number {
  const levels = v.getUint32(p, true);
  p += 4;
  for (let l = 0; l < levels; l++) p += LEVEL_BYTES + v.getUint32(p + L_COUNT, true) * ORDER_BYTES;
  return p;
}

function hashOrder(h: StateHasher, v: DataView, p: number): void {
  const quantity = v.getFloat64(p + O_QUANTITY, true);
  const leaves = v.getFloat64(p + O_LEAVES, true);
  h.add(v.getFloat64(p + O_ID, true));
  h.add(v.getFloat64(p + O_CLIENT_ID, true));
  h.add(v.getUint32(p + O_ACCOUNT, true));
  h.add(v.getUint32(p + O_SESSION, true));
  h.add(v.getUint32(p + O_GROUP, true));
  h.add(v.getUint8(p + O_SIDE));
  h.add(v.getUint8(p + O_TYPE));
  h.add(v.getUint8(p + O_TIF));
  h.add(v.getUint8(p + O_FLAGS));
  h.add(v.getUint8(p + O_STP));
  h.add(v.getFloat64(p + O_PRICE, true));
  h.add(v.getFloat64(p + O_STOP_PRICE, true));
  h.add(quantity);
  h.add(quantity - leaves);
  h.add(leaves);
  h.add(v.getFloat64(p + O_VISIBLE, true));
  h.add(v.getFloat64(p + O_DISPLAY, true));
  h.add(v.getFloat64(p + O_EXPIRE_TIME, true));
}
