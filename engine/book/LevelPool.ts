/**
 * Price levels of every ladder of a shard, as typed-array columns, each an intrusive doubly linked
 * FIFO queue of order slots (through OrderPool.prev/next).
 *
 * A level slot is allocated when a ladder first needs a price and freed when the ladder is done with
 * it. The pool starts at `initialCapacity` and doubles when exhausted (rare: the number of levels
 * in use is bounded by the number of open orders plus the levels emptied during one command), so
 * callers must re-read the columns after any `alloc()`; nothing else here allocates.
 *
 *   head i32 | tail i32 | count i32   the FIFO queue and its length
 *   qty f64                           displayed quantity (sum of the orders' visible quantities)
 *   price f64 | ladder i32            which ladder and price the level belongs to
 *   epoch f64 | oldQty f64 | oldCount i32   market-data bookkeeping: the command epoch that first
 *                                     touched the level and its (qty, count) before that command
 *
 * Thread-safety: single-threaded (the shard's thread).
 */
import { EngineConfigError } from '../EngineError.js';
import { NIL, type OrderPool } from './OrderPool.js';

// Note: imported enum members and constants are copied into module constants: TurboFan folds a
// module's own constants, but reads an imported binding through its cell (with a TDZ check) on every use.
const NO_SLOT = NIL;

export function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 26) {
    throw new EngineConfigError(`level capacity must be an integer in 1..${1 << 26}, got ${capacity}`);
  }
}

export class LevelPool {
  capacity: number;
  head: Int32Array;
  tail: Int32Array;
  count: Int32Array;
  qty: Float64Array;
  price: Float64Array;
  ladder: Int32Array;
  epoch: Float64Array;
  oldQty: Float64Array;
  oldCount: Int32Array;
  private freeHead: number;
  private readonly orders: OrderPool;

  constructor(orders: OrderPool, initialCapacity: number) {
    checkCapacity(initialCapacity);
    this.orders = orders;
    this.capacity = 0;
    this.head = new Int32Array(0);
    this.tail = new Int32Array(0);
    this.count = new Int32Array(0);
    this.qty = new Float64Array(0);
    this.price = new Float64Array(0);
    this.ladder = new Int32Array(0);
    this.epoch = new Float64Array(0);
    this.oldQty = new Float64Array(0);
    this.oldCount = new Int32Array(0);
    this.freeHead = NO_SLOT;
    this.grow(initialCapacity);
  }

  /** A fresh empty level for `price` of ladder `ladderId`. May grow (and so replace) the columns. */
  alloc(ladderId: number, price: number): number {
    if (this.freeHead === NO_SLOT) this.grow(this.capacity * 2);
    const l = this.freeHead;
    this.freeHead = this.head[l];
    this.head[l] = NO_SLOT;
    this.tail[l] = NO_SLOT;
    this.count[l] = 0;
    this.qty[l] = 0;
    this.price[l] = price;
    this.ladder[l] = ladderId;
    this.epoch[l] = -1;
    return l;
  }

  release(l: number): void {
    this.ladder[l] = NO_SLOT;
    this.head[l] = this.freeHead;
    this.freeHead = l;
  }

  /** Appends order `s` at the back of level `l`. */
  append(l: number, s: number): void {
    const o = this.orders;
    const t = this.tail[l];
    o.prev[s] = t;
    o.next[s] = NO_SLOT;
    if (t === NO_SLOT) this.head[l] = s;
    else o.next[t] = s;
    this.tail[l] = s;
    o.level[s] = l;
    this.count[l]++;
    this.qty[l] += o.visible[s];
  }

  /** Removes order `s` from level `l`. */
  unlink(l: number, s: number): void {
    const o = this.orders;
    const p = o.prev[s];
    const n = o.next[s];
    if (p === NO_SLOT) this.head[l] = n;
    else o.next[p] = n;
    if (n === NO_SLOT) this.tail[l] = p;
    else o.prev[n] = p;
    o.prev[s] = NO_SLOT;
    o.next[s] = NO_SLOT;
    o.level[s] = NO_SLOT;
    this.count[l]--;
    this.qty[l] -= o.visible[s];
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const copyI = (a: Int32Array): Int32Array => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    const copyF = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    this.head = copyI(this.head);
    this.tail = copyI(this.tail);
    this.count = copyI(this.count);
    this.qty = copyF(this.qty);
    this.price = copyF(this.price);
    this.ladder = copyI(this.ladder);
    this.epoch = copyF(this.epoch);
    this.oldQty = copyF(this.oldQty);
    this.oldCount = copyI(this.oldCount);
    // New slots join the free list in ascending order.
    for (let l = capacity - 1; l >= old; l--) {
      this.ladder[l] = NO_SLOT;
      this.head[l] = this.freeHead;
      this.freeHead = l;
    }
    this.capacity = capacity;
  }
}
