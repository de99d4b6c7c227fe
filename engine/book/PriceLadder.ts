/**
 * One ordered side of prices: the bids, the asks, the buy stops or the sell stops of a symbol.
 *
 * Prices are direct-mapped: `levelOf[price - minPrice]` holds the level slot + 1 (0 = none), so a
 * price's level is found in O(1); a BitIndex over the same range holds the non-empty levels, so the
 * next best level after the best empties is found in O(log32 range) without scanning. `best` is the
 * cached best tick (-1 = empty side): the highest for bids and sell stops, the lowest for asks and
 * buy stops. Memory: about 4.13 bytes per tick of the symbol's price range.
 *
 * A level may exist with count 0 (emptied during the current command, kept so market data can diff
 * it): it is then absent from the BitIndex. Only the owner (MatchingEngine) frees levels.
 * Thread-safety: single-threaded (the shard's thread).
 */
import { BitIndex } from './BitIndex.js';
import type { LevelPool } from './LevelPool.js';

export class PriceLadder {
  readonly id: number;
  readonly minPrice: number;
  readonly highIsBest: boolean;
  readonly levelOf: Int32Array;
  readonly bits: BitIndex;
  /** Best tick (price - minPrice), or -1 when no level is active. */
  best: number;
  private readonly levels: LevelPool;

  constructor(id: number, levels: LevelPool, minPrice: number, range: number, highIsBest: boolean) {
    this.id = id;
    this.levels = levels;
    this.minPrice = minPrice;
    this.highIsBest = highIsBest;
    this.levelOf = new Int32Array(range);
    this.bits = new BitIndex(range);
    this.best = -1;
  }

  /** Best level slot, or -1. */
  bestLevel(): number {
    const b = this.best;
    return b < 0 ? -1 : this.levelOf[b] - 1;
  }

  /** Best price, or 0 when empty. */
  bestPrice(): number {
    const b = this.best;
    return b < 0 ? 0 : b + this.minPrice;
  }

  /** The level slot for `price`, allocating an empty one if needed (columns of the pool may change). */
  ensureLevel(price: number): number {
    const t = price - this.minPrice;
    const l = this.levelOf[t] - 1;
    if (l >= 0) return l;
    const n = this.levels.alloc(this.id, price);
    this.levelOf[t] = n + 1;
    return n;
  }

  /** Marks the level at `price` non-empty (call when its count goes 0 -> 1). */
  activate(price: number): void {
    const t = price - this.minPrice;
    this.bits.set(t);
    const b = this.best;
    if (b < 0 || (this.highIsBest ? t > b : t < b)) this.best = t;
  }

  /** Marks the level at `price` empty (call when its count goes 1 -> 0); keeps the level slot. */
  deactivate(price: number): void {
    const t = price - this.minPrice;
    this.bits.clear(t);
    if (t === this.best) this.best = this.highIsBest ? this.bits.prev(t) : this.bits.next(t);
  }

  /** Forgets the (empty, inactive) level at `price` and frees its slot. */
  drop(price: number): void {
    const t = price - this.minPrice;
    const l = this.levelOf[t] - 1;
    this.levelOf[t] = 0;
    this.levels.release(l);
  }

  /** The next active tick after `tick` in priority order, or -1. */
  nextTick(tick: number): number {
    return this.highIsBest ? this.bits.prev(tick - 1) : this.bits.next(tick + 1);
  }
}
