/**
 * Order id -> order slot, O(1). Order ids are `shardId * 2^40 + counter` with a sequential counter;
 * the counter's low 32 bits are mixed (murmur3's fmix32) before masking. Note: the identity hash
 * (`id & mask`) clustered catastrophically: once the counter passes the table size, new ids land on
 * the contiguous block of slots still held by long-resting early orders, and every insert and
 * look-up probed through that whole block (recovery of 1M resting orders + IOC flow stalled at ~4M
 * commands). `id >>> 0` is `id mod 2^32` for any integer id <= 2^53 and compiles to a truncation.
 * Thread-safety: single-threaded (the shard's thread).
 */
import { OpenAddressingIndex } from './OpenAddressingIndex.js';
import type { OrderPool } from './OrderPool.js';

/** murmur3 fmix32: every input bit affects every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class OrderIdIndex extends OpenAddressingIndex {
  private readonly ids: Float64Array;

  constructor(orders: OrderPool) {
    super(orders.capacity);
    this.ids = orders.id;
  }

  protected hashOf(s: number): number {
    return mix(this.ids[s] >>> 0);
  }

  /** Slot of the open order with this id, or -1. */
  find(id: number): number {
    const t = this.table;
    const mask = this.mask;
    const ids = this.ids;
    let i = mix(id >>> 0) & mask;
    for (;;) {
      const e = t[i];
      if (e === 0) return -1;
      if (ids[e - 1] === id) return e - 1;
      i = (i + 1) & mask;
    }
  }
}
