/**
 * (book, account, clientOrderId) -> open order slot, O(1): the duplicate client order id check and
 * cancel by client order id. Only orders with a non-zero clientOrderId are indexed.
 * Thread-safety: single-threaded (the shard's thread).
 */
import { OpenAddressingIndex } from './OpenAddressingIndex.js';
import type { OrderPool } from './OrderPool.js';

function hash(book: number, account: number, clientId: number): number {
  const lo = clientId >>> 0;
  const hi = (clientId / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) ^ Math.imul(account, 0xc2b2ae35) ^ book;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

export class ClientOrderIdIndex extends OpenAddressingIndex {
  private readonly orders: OrderPool;

  constructor(orders: OrderPool) {
    super(orders.capacity);
    this.orders = orders;
  }

  protected hashOf(s: number): number {
    const o = this.orders;
    return hash(o.book[s], o.account[s], o.clientId[s]);
  }

  /** Slot of the open order with this key, or -1. */
  find(book: number, account: number, clientId: number): number {
    const t = this.table;
    const mask = this.mask;
    const o = this.orders;
    let i = hash(book, account, clientId) & mask;
    for (;;) {
      const e = t[i];
      if (e === 0) return -1;
      const s = e - 1;
      if (o.clientId[s] === clientId && o.account[s] === account && o.book[s] === book) return s;
      i = (i + 1) & mask;
    }
  }
}
