/**
 * The gateway's view of every order: latest state, fills, by order id and by account, kept up to
 * date from the shards' event streams.
 *
 * Fed with every event of every shard (`apply()`), in shard sequence order. It answers the REST API
 * (an order, an account's orders, an order's trades) and can serve WebSocket sessions the same way.
 * Rejected commands create nothing (they have no order id).
 *
 * Retention policy (bounded memory; PostgreSQL will serve history):
 *  - every open order is kept (New, PartiallyFilled, PendingTrigger); their number is bounded by the
 *    shards' order pools (`maxOrders` per shard);
 *  - of closed orders (Filled, Canceled, Expired), each account keeps its last
 *    `maxClosedPerAccount` (default 1000) in closing order, and the whole store at most
 *    `maxClosedTotal` (default 100 000); the oldest closed ones are evicted first. An evicted order
 *    is forgotten: GET answers 404 for it, like an unknown id;
 *  - an order keeps its first `maxFillsPerOrder` fills (default 1000); `fillCount` counts them all.
 *
 * Quantities and prices are engine integers (lots, ticks); `notional` is the sum of fill
 * price x quantity in ticks x lots, exact while it stays below 2^53.
 * Thread-safety: main thread only.
 */
import * as E from '../../engine/records/EventRecord.js';
import { OrderType, StpMode } from '../../engine/records/OrderCodes.js';
import { isClosedStatus, OrderStatus } from './OrderVocabulary.js';

const { ACCEPTED, FILL, CANCELLED, EXPIRED, AMENDED, TRIGGERED, SELF_TRADE_PREVENTED } = E.EventType;

/** Which side of a trade an order was on. */
export const Liquidity = { MAKER: 1, TAKER: 2 } as const;

export interface Fill {
  readonly tradeId: number;
  /** Ticks. */
  readonly price: number;
  /** Lots. */
  readonly quantity: number;
  readonly liquidity: number;
  /** Engine time of the trade, microseconds since the epoch. */
  readonly timestamp: number;
}

export class OrderRecord {
  readonly orderId: number;
  readonly clientOrderId: number;
  readonly accountId: number;
  readonly sessionId: number;
  readonly symbolId: number;
  readonly side: number;
  readonly orderType: number;
  readonly timeInForce: number;
  readonly flags: number;
  readonly stpMode: number;
  readonly stopPrice: number;
  readonly expireTime: number;
  price: number;
  quantity: number;
  filledQty: number;
  leavesQty: number;
  displayQty: number;
  status: number;
  /** Reason of the Canceled / Expired event (engine/ResultCodes.ts), 0 otherwise. */
  reason: number;
  /** Sum of fill price x quantity (ticks x lots). */
  notional: number;
  lastPrice: number;
  lastQty: number;
  triggered: boolean;
  /** Microseconds since the epoch (engine time of the accepting command / of the latest change). */
  readonly createdAt: number;
  updatedAt: number;
  /** Position in the store (ascending in acceptance order as seen by the gateway); the list cursor. */
  readonly seq: number;
  readonly fills: Fill[];
  fillCount: number;
  evicted: boolean;

  constructor(v: DataView, o: number, seq: number) {
    this.orderId = E.readF64(v, o, E.ORDER_ID);
    this.clientOrderId = E.readF64(v, o, E.CLIENT_ORDER_ID);
    this.accountId = E.readAccountId(v, o);
    this.sessionId = E.readU32(v, o, E.ORDER_SESSION_ID);
    this.symbolId = E.readSymbolId(v, o);
    this.side = E.readSide(v, o);
    this.orderType = E.readU8(v, o, E.ORDER_TYPE);
    this.timeInForce = E.readU8(v, o, E.TIME_IN_FORCE);
    this.flags = E.readU8(v, o, E.FLAGS);
    this.stpMode = E.readU8(v, o, E.STP_MODE);
    this.stopPrice = E.readF64(v, o, E.STOP_PRICE);
    this.expireTime = E.readF64(v, o, E.EXPIRE_TIME);
    this.price = E.readF64(v, o, E.PRICE);
    this.quantity = E.readF64(v, o, E.QUANTITY);
    this.filledQty = E.readF64(v, o, E.FILLED_QTY);
    this.leavesQty = E.readF64(v, o, E.LEAVES_QTY);
    this.displayQty = E.readF64(v, o, E.DISPLAY_QTY);
    const stop = this.orderType === OrderType.STOP || this.orderType === OrderType.STOP_LIMIT;
    // Note: an ACCEPTED event has filledQty 0, except the ones recovery seeding synthesises for
    // orders that traded before a restart (gateway/orders/RecoveredOrders.ts).
    this.status = stop
      ? OrderStatus.PENDING_TRIGGER
      : this.filledQty > 0
        ? OrderStatus.PARTIALLY_FILLED
        : OrderStatus.NEW;
    this.reason = 0;
    this.notional = 0;
    this.lastPrice = 0;
    this.lastQty = 0;
    this.triggered = false;
    this.createdAt = E.readTimestamp(v, o);
    this.updatedAt = this.createdAt;
    this.seq = seq;
    this.fills = [];
    this.fillCount = 0;
    this.evicted = false;
  }

  get open(): boolean {
    return !isClosedStatus(this.status);
  }
}

export interface OrderStoreOptions {
  readonly maxClosedPerAccount?: number;
  readonly maxClosedTotal?: number;
  readonly maxFillsPerOrder?: number;
}

/** Filter of `list()`: statuses as a bit mask of `1 << status` (0 = any), symbol 0 = any, side 0 = any. */
export interface OrderFilter {
  readonly statusMask: number;
  readonly symbolId: number;
  readonly side: number;
}

export interface OrderPage {
  readonly orders: OrderRecord[];
  /** Pass as `beforeSeq` for the next (older) page; 0 when this page is the last. */
  readonly nextSeq: number;
}

/** Status mask of the open statuses. */
export const OPEN_MASK =
  (1 << OrderStatus.NEW) | (1 << OrderStatus.PARTIALLY_FILLED) | (1 << OrderStatus.PENDING_TRIGGER);
/** Status mask of the closed statuses. */
export const CLOSED_MASK =
  (1 << OrderStatus.FILLED) | (1 << OrderStatus.CANCELED) | (1 << OrderStatus.EXPIRED);

/** A FIFO of records: an array and a head index, compacted as it drains. */
class RecordQueue {
  items: OrderRecord[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(r: OrderRecord): void {
    this.items.push(r);
  }

  /** The oldest record still in the store, removed from the queue; undefined when none is left. */
  shiftLive(): OrderRecord | undefined {
    while (this.head < this.items.length) {
      const r = this.items[this.head++];
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (!r.evicted) return r;
    }
    return undefined;
  }

  /** Drops evicted records when they outnumber `live` (records evicted through another queue). */
  compactIfStale(live: number): void {
    if (this.length > 2 * live + 64) {
      this.items = this.items.slice(this.head).filter((r) => !r.evicted);
      this.head = 0;
    }
  }
}

class AccountOrders {
  /** Every record of the account still in the store or evicted but not yet compacted, by seq. */
  entries: OrderRecord[] = [];
  dead = 0;
  readonly closed = new RecordQueue();
  closedLive = 0;
}

export class OrderStore {
  private readonly byId = new Map<number, OrderRecord>();
  private readonly accounts = new Map<number, AccountOrders>();
  private readonly closed = new RecordQueue();
  private closedLive = 0;
  private nextSeq = 1;
  private evictedTotal = 0;
  readonly maxClosedPerAccount: number;
  readonly maxClosedTotal: number;
  readonly maxFillsPerOrder: number;

  constructor(options: OrderStoreOptions = {}) {
    this.maxClosedPerAccount = positive('maxClosedPerAccount', options.maxClosedPerAccount ?? 1000);
    this.maxClosedTotal = positive('maxClosedTotal', options.maxClosedTotal ?? 100_000);
    this.maxFillsPerOrder = positive('maxFillsPerOrder', options.maxFillsPerOrder ?? 1000);
  }

  /** Orders held (open + closed). */
  get size(): number {
    return this.byId.size;
  }

  get openCount(): number {
    return this.byId.size - this.closedLive;
  }

  get closedCount(): number {
    return this.closedLive;
  }

  /** Closed orders forgotten so far. */
  get evicted(): number {
    return this.evictedTotal;
  }

  get(orderId: number): OrderRecord | undefined {
    return this.byId.get(orderId);
  }

  /** The order if it exists and belongs to `accountId`; undefined otherwise (no difference shown). */
  getOwned(accountId: number, orderId: number): OrderRecord | undefined {
    const r = this.byId.get(orderId);
    return r !== undefined && r.accountId === accountId ? r : undefined;
  }

  /** Newest first: the account's orders with seq < `beforeSeq` (0 = from the newest), filtered. */
  list(accountId: number, filter: OrderFilter, limit: number, beforeSeq = 0): OrderPage {
    const acc = this.accounts.get(accountId);
    const orders: OrderRecord[] = [];
    if (acc === undefined) return { orders, nextSeq: 0 };
    const entries = acc.entries;
    let i = beforeSeq > 0 ? lowerBound(entries, beforeSeq) - 1 : entries.length - 1;
    for (; i >= 0; i--) {
      const r = entries[i];
      if (r.evicted) continue;
      if (filter.statusMask !== 0 && (filter.statusMask & (1 << r.status)) === 0) continue;
      if (filter.symbolId !== 0 && r.symbolId !== filter.symbolId) continue;
      if (filter.side !== 0 && r.side !== filter.side) continue;
      if (orders.length === limit) return { orders, nextSeq: orders[orders.length - 1].seq };
      orders.push(r);
    }
    return { orders, nextSeq: 0 };
  }

  /** Applies one event; events that do not concern orders are ignored. */
  apply(v: DataView, o: number): void {
    switch (E.readType(v, o)) {
      case ACCEPTED:
        this.accepted(v, o);
        break;
      case FILL:
        this.fill(v, o);
        break;
      case CANCELLED:
        this.finish(v, o, OrderStatus.CANCELED);
        break;
      case EXPIRED:
        this.finish(v, o, OrderStatus.EXPIRED);
        break;
      case AMENDED:
        this.amended(v, o);
        break;
      case TRIGGERED:
        this.triggered(v, o);
        break;
      case SELF_TRADE_PREVENTED:
        this.selfTradePrevented(v, o);
        break;
      default:
        break;
    }
  }

  private accepted(v: DataView, o: number): void {
    const id = E.readF64(v, o, E.ORDER_ID);
    if (this.byId.has(id)) return;
    const r = new OrderRecord(v, o, this.nextSeq++);
    this.byId.set(id, r);
    let acc = this.accounts.get(r.accountId);
    if (acc === undefined) {
      acc = new AccountOrders();
      this.accounts.set(r.accountId, acc);
    }
    acc.entries.push(r);
  }

  private fill(v: DataView, o: number): void {
    const price = E.readF64(v, o, E.MATCH_PRICE);
    const qty = E.readF64(v, o, E.MATCH_QTY);
    const tradeId = E.readF64(v, o, E.TRADE_ID);
    const ts = E.readTimestamp(v, o);
    const maker = this.byId.get(E.readF64(v, o, E.MAKER_ORDER_ID));
    if (maker !== undefined) {
      this.filled(maker, tradeId, price, qty, E.readF64(v, o, E.MAKER_LEAVES_QTY), Liquidity.MAKER, ts);
    }
    const taker = this.byId.get(E.readF64(v, o, E.TAKER_ORDER_ID));
    if (taker !== undefined) {
      this.filled(taker, tradeId, price, qty, E.readF64(v, o, E.TAKER_LEAVES_QTY), Liquidity.TAKER, ts);
    }
  }

  private filled(
    r: OrderRecord,
    tradeId: number,
    price: number,
    qty: number,
    leaves: number,
    liquidity: number,
    ts: number,
  ): void {
    r.filledQty += qty;
    r.leavesQty = leaves;
    r.notional += price * qty;
    r.lastPrice = price;
    r.lastQty = qty;
    r.updatedAt = ts;
    r.fillCount++;
    if (r.fills.length < this.maxFillsPerOrder)
      r.fills.push({ tradeId, price, quantity: qty, liquidity, timestamp: ts });
    if (leaves === 0) this.close(r, OrderStatus.FILLED, 0);
    else r.status = OrderStatus.PARTIALLY_FILLED;
  }

  private finish(v: DataView, o: number, status: number): void {
    const r = this.byId.get(E.readF64(v, o, E.ORDER_ID));
    if (r === undefined || !r.open) return;
    r.quantity = E.readF64(v, o, E.QUANTITY);
    r.filledQty = E.readF64(v, o, E.FILLED_QTY);
    r.leavesQty = 0;
    r.updatedAt = E.readTimestamp(v, o);
    this.close(r, status, E.readReason(v, o));
  }

  private amended(v: DataView, o: number): void {
    const r = this.byId.get(E.readF64(v, o, E.ORDER_ID));
    if (r === undefined || !r.open) return;
    r.price = E.readF64(v, o, E.PRICE);
    r.quantity = E.readF64(v, o, E.QUANTITY);
    r.filledQty = E.readF64(v, o, E.FILLED_QTY);
    r.leavesQty = E.readF64(v, o, E.LEAVES_QTY);
    r.displayQty = E.readF64(v, o, E.DISPLAY_QTY);
    r.updatedAt = E.readTimestamp(v, o);
  }

  private triggered(v: DataView, o: number): void {
    const r = this.byId.get(E.readF64(v, o, E.ORDER_ID));
    if (r === undefined || !r.open) return;
    r.triggered = true;
    r.status = r.filledQty > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
    r.updatedAt = E.readTimestamp(v, o);
  }

  /** DECREMENT reduces both orders' quantity (section 6.3); other modes are followed by CANCELLED. */
  private selfTradePrevented(v: DataView, o: number): void {
    if (E.readU8(v, o, E.STP_EVENT_MODE) !== StpMode.DECREMENT) return;
    const ts = E.readTimestamp(v, o);
    const maker = this.byId.get(E.readF64(v, o, E.MAKER_ORDER_ID));
    const taker = this.byId.get(E.readF64(v, o, E.TAKER_ORDER_ID));
    if (maker?.open) decrement(maker, E.readF64(v, o, E.MAKER_LEAVES_QTY), ts);
    if (taker?.open) decrement(taker, E.readF64(v, o, E.TAKER_LEAVES_QTY), ts);
  }

  private close(r: OrderRecord, status: number, reason: number): void {
    r.status = status;
    r.reason = reason;
    const acc = this.accounts.get(r.accountId)!;
    acc.closed.push(r);
    acc.closedLive++;
    this.closed.push(r);
    this.closedLive++;
    if (acc.closedLive > this.maxClosedPerAccount) {
      const old = acc.closed.shiftLive();
      if (old !== undefined) this.evict(old);
    }
    if (this.closedLive > this.maxClosedTotal) {
      const old = this.closed.shiftLive();
      if (old !== undefined) this.evict(old);
    }
    this.closed.compactIfStale(this.closedLive);
  }

  private evict(r: OrderRecord): void {
    r.evicted = true;
    this.byId.delete(r.orderId);
    this.closedLive--;
    this.evictedTotal++;
    const acc = this.accounts.get(r.accountId)!;
    acc.closedLive--;
    acc.dead++;
    acc.closed.compactIfStale(acc.closedLive);
    if (acc.dead > 64 && acc.dead * 2 > acc.entries.length) {
      acc.entries = acc.entries.filter((e) => !e.evicted);
      acc.dead = 0;
    }
  }
}

function decrement(r: OrderRecord, leaves: number, ts: number): void {
  r.leavesQty = leaves;
  r.quantity = r.filledQty + leaves;
  r.updatedAt = ts;
}

/** First index whose seq >= `seq` (entries ascend by seq). */
function lowerBound(entries: readonly OrderRecord[], seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`OrderStore ${name} must be an integer >= 1, got ${v}`);
  return v;
}
