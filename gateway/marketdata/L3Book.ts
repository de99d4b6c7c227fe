/**
 * L3Book: the gateway's order-by-order mirror of one symbol's visible book, turning the engine's
 * order events into ITCH-style L3 events (Add, Execute, Cancel, Replace) without ever exposing an
 * account or session.
 *
 * Rules (docs/marketdata.md, "L3"):
 * - An incoming order (new LIMIT, triggered STOP_LIMIT, or an amend that changes the price) is
 *   "pending" while it trades as a taker; it is settled — Add at the back of its level with its
 *   visible quantity, or dropped if nothing rests — by the next event of its symbol that is not part
 *   of its taker phase (its L2_UPDATE/BBO, or the next order event). So the L3 book never crosses.
 * - A maker fill is Execute (quantity = lots traded, leaves_quantity = visible lots left; 0 = the
 *   order left the book); an iceberg whose visible slice is used up is refilled: Execute with
 *   leaves 0, then Add of the same order id at the back of the level with the new slice.
 * - CANCELLED/EXPIRED of a resting order: Cancel (all visible lots, leaves 0). An amend that keeps
 *   priority and shrinks the visible part: Cancel with leaves_quantity > 0 (partial, keeps place).
 *   An amend at the same price that loses priority: Replace. A price change: Cancel, then pending.
 * Summed per price level, the visible quantities and order counts equal the L2 book exactly (the
 * late-join test checks it).
 *
 * Caller: MarketDataHub, per event, main thread. `emit` receives a reused OrderEventFields (valid
 * during the call). Thread-safety: main thread only.
 */

import type { BookOrderColumns } from '../../schema/codec/gateway-encoder.js';
import { OrderEventFields } from '../../schema/codec/gateway-encoder.js';
import { OrderEventKind } from '../../schema/generated/exchange/v1/order-event-kind.js';

export interface L3Order {
  orderId: number;
  side: number;
  price: number;
  quantity: number;
  leaves: number;
  visible: number;
  display: number;
  /** Time priority: larger = later in its level. */
  stamp: number;
}

/** Order records kept for reuse per book. */
const MAX_FREE = 1024;

export class L3Book {
  readonly symbolId: number;
  readonly orders = new Map<number, L3Order>();
  private pending: L3Order | null = null;
  /** Records of orders that left the book, reused by `order()` (no allocation per order). */
  private readonly free: L3Order[] = [];
  private stamp = 0;
  private readonly fields = new OrderEventFields();
  private readonly emit: (fields: OrderEventFields) => void;

  constructor(symbolId: number, emit: (fields: OrderEventFields) => void) {
    this.symbolId = symbolId;
    this.emit = emit;
    this.fields.symbolId = symbolId;
  }

  /** A new LIMIT order (other types never rest directly) starts its taker phase. */
  incoming(
    orderId: number,
    side: number,
    price: number,
    quantity: number,
    leaves: number,
    display: number,
    ts: number,
  ): void {
    this.settle(ts);
    this.pending = this.order(orderId, side, price, quantity, leaves, display);
  }

  /** Settles the pending order: it rests (Add) if it has lots left, else it is forgotten. */
  settle(ts: number): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    if (p.leaves <= 0) {
      this.release(p);
      return;
    }
    p.visible = p.display > 0 ? Math.min(p.display, p.leaves) : p.leaves;
    p.stamp = ++this.stamp;
    this.orders.set(p.orderId, p);
    this.send(OrderEventKind.Add, p, p.price, p.visible, 0, ts);
  }

  fill(
    makerId: number,
    takerId: number,
    price: number,
    qty: number,
    makerLeaves: number,
    takerLeaves: number,
    tradeId: number,
    ts: number,
  ): void {
    const p = this.pending;
    if (p !== null && p.orderId === takerId) p.leaves = takerLeaves;
    const m = this.orders.get(makerId);
    if (m === undefined) return;
    m.visible = m.visible > qty ? m.visible - qty : 0;
    m.leaves = makerLeaves;
    if (makerLeaves === 0) m.visible = 0;
    this.send(OrderEventKind.Execute, m, price, qty, tradeId, ts);
    if (makerLeaves === 0) {
      this.orders.delete(makerId);
      this.release(m);
    } else if (m.visible === 0) {
      // Iceberg refill: the used-up slice left the book (Execute, leaves 0); a new slice joins the
      // back of the level (Add, same order id).
      m.visible = Math.min(m.display, m.leaves);
      m.stamp = ++this.stamp;
      this.send(OrderEventKind.Add, m, m.price, m.visible, 0, ts);
    }
  }

  /** CANCELLED or EXPIRED. */
  removed(orderId: number, ts: number): void {
    const p = this.pending;
    if (p !== null && p.orderId === orderId) {
      this.pending = null;
      this.release(p);
      return;
    }
    const m = this.orders.get(orderId);
    if (m === undefined) return;
    const visible = m.visible;
    m.visible = 0;
    this.orders.delete(orderId);
    this.send(OrderEventKind.Cancel, m, m.price, visible, 0, ts);
    this.release(m);
  }

  amended(
    orderId: number,
    price: number,
    quantity: number,
    leaves: number,
    display: number,
    ts: number,
  ): void {
    this.settle(ts);
    const m = this.orders.get(orderId);
    // Note: an amended untriggered stop is not in the visible book.
    if (m === undefined) return;
    if (price === m.price && quantity <= m.quantity) {
      m.quantity = quantity;
      m.leaves = leaves;
      const visible = Math.min(m.visible, leaves);
      if (visible < m.visible) {
        const removed = m.visible - visible;
        m.visible = visible;
        this.send(OrderEventKind.Cancel, m, m.price, removed, 0, ts);
      }
      return;
    }
    if (price === m.price) {
      m.quantity = quantity;
      m.leaves = leaves;
      m.display = display;
      m.visible = display > 0 ? Math.min(display, leaves) : leaves;
      m.stamp = ++this.stamp;
      this.send(OrderEventKind.Replace, m, m.price, m.visible, 0, ts);
      return;
    }
    const visible = m.visible;
    m.visible = 0;
    this.orders.delete(orderId);
    this.send(OrderEventKind.Cancel, m, m.price, visible, 0, ts);
    // The order left the book and comes back as the pending one at its new price (the record is
    // released first, so `order()` hands the same one back while the free list has room).
    const side = m.side;
    this.release(m);
    this.pending = this.order(orderId, side, price, quantity, leaves, display);
  }

  /**
   * Crash recovery: adds a resting order rebuilt from the journal, at the back of its level (call in
   * the book's time-priority order). Publishes nothing; the hub's `resetSeq` starts a new snapshot.
   */
  seed(
    orderId: number,
    side: number,
    price: number,
    quantity: number,
    leaves: number,
    visible: number,
    display: number,
  ): void {
    this.orders.set(orderId, {
      orderId,
      side,
      price,
      quantity,
      leaves,
      visible,
      display,
      stamp: ++this.stamp,
    });
  }

  /** Fills `cols` with every resting order: bids best first, then asks best first, time priority within a price. */
  snapshot(cols: BookOrderColumns): void {
    const bids: L3Order[] = [];
    const asks: L3Order[] = [];
    for (const o of this.orders.values()) (o.side === 1 ? bids : asks).push(o);
    bids.sort((a, b) => b.price - a.price || a.stamp - b.stamp);
    asks.sort((a, b) => a.price - b.price || a.stamp - b.stamp);
    let n = 0;
    for (const list of [bids, asks]) {
      for (const o of list) {
        cols.orderId[n] = o.orderId;
        cols.price[n] = o.price;
        cols.quantity[n] = o.visible;
        cols.side[n] = o.side;
        n++;
      }
    }
    cols.count = n;
  }

  get size(): number {
    return this.orders.size;
  }

  /** A new (or reused) order record, not yet on the book. */
  private order(
    orderId: number,
    side: number,
    price: number,
    quantity: number,
    leaves: number,
    display: number,
  ): L3Order {
    const o = this.free.pop();
    if (o === undefined) return { orderId, side, price, quantity, leaves, visible: 0, display, stamp: 0 };
    o.orderId = orderId;
    o.side = side;
    o.price = price;
    o.quantity = quantity;
    o.leaves = leaves;
    o.visible = 0;
    o.display = display;
    o.stamp = 0;
    return o;
  }

  /** Keeps an order record that left the book for reuse (at most MAX_FREE). */
  private release(o: L3Order): void {
    if (this.free.length < MAX_FREE) this.free.push(o);
  }

  private send(kind: number, o: L3Order, price: number, quantity: number, tradeId: number, ts: number): void {
    const f = this.fields;
    f.kind = kind;
    f.orderId = o.orderId;
    f.side = o.side;
    f.price = price;
    f.quantity = quantity;
    f.leavesQuantity = o.visible;
    f.tradeId = tradeId;
    f.timestampUs = ts;
    this.emit(f);
  }
}
