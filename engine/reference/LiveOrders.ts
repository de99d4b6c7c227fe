/**
 * The open orders of a shard as seen from its event stream: ACCEPTED adds an order, FILL and
 * SELF_TRADE_PREVENTED update leaves, AMENDED updates price and quantity, TRIGGERED turns a stop
 * into a working order, CANCELLED/EXPIRED and the last FILL remove it. Also the last trade price of
 * each symbol and how many FILLs the latest observed command produced.
 *
 * Used by `CommandGenerator` to aim cancels and amends at live orders (it observes the events of a
 * model engine) and by tests. Allocates per order (tests and bench setup only).
 * Thread-safety: single-threaded.
 */
import * as E from '../records/EventRecord.js';
import { EVENT_SIZE, EventType } from '../records/EventRecord.js';
import { OrderType, StpMode } from '../records/OrderCodes.js';
import type { Prng } from './Prng.js';

export interface LiveOrder {
  readonly id: number;
  readonly symbolId: number;
  readonly accountId: number;
  readonly side: number;
  readonly orderType: number;
  readonly timeInForce: number;
  readonly clientOrderId: number;
  readonly flags: number;
  price: number;
  stopPrice: number;
  quantity: number;
  filledQty: number;
  leavesQty: number;
  /** Untriggered STOP / STOP_LIMIT. */
  isStop: boolean;
}

export class LiveOrders {
  readonly byId = new Map<number, LiveOrder>();
  /** Same orders in an array, for O(1) random choice (swap-remove). */
  private readonly list: LiveOrder[] = [];
  private readonly index = new Map<number, number>();
  /** The most recently closed order ids (a small ring), to aim commands at dead orders. */
  readonly closed: number[] = [];
  private closedNext = 0;
  readonly lastTradePrice = new Map<number, number>();
  /** FILL events of the latest `observe()` call. */
  fills = 0;
  /** REJECTED events of the latest `observe()` call. */
  rejects = 0;
  /** Total events and REJECTED events observed. */
  events = 0;
  totalRejects = 0;

  get size(): number {
    return this.list.length;
  }

  /** A uniformly chosen live order, or undefined when there is none. */
  random(rng: Prng): LiveOrder | undefined {
    return this.list.length === 0 ? undefined : this.list[Math.floor(rng.float() * this.list.length)];
  }

  /** The `i`-th live order (in no particular order). */
  at(i: number): LiveOrder {
    return this.list[i];
  }

  /** Folds `count` events at `view[off ..]` (back to back) into the state. */
  observe(view: DataView, off: number, count: number): void {
    this.fills = 0;
    this.rejects = 0;
    this.events += count;
    for (let i = 0; i < count; i++) this.one(view, off + i * EVENT_SIZE);
  }

  private one(v: DataView, o: number): void {
    const f = (field: number) => E.readF64(v, o, field);
    switch (E.readType(v, o)) {
      case EventType.ACCEPTED: {
        const type = E.readU8(v, o, E.ORDER_TYPE);
        this.add({
          id: f(E.ORDER_ID),
          symbolId: E.readSymbolId(v, o),
          accountId: E.readAccountId(v, o),
          side: E.readSide(v, o),
          orderType: type,
          timeInForce: E.readU8(v, o, E.TIME_IN_FORCE),
          clientOrderId: f(E.CLIENT_ORDER_ID),
          flags: E.readU8(v, o, E.FLAGS),
          price: f(E.PRICE),
          stopPrice: f(E.STOP_PRICE),
          quantity: f(E.QUANTITY),
          filledQty: 0,
          leavesQty: f(E.LEAVES_QTY),
          isStop: type === OrderType.STOP || type === OrderType.STOP_LIMIT,
        });
        break;
      }
      case EventType.REJECTED:
        this.rejects++;
        this.totalRejects++;
        break;
      case EventType.TRIGGERED: {
        const x = this.byId.get(f(E.ORDER_ID));
        if (x !== undefined) x.isStop = false;
        break;
      }
      case EventType.AMENDED: {
        const x = this.byId.get(f(E.ORDER_ID));
        if (x !== undefined) {
          x.price = f(E.PRICE);
          x.quantity = f(E.QUANTITY);
          x.leavesQty = f(E.LEAVES_QTY);
        }
        break;
      }
      case EventType.FILL: {
        this.fills++;
        const q = f(E.MATCH_QTY);
        this.lastTradePrice.set(E.readSymbolId(v, o), f(E.MATCH_PRICE));
        this.fill(f(E.MAKER_ORDER_ID), q, f(E.MAKER_LEAVES_QTY));
        this.fill(f(E.TAKER_ORDER_ID), q, f(E.TAKER_LEAVES_QTY));
        break;
      }
      case EventType.SELF_TRADE_PREVENTED: {
        if (E.readU8(v, o, E.STP_EVENT_MODE) === StpMode.DECREMENT) {
          const q = f(E.MATCH_QTY);
          this.decrement(f(E.MAKER_ORDER_ID), q, f(E.MAKER_LEAVES_QTY));
          this.decrement(f(E.TAKER_ORDER_ID), q, f(E.TAKER_LEAVES_QTY));
        }
        break;
      }
      case EventType.CANCELLED:
      case EventType.EXPIRED:
        this.remove(f(E.ORDER_ID));
        break;
    }
  }

  private fill(id: number, q: number, leaves: number): void {
    const x = this.byId.get(id);
    if (x === undefined) return;
    x.filledQty += q;
    x.leavesQty = leaves;
    if (leaves === 0) this.remove(id);
  }

  private decrement(id: number, q: number, leaves: number): void {
    const x = this.byId.get(id);
    if (x === undefined) return;
    x.quantity -= q;
    x.leavesQty = leaves;
  }

  private add(x: LiveOrder): void {
    this.byId.set(x.id, x);
    this.index.set(x.id, this.list.length);
    this.list.push(x);
  }

  private remove(id: number): void {
    const i = this.index.get(id);
    if (i === undefined) return;
    const last = this.list.pop()!;
    if (last.id !== id) {
      this.list[i] = last;
      this.index.set(last.id, i);
    }
    this.index.delete(id);
    this.byId.delete(id);
    if (this.closed.length < 64) this.closed.push(id);
    else this.closed[this.closedNext++ & 63] = id;
  }
}
