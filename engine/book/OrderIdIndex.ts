/**
 * Order id -> order slot, O(1). Order ids are `shardId * 2^40 + counter` with a sequential counter,
 * so the low bits are already a perfect spread for linear probing. Note: `id >>> 0` is `id mod 2^32`
 * for any integer id <= 2^53 and compiles to a truncation, where `%` on a double would call fmod.
 * Thread-safety: single-threaded (the shard's thread).
 */
import { OpenAddressingIndex } from './OpenAddressingIndex.js';
import type { OrderPool } from './OrderPool.js';

export class OrderIdIndex extends OpenAddressingIndex {
  private readonly ids: Float64Array;

  constructor(orders: OrderPool) {
    super(orders.capacity);
    this.ids = orders.id;
  }

  protected hashOf(s: number): number {
    return this.ids[s] >>> 0;
  }

  /** Slot of the open order with this id, or -1. */
  find(id: number): number {
    const t = this.table;
    const mask = this.mask;
    const ids = this.ids;
    let i = (id >>> 0) & mask;
    for (;;) {
      const e = t[i];
      if (e === 0) return -1;
      if (ids[e - 1] === id) return e - 1;
      i = (i + 1) & mask;
    }
  }
}
