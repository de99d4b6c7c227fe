/**
 * Writes the engine's events into the current command's EventSink: numbers them (per-shard `seq`),
 * stamps engine time and echoes the command's correlationId and sessionId in every header.
 *
 * Owned by one MatchingEngine; `begin()` is called at the start of every command. Each method claims
 * one slot and writes all EVENT_SIZE bytes (docs/matching.md section 4). No allocation.
 * Thread-safety: single-threaded (the shard's thread).
 */
import * as C from '../records/CommandRecord.js';
import * as E from '../records/EventRecord.js';
import { EventType } from '../records/EventRecord.js';
import type { EventSink } from './EventSink.js';
import type { OrderPool } from './OrderPool.js';

export class EventWriter {
  /** Sequence number of the last event written. */
  seq: number;
  /** Engine time stamped in every header. */
  now: number;
  /** Events written since `begin()`. */
  count: number;
  private sink: EventSink | null;
  private correlationId: number;
  private sessionId: number;
  private readonly orders: OrderPool;

  constructor(orders: OrderPool) {
    this.orders = orders;
    this.seq = 0;
    this.now = 0;
    this.count = 0;
    this.sink = null;
    this.correlationId = 0;
    this.sessionId = 0;
  }

  begin(sink: EventSink, correlationId: number, sessionId: number): void {
    this.sink = sink;
    this.correlationId = correlationId;
    this.sessionId = sessionId;
    this.count = 0;
  }

  /** Claims a slot and writes the header; returns the slot offset in `this.view`. */
  private header(type: number, side: number, reason: number, symbolId: number, accountId: number): number {
    const sink = this.sink!;
    const o = sink.claim();
    this.count++;
    E.writeHeader(
      sink.view,
      o,
      type,
      side,
      reason,
      symbolId,
      ++this.seq,
      this.now,
      this.correlationId,
      this.sessionId,
      accountId,
    );
    return o;
  }

  /**
   * An ORDER-body event about order slot `s` (ACCEPTED, CANCELLED, AMENDED, EXPIRED, TRIGGERED).
   * `closing` reports leavesQty 0 (CANCELLED, EXPIRED) with filledQty = quantity - leaves.
   */
  order(type: number, reason: number, s: number, symbolId: number, closing: boolean): void {
    const p = this.orders;
    const o = this.header(type, p.side[s], reason, symbolId, p.account[s]);
    const leaves = p.leaves[s];
    E.writeOrderBody(
      this.sink!.view,
      o,
      p.id[s],
      p.clientId[s],
      p.price[s],
      p.stopPrice[s],
      p.quantity[s],
      p.quantity[s] - leaves,
      closing ? 0 : leaves,
      p.display[s],
      p.expireTime[s],
      p.session[s],
      p.group[s],
      p.type[s],
      p.tif[s],
      p.flags[s],
      p.stp[s],
      0,
    );
  }

  /** REJECTED for the command at `c[co]` (copies command fields as docs/matching.md section 4 says). */
  reject(c: DataView, co: number, reason: number): void {
    const type = C.readType(c, co);
    const o = this.header(
      EventType.REJECTED,
      C.readSide(c, co),
      reason,
      C.readSymbolId(c, co),
      C.readAccountId(c, co),
    );
    const isNew = type === C.CommandType.NEW_ORDER;
    const hasPriceQty = isNew || type === C.CommandType.AMEND;
    const hasOrderId = type === C.CommandType.CANCEL || type === C.CommandType.AMEND;
    E.writeOrderBody(
      this.sink!.view,
      o,
      hasOrderId ? C.readOrderId(c, co) : 0,
      C.readClientOrderId(c, co),
      hasPriceQty ? C.readPrice(c, co) : 0,
      isNew ? C.readStopPrice(c, co) : 0,
      hasPriceQty ? C.readQuantity(c, co) : 0,
      0,
      0,
      isNew ? C.readDisplayQty(c, co) : 0,
      isNew ? C.readExpireTime(c, co) : 0,
      C.readSessionId(c, co),
      C.readTradeGroup(c, co),
      C.readOrderType(c, co),
      C.readTimeInForce(c, co),
      C.readFlags(c, co),
      C.readStpMode(c, co),
      type,
    );
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
    const o = this.header(
      isFill ? EventType.FILL : EventType.SELF_TRADE_PREVENTED,
      p.side[t],
      0,
      symbolId,
      0,
    );
    E.writeMatchBody(
      this.sink!.view,
      o,
      isFill,
      tradeIdOrMode,
      price,
      qty,
      p.id[m],
      p.clientId[m],
      p.leaves[m],
      p.id[t],
      p.clientId[t],
      p.leaves[t],
      p.account[m],
      p.session[m],
      p.account[t],
      p.session[t],
    );
  }

  l2(symbolId: number, side: number, price: number, qty: number, count: number): void {
    const o = this.header(EventType.L2_UPDATE, side, 0, symbolId, 0);
    E.writeL2Body(this.sink!.view, o, price, qty, count);
  }

  bbo(symbolId: number, bidPrice: number, bidQty: number, askPrice: number, askQty: number): void {
    const o = this.header(EventType.BBO, 0, 0, symbolId, 0);
    E.writeBboBody(this.sink!.view, o, bidPrice, bidQty, askPrice, askQty);
  }

  massCancelDone(symbolId: number, side: number, accountId: number, cancelled: number): void {
    const o = this.header(EventType.MASS_CANCEL_DONE, side, 0, symbolId, accountId);
    const v = this.sink!.view;
    v.setFloat64(o + E.CANCELLED_COUNT, cancelled, true);
    E.zeroFrom(v, o, E.CANCELLED_COUNT + 8);
  }

  symbolAdded(symbolId: number, accountId: number): void {
    const o = this.header(EventType.SYMBOL_ADDED, 0, 0, symbolId, accountId);
    E.zeroFrom(this.sink!.view, o, E.HEADER_SIZE);
  }
}
