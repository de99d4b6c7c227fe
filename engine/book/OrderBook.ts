/**
 * One symbol's book: its configuration, last trade price, the bid and ask ladders (resting orders)
 * and the buy-stop and sell-stop ladders (untriggered stops), plus the BBO as it was before the
 * current command (for market-data diffs).
 *
 * Created by MatchingEngine on ADD_SYMBOL (the only time a book allocates: four ladders of
 * `maxPrice - minPrice + 1` ticks). The matching algorithm lives in MatchingEngine, which owns the
 * shard-wide pools; this class holds the per-symbol state and its read-only queries.
 * Thread-safety: single-threaded (the shard's thread).
 */
import { F_QTY, F_SHIFT, type LevelPool } from './LevelPool.js';
import { PriceLadder } from './PriceLadder.js';

// Module-local copies: TurboFan folds a module's own constants, not imported bindings.
const LV_FS = F_SHIFT;
const LV_QTY = F_QTY;

/** Slots of `OrderBook.oldBbo`. */
export const BBO_BID_PRICE = 0;
export const BBO_BID_QTY = 1;
export const BBO_ASK_PRICE = 2;
export const BBO_ASK_QTY = 3;
const BID_PRICE = BBO_BID_PRICE;
const BID_QTY = BBO_BID_QTY;
const ASK_PRICE = BBO_ASK_PRICE;
const ASK_QTY = BBO_ASK_QTY;

/** Ladder kinds; a ladder id is `bookIndex * 4 + kind`. */
export const LadderKind = {
  BIDS: 0,
  ASKS: 1,
  BUY_STOPS: 2,
  SELL_STOPS: 3,
} as const;

/** The configuration of an ADD_SYMBOL command (docs/matching.md section 5.6). */
export interface SymbolConfig {
  readonly symbolId: number;
  readonly minPrice: number;
  readonly maxPrice: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxNotional: number;
  readonly referencePrice: number;
  readonly priceBandBps: number;
}

export class OrderBook {
  readonly index: number;
  readonly symbolId: number;
  readonly minPrice: number;
  readonly maxPrice: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxNotional: number;
  readonly referencePrice: number;
  readonly priceBandBps: number;
  readonly bids: PriceLadder;
  readonly asks: PriceLadder;
  readonly buyStops: PriceLadder;
  readonly sellStops: PriceLadder;
  /** 0 until the first trade. */
  lastTradePrice: number;
  /** Command epoch in which the BBO below was recorded. */
  epoch: number;
  /**
   * The BBO recorded in `epoch`, at BBO_BID_PRICE, BBO_BID_QTY, BBO_ASK_PRICE, BBO_ASK_QTY: raw
   * float64 slots, so recording it needs no number-representation checks (Smi fields would).
   */
  readonly oldBbo: Float64Array;
  private readonly levels: LevelPool;

  constructor(index: number, config: SymbolConfig, levels: LevelPool) {
    this.index = index;
    this.levels = levels;
    this.symbolId = config.symbolId;
    this.minPrice = config.minPrice;
    this.maxPrice = config.maxPrice;
    this.minQty = config.minQty;
    this.maxQty = config.maxQty;
    this.maxNotional = config.maxNotional;
    this.referencePrice = config.referencePrice;
    this.priceBandBps = config.priceBandBps;
    const range = config.maxPrice - config.minPrice + 1;
    const base = index * 4;
    this.bids = new PriceLadder(base + LadderKind.BIDS, levels, config.minPrice, range, true);
    this.asks = new PriceLadder(base + LadderKind.ASKS, levels, config.minPrice, range, false);
    this.buyStops = new PriceLadder(base + LadderKind.BUY_STOPS, levels, config.minPrice, range, false);
    this.sellStops = new PriceLadder(base + LadderKind.SELL_STOPS, levels, config.minPrice, range, true);
    this.lastTradePrice = 0;
    this.epoch = -1;
    this.oldBbo = new Float64Array(4);
  }

  /** Last trade price, else the configured reference price (0 = none). */
  reference(): number {
    return this.lastTradePrice !== 0 ? this.lastTradePrice : this.referencePrice;
  }

  /** Displayed quantity at the best level of a book ladder (0 when empty). */
  bestQty(ladder: PriceLadder): number {
    const l = ladder.bestLevel();
    return l < 0 ? 0 : this.levels.qty(l);
  }

  /** Records the BBO as it is now, once per command epoch (before the first change). */
  recordBbo(epoch: number): void {
    if (this.epoch === epoch) return;
    this.epoch = epoch;
    const fv = this.levels.fv;
    const bids = this.bids;
    const asks = this.asks;
    const bt = bids.best;
    const at = asks.best;
    const old = this.oldBbo;
    old[BID_PRICE] = bt < 0 ? 0 : bt + bids.minPrice;
    old[BID_QTY] = bt < 0 ? 0 : fv[((bids.levelOf[bt] - 1) << LV_FS) | LV_QTY];
    old[ASK_PRICE] = at < 0 ? 0 : at + asks.minPrice;
    old[ASK_QTY] = at < 0 ? 0 : fv[((asks.levelOf[at] - 1) << LV_FS) | LV_QTY];
  }
}
