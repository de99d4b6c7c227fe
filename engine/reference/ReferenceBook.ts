/**
 * The naive reference book's data: plain order objects, price levels that are plain arrays of
 * orders, book sides that are plain arrays of levels kept sorted best first, and a symbol that holds
 * two sides and two stop lists. Nothing here is clever on purpose: it is the oracle the fast
 * `MatchingEngine` is compared with (docs/matching.md sections 2 and 7).
 *
 * Every change to what a level shows (an order joins or leaves it, an order's visibleQty changes)
 * goes through `BookSide`, which calls its `touch` hook with the level's price first, so the
 * reference engine can remember the level's L2 value before the command changed it (market data,
 * docs/matching.md section 8).
 *
 * Used only by `ReferenceEngine`. Allocates freely (tests only).
 * Thread-safety: single-threaded.
 */
import { Side } from '../records/OrderCodes.js';

/** Where an order is: being executed as a taker, resting in the book, untriggered stop, or closed. */
export type Place = 'taker' | 'book' | 'stop' | 'closed';

/** One order, every field of docs/matching.md section 2 plus its symbol and per-order minQty. */
export interface RefOrder {
  id: number;
  clientOrderId: number;
  accountId: number;
  sessionId: number;
  tradeGroup: number;
  symbolId: number;
  side: number;
  orderType: number;
  timeInForce: number;
  flags: number;
  stpMode: number;
  price: number;
  stopPrice: number;
  quantity: number;
  filledQty: number;
  leavesQty: number;
  displayQty: number;
  visibleQty: number;
  expireTime: number;
  /** Minimum quantity of the entry precheck (docs/matching.md 6.1 step 2); not part of the state hash. */
  minQty: number;
  place: Place;
}

/** A price level: a FIFO queue of resting orders. */
export interface Level {
  readonly price: number;
  readonly orders: RefOrder[];
}

/** The sum of visibleQty of a level's orders (its displayed quantity). */
export function displayed(level: Level): number {
  let sum = 0;
  for (const o of level.orders) sum += o.visibleQty;
  return sum;
}

/** One side of a book: levels sorted best first (bids: highest price first; asks: lowest first). */
export class BookSide {
  readonly side: number;
  readonly levels: Level[] = [];
  private readonly touch: (side: number, price: number) => void;

  constructor(side: number, touch: (side: number, price: number) => void) {
    this.side = side;
    this.touch = touch;
  }

  /** True when price `a` comes before price `b` on this side. */
  better(a: number, b: number): boolean {
    return this.side === Side.BUY ? a > b : a < b;
  }

  best(): Level | undefined {
    return this.levels[0];
  }

  find(price: number): Level | undefined {
    return this.levels.find((l) => l.price === price);
  }

  /** Appends `o` at the back of the level at `o.price` (creating the level). */
  append(o: RefOrder): void {
    this.touch(this.side, o.price);
    let level = this.find(o.price);
    if (level === undefined) {
      level = { price: o.price, orders: [] };
      let i = 0;
      while (i < this.levels.length && this.better(this.levels[i].price, o.price)) i++;
      this.levels.splice(i, 0, level);
    }
    level.orders.push(o);
  }

  /** Removes `o` from its level (and the level when it becomes empty). */
  remove(o: RefOrder): void {
    this.touch(this.side, o.price);
    const level = this.find(o.price);
    if (level === undefined) throw new Error(`reference book: no level ${o.price} for order ${o.id}`);
    const i = level.orders.indexOf(o);
    if (i < 0) throw new Error(`reference book: order ${o.id} not in level ${o.price}`);
    level.orders.splice(i, 1);
    if (level.orders.length === 0) this.levels.splice(this.levels.indexOf(level), 1);
  }

  /** Moves `o` to the back of its level. */
  moveToBack(o: RefOrder): void {
    this.remove(o);
    this.append(o);
  }

  /** Sets the visibleQty of resting order `o`. */
  setVisible(o: RefOrder, visibleQty: number): void {
    this.touch(this.side, o.price);
    o.visibleQty = visibleQty;
  }
}

/** A symbol: config, last trade price, the two book sides and the two stop lists. */
export class RefSymbol {
  readonly symbolId: number;
  readonly minPrice: number;
  readonly maxPrice: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxNotional: number;
  readonly referencePrice: number;
  readonly priceBandBps: number;
  lastTradePrice = 0;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** Untriggered BUY stops, sorted (stopPrice ascending, orderId ascending). */
  buyStops: RefOrder[] = [];
  /** Untriggered SELL stops, sorted (stopPrice descending, orderId ascending). */
  sellStops: RefOrder[] = [];

  constructor(
    symbolId: number,
    config: {
      minPrice: number;
      maxPrice: number;
      minQty: number;
      maxQty: number;
      maxNotional: number;
      referencePrice: number;
      priceBandBps: number;
    },
    touch: (symbolId: number, side: number, price: number) => void,
  ) {
    this.symbolId = symbolId;
    this.minPrice = config.minPrice;
    this.maxPrice = config.maxPrice;
    this.minQty = config.minQty;
    this.maxQty = config.maxQty;
    this.maxNotional = config.maxNotional;
    this.referencePrice = config.referencePrice;
    this.priceBandBps = config.priceBandBps;
    this.bids = new BookSide(Side.BUY, (side, price) => touch(symbolId, side, price));
    this.asks = new BookSide(Side.SELL, (side, price) => touch(symbolId, side, price));
  }

  /** lastTradePrice if non-zero, else the configured referencePrice (docs/matching.md section 2). */
  reference(): number {
    return this.lastTradePrice !== 0 ? this.lastTradePrice : this.referencePrice;
  }

  sideOf(side: number): BookSide {
    return side === Side.BUY ? this.bids : this.asks;
  }

  oppositeOf(side: number): BookSide {
    return side === Side.BUY ? this.asks : this.bids;
  }

  addStop(o: RefOrder): void {
    if (o.side === Side.BUY) {
      this.buyStops.push(o);
      this.buyStops.sort((a, b) => a.stopPrice - b.stopPrice || a.id - b.id);
    } else {
      this.sellStops.push(o);
      this.sellStops.sort((a, b) => b.stopPrice - a.stopPrice || a.id - b.id);
    }
  }

  removeStop(o: RefOrder): void {
    if (o.side === Side.BUY) this.buyStops = this.buyStops.filter((x) => x !== o);
    else this.sellStops = this.sellStops.filter((x) => x !== o);
  }
}
