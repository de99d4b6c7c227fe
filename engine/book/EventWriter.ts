/**
 * Writes the engine's events into the current command's EventSink: numbers them (per-shard `seq`),
 * stamps engine time and echoes the command's correlationId and sessionId in every header.
 *
 * Owned by one MatchingEngine; `begin()` is called at the start of every command. Each method claims
 * one slot and writes all EVENT_SIZE bytes (docs/matching.md section 4). No allocation.
 *
 * Fields are stored through Float64Array / Uint32Array views over the sink's buffer (made once per
 * buffer, re-made only when the sink hands out a different `view`), not through DataView calls: one
 * plain store per field, adjacent small fields packed into one u32 store, and the unused tail of a
 * record zeroed with a few f64 stores. The byte layout is exactly EventRecord's (little-endian).
 * Note: a slot whose address is not 8-byte aligned (or out of the view) is written into an aligned
 * scratch record and copied in with one `Uint8Array.set`; an out-of-range slot throws
 * RecordBoundsError as the DataView writers would. Typed arrays use the host's byte order, so the
 * constructor refuses a big-endian host (every platform Node 20 ships for in practice is little-endian).
 * Thread-safety: single-threaded (the shard's thread).
 */
import { EngineConfigError } from '../EngineError.js';
import * as C from '../records/CommandRecord.js';
import * as E from '../records/EventRecord.js';
import { EVENT_SIZE, EventType } from '../records/EventRecord.js';
import type { EventSink } from './EventSink.js';
import type { OrderPool } from './OrderPool.js';

// Note: imported enum members and constants are copied into module constants: TurboFan folds a
// module's own constants, but reads an imported binding through its cell (with a TDZ check) on every use.
const EVENT_TYPE_BBO = EventType.BBO;
const EVENT_TYPE_FILL = EventType.FILL;
const EVENT_TYPE_L2_UPDATE = EventType.L2_UPDATE;
const EVENT_TYPE_MASS_CANCEL_DONE = EventType.MASS_CANCEL_DONE;
const EVENT_TYPE_REJECTED = EventType.REJECTED;
const EVENT_TYPE_SELF_TRADE_PREVENTED = EventType.SELF_TRADE_PREVENTED;
const EVENT_TYPE_SYMBOL_ADDED = EventType.SYMBOL_ADDED;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Field positions as element indexes: f64 index = byte offset / 8, u32 index = byte offset / 4.
const F_SEQ = E.SEQ / 8;
const F_TIMESTAMP = E.TIMESTAMP / 8;
const F_CORRELATION_ID = E.CORRELATION_ID / 8;
const W_TYPE_SIDE_REASON = E.TYPE / 4; // type u8 | side u8 | reason u16
const W_SYMBOL_ID = E.SYMBOL_ID / 4;
const W_SESSION_ID = E.SESSION_ID / 4;
const W_ACCOUNT_ID = E.ACCOUNT_ID / 4;
// ORDER body.
const F_ORDER_ID = E.ORDER_ID / 8;
const F_CLIENT_ORDER_ID = E.CLIENT_ORDER_ID / 8;
const F_PRICE = E.PRICE / 8;
const F_STOP_PRICE = E.STOP_PRICE / 8;
const F_QUANTITY = E.QUANTITY / 8;
const F_FILLED_QTY = E.FILLED_QTY / 8;
const F_LEAVES_QTY = E.LEAVES_QTY / 8;
const F_DISPLAY_QTY = E.DISPLAY_QTY / 8;
const F_EXPIRE_TIME = E.EXPIRE_TIME / 8;
const W_ORDER_SESSION_ID = E.ORDER_SESSION_ID / 4;
const W_TRADE_GROUP = E.TRADE_GROUP / 4;
const W_CODES = E.ORDER_TYPE / 4; // orderType u8 | timeInForce u8 | flags u8 | stpMode u8
const W_COMMAND_TYPE = E.COMMAND_TYPE / 4; // commandType u8 + three zero bytes
// FILL / SELF_TRADE_PREVENTED body.
const F_TRADE_ID = E.TRADE_ID / 8;
const W_STP_EVENT_MODE = E.STP_EVENT_MODE / 4; // stpMode u8 + 3 zero bytes, then a zero u32
const F_MATCH_PRICE = E.MATCH_PRICE / 8;
const F_MATCH_QTY = E.MATCH_QTY / 8;
const F_MAKER_ORDER_ID = E.MAKER_ORDER_ID / 8;
const F_MAKER_CLIENT_ORDER_ID = E.MAKER_CLIENT_ORDER_ID / 8;
const F_MAKER_LEAVES_QTY = E.MAKER_LEAVES_QTY / 8;
const F_TAKER_ORDER_ID = E.TAKER_ORDER_ID / 8;
const F_TAKER_CLIENT_ORDER_ID = E.TAKER_CLIENT_ORDER_ID / 8;
const F_TAKER_LEAVES_QTY = E.TAKER_LEAVES_QTY / 8;
const W_MAKER_ACCOUNT_ID = E.MAKER_ACCOUNT_ID / 4;
const W_MAKER_SESSION_ID = E.MAKER_SESSION_ID / 4;
const W_TAKER_ACCOUNT_ID = E.TAKER_ACCOUNT_ID / 4;
const W_TAKER_SESSION_ID = E.TAKER_SESSION_ID / 4;
// L2_UPDATE and BBO bodies.
const F_L2_PRICE = E.L2_PRICE / 8;
const F_L2_QTY = E.L2_QTY / 8;
const W_L2_ORDER_COUNT = E.L2_ORDER_COUNT / 4;
const F_BID_PRICE = E.BID_PRICE / 8;
const F_BID_QTY = E.BID_QTY / 8;
const F_ASK_PRICE = E.ASK_PRICE / 8;
const F_ASK_QTY = E.ASK_QTY / 8;
const F_CANCELLED_COUNT = E.CANCELLED_COUNT / 8;

const EMPTY = new ArrayBuffer(0);

/** Slots of `EventWriter.stamp`. */
const STAMP_SEQ = 0;
const STAMP_NOW = 1;
const STAMP_CORRELATION_ID = 2;

export class EventWriter {
  /** Events written since `begin()`. */
  count: number;
  private sink: EventSink | null;
  /**
   * seq of the last event, engine time and the command's correlationId, kept as raw float64 so the
   * header stores need no number-representation checks; `ids[0]` is the command's sessionId.
   */
  private readonly stamp: Float64Array;
  private readonly ids: Uint32Array;
  private readonly orders: OrderPool;
  /** The sink view the arrays below were made for. */
  private view: DataView | null;
  /** `view`'s bytes as whole 8-byte words (empty when `view` does not start 8-byte aligned). */
  private sink64: Float64Array;
  private sink32: Uint32Array;
  /** `view`'s bytes, for copying in a scratch record. */
  private bytes: Uint8Array;
  /** Largest slot offset in `view` that can be written in place (-1: none). */
  private lastOffset: number;
  /** Views the current record is written through: the sink's arrays, or the scratch record's. */
  private f64: Float64Array;
  private u32: Uint32Array;
  /** Offset in `view` the scratch record goes to, or -1 when the record was written in place. */
  private pending: number;
  private readonly scratchBytes: Uint8Array;
  private readonly scratch64: Float64Array;
  private readonly scratch32: Uint32Array;

  constructor(orders: OrderPool) {
    if (!LITTLE_ENDIAN) throw new EngineConfigError('EventWriter needs a little-endian host, got big-endian');
    this.orders = orders;
    this.count = 0;
    this.sink = null;
    this.stamp = new Float64Array(3);
    this.ids = new Uint32Array(1);
    this.view = null;
    this.sink64 = new Float64Array(EMPTY);
    this.sink32 = new Uint32Array(EMPTY);
    this.bytes = new Uint8Array(EMPTY);
    this.lastOffset = -1;
    this.f64 = this.sink64;
    this.u32 = this.sink32;
    this.pending = -1;
    this.scratch64 = new Float64Array(EVENT_SIZE / 8);
    this.scratch32 = new Uint32Array(this.scratch64.buffer);
    this.scratchBytes = new Uint8Array(this.scratch64.buffer);
  }

  /** Sequence number of the last event written. */
  get seq(): number {
    return this.stamp[STAMP_SEQ];
  }

  /** Engine time stamped in every header. */
  get now(): number {
    return this.stamp[STAMP_NOW];
  }

  set now(t: number) {
    this.stamp[STAMP_NOW] = t;
  }

  /** Sets the last event's seq (restoring an engine from a state snapshot; never while processing). */
  resumeAt(seq: number): void {
    this.stamp[STAMP_SEQ] = seq;
  }

  begin(sink: EventSink, correlationId: number, sessionId: number): void {
    this.sink = sink;
    this.stamp[STAMP_CORRELATION_ID] = correlationId;
    this.ids[0] = sessionId;
    this.count = 0;
  }

  /**
   * Claims a slot and writes the header through `f64`/`u32`; returns the record's f64 index there
   * (its u32 index is twice that). The caller writes the body and then calls `done()`.
   */
  private header(type: number, side: number, reason: number, symbolId: number, accountId: number): number {
    const sink = this.sink!;
    const o = sink.claim();
    const view = sink.view;
    if (view !== this.view) this.bind(view);
    this.count++;
    const i = (o & 7) === 0 && o >= 0 && o <= this.lastOffset ? o >> 3 : this.useScratch(o);
    const f = this.f64;
    const w = this.u32;
    const j = i << 1;
    const st = this.stamp;
    const seq = st[STAMP_SEQ] + 1;
    st[STAMP_SEQ] = seq;
    w[j + W_TYPE_SIDE_REASON] = (type & 0xff) | ((side & 0xff) << 8) | (reason << 16);
    w[j + W_SYMBOL_ID] = symbolId;
    f[i + F_SEQ] = seq;
    f[i + F_TIMESTAMP] = st[STAMP_NOW];
    f[i + F_CORRELATION_ID] = st[STAMP_CORRELATION_ID];
    w[j + W_SESSION_ID] = this.ids[0];
    w[j + W_ACCOUNT_ID] = accountId;
    return i;
  }

  /** Makes the arrays for a new sink view (the only allocation here, once per buffer). */
  private bind(view: DataView): void {
    const start = view.byteOffset;
    this.view = view;
    this.bytes = new Uint8Array(view.buffer, start, view.byteLength);
    if ((start & 7) === 0) {
      const words = view.byteLength >>> 3;
      this.sink64 = new Float64Array(view.buffer, start, words);
      this.sink32 = new Uint32Array(view.buffer, start, words * 2);
      this.lastOffset = words * 8 - EVENT_SIZE;
    } else {
      // Note: an unaligned view sends every slot through the scratch record.
      this.sink64 = new Float64Array(EMPTY);
      this.sink32 = new Uint32Array(EMPTY);
      this.lastOffset = -1;
    }
    this.f64 = this.sink64;
    this.u32 = this.sink32;
  }

  /** Routes the current record through the scratch record; checks that `o` holds a whole record. */
  private useScratch(o: number): number {
    E.checkCapacity(this.view!, o);
    this.pending = o;
    this.f64 = this.scratch64;
    this.u32 = this.scratch32;
    return 0;
  }

  /** Ends the current record: copies it from the scratch record when it was written there. */
  private done(): void {
    if (this.pending >= 0) {
      this.bytes.set(this.scratchBytes, this.pending);
      this.pending = -1;
      this.f64 = this.sink64;
      this.u32 = this.sink32;
    }
  }

  /**
   * An ORDER-body event about order slot `s` (ACCEPTED, CANCELLED, AMENDED, EXPIRED, TRIGGERED).
   * `closing` reports leavesQty 0 (CANCELLED, EXPIRED) with filledQty = quantity - leaves.
   */
  order(type: number, reason: number, s: number, symbolId: number, closing: boolean): void {
    const p = this.orders;
    const i = this.header(type, p.side[s], reason, symbolId, p.account[s]);
    const f = this.f64;
    const w = this.u32;
    const j = i << 1;
    const quantity = p.quantity[s];
    const leaves = p.leaves[s];
    f[i + F_ORDER_ID] = p.id[s];
    f[i + F_CLIENT_ORDER_ID] = p.clientId[s];
    f[i + F_PRICE] = p.price[s];
    f[i + F_STOP_PRICE] = p.stopPrice[s];
    f[i + F_QUANTITY] = quantity;
    f[i + F_FILLED_QTY] = quantity - leaves;
    f[i + F_LEAVES_QTY] = closing ? 0 : leaves;
    f[i + F_DISPLAY_QTY] = p.display[s];
    f[i + F_EXPIRE_TIME] = p.expireTime[s];
    w[j + W_ORDER_SESSION_ID] = p.session[s];
    w[j + W_TRADE_GROUP] = p.group[s];
    w[j + W_CODES] = p.type[s] | (p.tif[s] << 8) | (p.flags[s] << 16) | (p.stp[s] << 24);
    w[j + W_COMMAND_TYPE] = 0;
    this.done();
  }

  /** REJECTED for the command at `c[co]` (copies command fields as docs/matching.md section 4 says). */
  reject(c: DataView, co: number, reason: number): void {
    const type = C.readType(c, co);
    const i = this.header(
      EVENT_TYPE_REJECTED,
      C.readSide(c, co),
      reason,
      C.readSymbolId(c, co),
      C.readAccountId(c, co),
    );
    const isNew = type === C.CommandType.NEW_ORDER;
    const hasPriceQty = isNew || type === C.CommandType.AMEND || type === C.CommandType.AMEND_BY_CLIENT_ID;
    const hasOrderId = type === C.CommandType.CANCEL || type === C.CommandType.AMEND;
    const f = this.f64;
    const w = this.u32;
    const j = i << 1;
    f[i + F_ORDER_ID] = hasOrderId ? C.readOrderId(c, co) : 0;
    f[i + F_CLIENT_ORDER_ID] = C.readClientOrderId(c, co);
    f[i + F_PRICE] = hasPriceQty ? C.readPrice(c, co) : 0;
    f[i + F_STOP_PRICE] = isNew ? C.readStopPrice(c, co) : 0;
    f[i + F_QUANTITY] = hasPriceQty ? C.readQuantity(c, co) : 0;
    f[i + F_FILLED_QTY] = 0;
    f[i + F_LEAVES_QTY] = 0;
    f[i + F_DISPLAY_QTY] = isNew ? C.readDisplayQty(c, co) : 0;
    f[i + F_EXPIRE_TIME] = isNew ? C.readExpireTime(c, co) : 0;
    w[j + W_ORDER_SESSION_ID] = C.readSessionId(c, co);
    w[j + W_TRADE_GROUP] = C.readTradeGroup(c, co);
    w[j + W_CODES] =
      C.readOrderType(c, co) |
      (C.readTimeInForce(c, co) << 8) |
      (C.readFlags(c, co) << 16) |
      (C.readStpMode(c, co) << 24);
    w[j + W_COMMAND_TYPE] = type;
    this.done();
  }

  /** FILL (isFill) or SELF_TRADE_PREVENTED between maker `m` and taker `t`, leaves as now stored. */
  match(
    isFill: boolean,
    tradeIdOrMode: number,
    symbolId: number,
    price: number,
    qty: number,
    m: number,
    t: number,
  ): void {
    const p = this.orders;
    const i = this.header(
      isFill ? EVENT_TYPE_FILL : EVENT_TYPE_SELF_TRADE_PREVENTED,
      p.side[t],
      0,
      symbolId,
      0,
    );
    const f = this.f64;
    const w = this.u32;
    const j = i << 1;
    if (isFill) {
      f[i + F_TRADE_ID] = tradeIdOrMode;
    } else {
      w[j + W_STP_EVENT_MODE] = tradeIdOrMode & 0xff;
      w[j + W_STP_EVENT_MODE + 1] = 0;
    }
    f[i + F_MATCH_PRICE] = price;
    f[i + F_MATCH_QTY] = qty;
    f[i + F_MAKER_ORDER_ID] = p.id[m];
    f[i + F_MAKER_CLIENT_ORDER_ID] = p.clientId[m];
    f[i + F_MAKER_LEAVES_QTY] = p.leaves[m];
    f[i + F_TAKER_ORDER_ID] = p.id[t];
    f[i + F_TAKER_CLIENT_ORDER_ID] = p.clientId[t];
    f[i + F_TAKER_LEAVES_QTY] = p.leaves[t];
    w[j + W_MAKER_ACCOUNT_ID] = p.account[m];
    w[j + W_MAKER_SESSION_ID] = p.session[m];
    w[j + W_TAKER_ACCOUNT_ID] = p.account[t];
    w[j + W_TAKER_SESSION_ID] = p.session[t];
    this.done();
  }

  l2(symbolId: number, side: number, price: number, qty: number, count: number): void {
    const i = this.header(EVENT_TYPE_L2_UPDATE, side, 0, symbolId, 0);
    const f = this.f64;
    const w = this.u32;
    const j = i << 1;
    f[i + F_L2_PRICE] = price;
    f[i + F_L2_QTY] = qty;
    w[j + W_L2_ORDER_COUNT] = count;
    w[j + W_L2_ORDER_COUNT + 1] = 0;
    f[i + 8] = 0;
    f[i + 9] = 0;
    f[i + 10] = 0;
    f[i + 11] = 0;
    f[i + 12] = 0;
    f[i + 13] = 0;
    f[i + 14] = 0;
    f[i + 15] = 0;
    this.done();
  }

  bbo(symbolId: number, bidPrice: number, bidQty: number, askPrice: number, askQty: number): void {
    const i = this.header(EVENT_TYPE_BBO, 0, 0, symbolId, 0);
    const f = this.f64;
    f[i + F_BID_PRICE] = bidPrice;
    f[i + F_BID_QTY] = bidQty;
    f[i + F_ASK_PRICE] = askPrice;
    f[i + F_ASK_QTY] = askQty;
    f[i + 9] = 0;
    f[i + 10] = 0;
    f[i + 11] = 0;
    f[i + 12] = 0;
    f[i + 13] = 0;
    f[i + 14] = 0;
    f[i + 15] = 0;
    this.done();
  }

  massCancelDone(symbolId: number, side: number, accountId: number, cancelled: number): void {
    const i = this.header(EVENT_TYPE_MASS_CANCEL_DONE, side, 0, symbolId, accountId);
    const f = this.f64;
    f[i + F_CANCELLED_COUNT] = cancelled;
    for (let k = F_CANCELLED_COUNT + 1; k < EVENT_SIZE / 8; k++) f[i + k] = 0;
    this.done();
  }

  symbolAdded(symbolId: number, accountId: number): void {
    const i = this.header(EVENT_TYPE_SYMBOL_ADDED, 0, 0, symbolId, accountId);
    const f = this.f64;
    for (let k = E.HEADER_SIZE / 8; k < EVENT_SIZE / 8; k++) f[i + k] = 0;
    this.done();
  }
}
