/**
 * L2Book: the gateway's exact mirror of one symbol's aggregated book (price level -> displayed
 * quantity and order count), in integer ticks and lots, kept from the engine's L2_UPDATE events.
 *
 * Each side is three parallel typed-array columns (price, quantity, orderCount) sorted best first
 * (bids descending, asks ascending); a level is found by binary search and inserted/removed with
 * copyWithin, so an update allocates nothing unless a side outgrows its capacity (then the columns
 * double once). Books have hundreds of levels, not millions: O(levels) moves are cheaper than a tree.
 *
 * Callers: MarketDataHub (applies conflated changes at the end of a dispatcher turn, serves
 * snapshots and the checksum), the REST book endpoint, and crash recovery (`reset`/`seed`).
 * Thread-safety: main thread only; not re-entrant.
 */
import { MarketDataError } from './MarketDataError.js';

/** Book side codes, as in the engine's event records (engine/records/OrderCodes.ts). */
export const BID = 1;
export const ASK = 2;

export class BookSide {
  count = 0;
  price: Float64Array;
  quantity: Float64Array;
  orderCount: Uint32Array;
  /** true for bids (best = highest price first). */
  readonly descending: boolean;

  constructor(descending: boolean, capacity = 64) {
    this.descending = descending;
    this.price = new Float64Array(capacity);
    this.quantity = new Float64Array(capacity);
    this.orderCount = new Uint32Array(capacity);
  }

  /** Index of `price`, or -(insertion point) - 1 when absent. */
  find(price: number): number {
    const p = this.price;
    const desc = this.descending;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = p[mid];
      if (v === price) return mid;
      // "before" = better than `price` on this side.
      if (desc ? v > price : v < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Sets a level's absolute state; quantity 0 removes it. */
  set(price: number, quantity: number, orderCount: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (quantity === 0) {
        this.price.copyWithin(i, i + 1, this.count);
        this.quantity.copyWithin(i, i + 1, this.count);
        this.orderCount.copyWithin(i, i + 1, this.count);
        this.count--;
      } else {
        this.quantity[i] = quantity;
        this.orderCount[i] = orderCount;
      }
      return;
    }
    if (quantity === 0) return;
    const at = -i - 1;
    if (this.count === this.price.length) this.grow();
    this.price.copyWithin(at + 1, at, this.count);
    this.quantity.copyWithin(at + 1, at, this.count);
    this.orderCount.copyWithin(at + 1, at, this.count);
    this.price[at] = price;
    this.quantity[at] = quantity;
    this.orderCount[at] = orderCount;
    this.count++;
  }

  clear(): void {
    this.count = 0;
  }

  private grow(): void {
    const n = this.price.length * 2;
    const price = new Float64Array(n);
    const quantity = new Float64Array(n);
    const orderCount = new Uint32Array(n);
    price.set(this.price);
    quantity.set(this.quantity);
    orderCount.set(this.orderCount);
    this.price = price;
    this.quantity = quantity;
    this.orderCount = orderCount;
  }
}

/** One level given to `reset()`. */
export interface LevelState {
  readonly side: number;
  readonly price: number;
  readonly quantity: number;
  readonly orderCount: number;
}

export class L2Book {
  readonly symbolId: number;
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);

  constructor(symbolId: number) {
    this.symbolId = symbolId;
  }

  side(side: number): BookSide {
    if (side === BID) return this.bids;
    if (side === ASK) return this.asks;
    throw new MarketDataError(`symbol ${this.symbolId}: book side must be 1 (bid) or 2 (ask), got ${side}`);
  }

  /** Applies an absolute level state (as in L2_UPDATE): quantity 0 removes the level. */
  apply(side: number, price: number, quantity: number, orderCount: number): void {
    this.side(side).set(price, quantity, orderCount);
  }

  /**
   * Crash recovery: adds `visibleQtyDelta` lots (and `orderDelta` orders) to a level, e.g. once per
   * open order rebuilt from the journal. A level that reaches 0 is removed.
   */
  seed(side: number, price: number, visibleQtyDelta: number, orderDelta = 1): void {
    if (!Number.isSafeInteger(price) || price <= 0 || !Number.isSafeInteger(visibleQtyDelta)) {
      throw new MarketDataError(
        `symbol ${this.symbolId}: seed needs integer ticks and lots, got price ${price}, qty ${visibleQtyDelta}`,
      );
    }
    const s = this.side(side);
    const i = s.find(price);
    const q = (i >= 0 ? s.quantity[i] : 0) + visibleQtyDelta;
    const c = (i >= 0 ? s.orderCount[i] : 0) + orderDelta;
    if (q < 0 || c < 0) {
      throw new MarketDataError(`symbol ${this.symbolId}: seed would make level ${price} negative`);
    }
    s.set(price, q, q === 0 ? 0 : c);
  }

  /** Replaces the whole book (crash recovery, tests). */
  reset(levels: readonly LevelState[]): void {
    this.bids.clear();
    this.asks.clear();
    for (const l of levels) this.apply(l.side, l.price, l.quantity, l.orderCount);
  }

  /** Levels on both sides. */
  get depth(): number {
    return this.bids.count + this.asks.count;
  }
}
