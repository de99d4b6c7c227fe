/**
 * GTD schedule: an indexed binary min-heap of order slots keyed by (expireTime, orderId), so the
 * engine finds due orders in O(1) and removes a cancelled or filled GTD order in O(log n).
 *
 * `pos[slot]` is the slot's heap index (-1 when absent). Capacity = order capacity; no allocation
 * after construction. Thread-safety: single-threaded (the shard's thread).
 */
import type { OrderPool } from './OrderPool.js';

export class ExpiryHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private readonly expire: Float64Array;
  private readonly ids: Float64Array;
  size: number;

  constructor(orders: OrderPool) {
    this.heap = new Int32Array(orders.capacity);
    this.pos = new Int32Array(orders.capacity).fill(-1);
    this.expire = orders.expireTime;
    this.ids = orders.id;
    this.size = 0;
  }

  /** The slot due first, or -1 when empty. */
  peek(): number {
    return this.size === 0 ? -1 : this.heap[0];
  }

  push(s: number): void {
    const i = this.size++;
    this.heap[i] = s;
    this.pos[s] = i;
    this.up(i);
  }

  /** Removes slot `s` if present. */
  remove(s: number): void {
    const i = this.pos[s];
    if (i < 0) return;
    this.pos[s] = -1;
    const last = --this.size;
    if (i === last) return;
    const m = this.heap[last];
    this.heap[i] = m;
    this.pos[m] = i;
    this.up(i);
    this.down(this.pos[m]);
  }

  private less(a: number, b: number): boolean {
    const ea = this.expire[a];
    const eb = this.expire[b];
    return ea < eb || (ea === eb && this.ids[a] < this.ids[b]);
  }

  private up(i: number): void {
    const h = this.heap;
    const s = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = h[p];
      if (!this.less(s, ps)) break;
      h[i] = ps;
      this.pos[ps] = i;
      i = p;
    }
    h[i] = s;
    this.pos[s] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.size;
    const s = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      const cs = h[c];
      if (!this.less(cs, s)) break;
      h[i] = cs;
      this.pos[cs] = i;
      i = c;
    }
    h[i] = s;
    this.pos[s] = i;
  }
}
