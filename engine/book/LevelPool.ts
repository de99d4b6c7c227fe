/**
 * Price levels of every ladder of a shard, each an intrusive doubly linked FIFO queue of order slots
 * (through OrderPool.prev/next).
 *
 * A level is one 64-byte record of a single ArrayBuffer, read through two views: `iv` (Int32Array,
 * 16 slots per level, at `l << 4`) for the integer fields and `fv` (Float64Array, 8 slots per level,
 * at `l << 3`) for the float fields. Two array loads, map checks and bounds checks cover every field
 * of a level, where 9 column arrays needed one each; integer fields stay int32 (no float
 * conversions when they index other arrays). Field indexes are `(l << shift) | field` (the base's
 * low bits are zero): an int32 OR, where `+` would need an overflow check.
 *
 *   iv: I_HEAD | I_TAIL | I_COUNT   the FIFO queue (order slots, NIL = none) and its length
 *       I_LADDER                    which ladder the level belongs to
 *       I_OLD_COUNT                 its count before the current command (market data)
 *       I_NEXT_FREE                 the free list link, while the level is free (a free level
 *                                   keeps head = tail = NIL and count = 0, so alloc() skips them)
 *   fv: F_QTY                       displayed quantity (sum of the orders' visible quantities)
 *       F_PRICE                     the level's price
 *       F_EPOCH | F_OLD_QTY         market-data bookkeeping: the command epoch that first touched
 *                                   the level and its qty before that command
 *
 * A level slot is allocated when a ladder first needs a price and freed when the ladder is done with
 * it. The pool starts at `initialCapacity` and doubles when exhausted (rare: the number of levels
 * in use is bounded by the number of open orders plus the levels emptied during one command), so
 * callers must re-read `iv`/`fv` after any `alloc()`; nothing else here allocates.
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

/** Shift from a level slot to its first Int32 slot (16 per level) and first Float64 slot (8). */
export const I_SHIFT = 4;
export const F_SHIFT = 3;
export const I_HEAD = 0;
export const I_TAIL = 1;
export const I_COUNT = 2;
export const I_LADDER = 3;
export const I_OLD_COUNT = 4;
/** Next free level slot, while the level is free. */
export const I_NEXT_FREE = 5;
// Float64 slots 4..7 = Int32 slots 8..15 (disjoint from the Int32 fields above).
export const F_QTY = 4;
export const F_PRICE = 5;
export const F_EPOCH = 6;
export const F_OLD_QTY = 7;
const LEVEL_BYTES = 64;

// Module-local copies (see the note above NO_SLOT).
const IS = I_SHIFT;
const FS = F_SHIFT;
const HEAD = I_HEAD;
const TAIL = I_TAIL;
const COUNT = I_COUNT;
const LADDER = I_LADDER;
const NEXT_FREE = I_NEXT_FREE;
const QTY = F_QTY;
const PRICE = F_PRICE;
const EPOCH = F_EPOCH;

export class LevelPool {
  capacity: number;
  /** Integer fields of the level records (16 slots per level). */
  iv: Int32Array;
  /** Float fields of the level records (8 slots per level; same buffer as `iv`). */
  fv: Float64Array;
  private freeHead: number;
  private readonly orders: OrderPool;

  constructor(orders: OrderPool, initialCapacity: number) {
    checkCapacity(initialCapacity);
    this.orders = orders;
    this.capacity = 0;
    this.iv = new Int32Array(0);
    this.fv = new Float64Array(0);
    this.freeHead = NO_SLOT;
    this.grow(initialCapacity);
  }

  /** A fresh empty level for `price` of ladder `ladderId`. May grow (and so replace) `iv`/`fv`. */
  alloc(ladderId: number, price: number): number {
    if (this.freeHead === NO_SLOT) this.grow(this.capacity * 2);
    const l = this.freeHead;
    const iv = this.iv;
    const fv = this.fv;
    const i = l << IS;
    const f = l << FS;
    // A free level is empty: head and tail NIL, count 0 (see release()).
    this.freeHead = iv[i | NEXT_FREE];
    iv[i | LADDER] = ladderId;
    fv[f | QTY] = 0;
    fv[f | PRICE] = price;
    fv[f | EPOCH] = -1;
    return l;
  }

  /** Frees level `l`, which must be empty (no orders: head and tail NIL, count 0). */
  release(l: number): void {
    const iv = this.iv;
    const i = l << IS;
    iv[i | LADDER] = NO_SLOT;
    iv[i | NEXT_FREE] = this.freeHead;
    this.freeHead = l;
  }

  head(l: number): number {
    return this.iv[(l << IS) | HEAD];
  }

  tail(l: number): number {
    return this.iv[(l << IS) | TAIL];
  }

  count(l: number): number {
    return this.iv[(l << IS) | COUNT];
  }

  ladder(l: number): number {
    return this.iv[(l << IS) | LADDER];
  }

  qty(l: number): number {
    return this.fv[(l << FS) | QTY];
  }

  price(l: number): number {
    return this.fv[(l << FS) | PRICE];
  }

  /** Appends order `s` at the back of level `l`; returns the level's new count. */
  append(l: number, s: number): number {
    const o = this.orders;
    const iv = this.iv;
    const i = l << IS;
    const t = iv[i | TAIL];
    o.prev[s] = t;
    o.next[s] = NO_SLOT;
    if (t === NO_SLOT) iv[i | HEAD] = s;
    else o.next[t] = s;
    iv[i | TAIL] = s;
    o.level[s] = l;
    this.fv[(l << FS) | QTY] += o.visible[s];
    const c = iv[i | COUNT] + 1;
    iv[i | COUNT] = c;
    return c;
  }

  /** Removes order `s` from level `l`; returns the level's new count. */
  unlink(l: number, s: number): number {
    const o = this.orders;
    const iv = this.iv;
    const i = l << IS;
    const p = o.prev[s];
    const n = o.next[s];
    if (p === NO_SLOT) iv[i | HEAD] = n;
    else o.next[p] = n;
    if (n === NO_SLOT) iv[i | TAIL] = p;
    else o.prev[n] = p;
    o.prev[s] = NO_SLOT;
    o.next[s] = NO_SLOT;
    o.level[s] = NO_SLOT;
    this.fv[(l << FS) | QTY] -= o.visible[s];
    const c = iv[i | COUNT] - 1;
    iv[i | COUNT] = c;
    return c;
  }

  private grow(capacity: number): void {
    // Keeps `l << I_SHIFT` (and so every `iv` index) a non-negative int32.
    checkCapacity(capacity);
    const old = this.capacity;
    const buf = new ArrayBuffer(capacity * LEVEL_BYTES);
    const iv = new Int32Array(buf);
    iv.set(this.iv);
    this.iv = iv;
    this.fv = new Float64Array(buf);
    // New slots join the free list in ascending order.
    for (let l = capacity - 1; l >= old; l--) {
      const i = l << IS;
      iv[i | HEAD] = NO_SLOT;
      iv[i | TAIL] = NO_SLOT;
      iv[i | LADDER] = NO_SLOT;
      iv[i | NEXT_FREE] = this.freeHead;
      this.freeHead = l;
    }
    this.capacity = capacity;
  }
}
