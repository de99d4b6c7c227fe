/**
 * Accounts of a shard: account id -> account index (open addressing, never shrinks), and per account
 * an intrusive doubly linked list of its open orders in acceptance order (= ascending order id),
 * threaded through OrderPool.accPrev/accNext. Mass cancel walks that list.
 *
 * An account enters the table with its first accepted order and stays (docs/matching.md section 2).
 * Memory: 12 bytes per account + 8 bytes per hash bucket (2x capacity). No allocation after
 * construction. Thread-safety: single-threaded (the shard's thread).
 */
import { EngineConfigError } from '../EngineError.js';
import { NIL, type OrderPool } from './OrderPool.js';

export function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 26) {
    throw new EngineConfigError(`maxAccounts must be an integer in 1..${1 << 26}, got ${capacity}`);
  }
}

function hash(accountId: number): number {
  const h = Math.imul(accountId, 0x9e3779b1);
  return h ^ (h >>> 16);
}

export class AccountTable {
  readonly capacity: number;
  /** Number of accounts in the table. */
  size: number;
  readonly accountId: Uint32Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private readonly orders: OrderPool;

  constructor(orders: OrderPool, capacity: number) {
    checkCapacity(capacity);
    this.orders = orders;
    this.capacity = capacity;
    this.size = 0;
    this.accountId = new Uint32Array(capacity);
    this.head = new Int32Array(capacity).fill(NIL);
    this.tail = new Int32Array(capacity).fill(NIL);
    let n = 2;
    while (n < capacity * 2) n *= 2;
    this.buckets = new Int32Array(n);
    this.mask = n - 1;
  }

  /** Index of the account, or -1. */
  find(accountId: number): number {
    const b = this.buckets;
    const mask = this.mask;
    let i = hash(accountId) & mask;
    for (;;) {
      const e = b[i];
      if (e === 0) return -1;
      if (this.accountId[e - 1] === accountId) return e - 1;
      i = (i + 1) & mask;
    }
  }

  /** Adds a new account (caller checked it is absent and `size < capacity`); returns its index. */
  add(accountId: number): number {
    const a = this.size++;
    this.accountId[a] = accountId;
    const b = this.buckets;
    const mask = this.mask;
    let i = hash(accountId) & mask;
    while (b[i] !== 0) i = (i + 1) & mask;
    b[i] = a + 1;
    return a;
  }

  /** Appends order `s` to account `a`'s list. */
  append(a: number, s: number): void {
    const o = this.orders;
    const t = this.tail[a];
    o.accPrev[s] = t;
    o.accNext[s] = NIL;
    if (t === NIL) this.head[a] = s;
    else o.accNext[t] = s;
    this.tail[a] = s;
  }

  /** Removes order `s` from account `a`'s list. */
  unlink(a: number, s: number): void {
    const o = this.orders;
    const p = o.accPrev[s];
    const n = o.accNext[s];
    if (p === NIL) this.head[a] = n;
    else o.accNext[p] = n;
    if (n === NIL) this.tail[a] = p;
    else o.accPrev[n] = p;
    o.accPrev[s] = NIL;
    o.accNext[s] = NIL;
  }
}
