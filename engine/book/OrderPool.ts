/**
 * The order pool: a fixed number of order slots stored as typed-array columns (structure of arrays).
 *
 * Owned by one MatchingEngine (one shard). A slot is an int index; every column is indexed by it.
 * Free slots form a LIFO free list threaded through `next`. Nothing here allocates after
 * construction. Memory per slot: 9 float64 + 3 u32 + 5 int32 + 1 u16 + 6 u8 = 112 bytes (plus about 28
 * bytes kept elsewhere: two id-index buckets, the expiry heap and the stop-wave scratch).
 *
 * Slot fields (docs/matching.md section 2 names them): filledQty is not stored, it is
 * `quantity - leaves` for an open order.
 *
 *   id f64 | clientId f64 | price f64 | stopPrice f64 | quantity f64 | leaves f64 | visible f64
 *   display f64 | expireTime f64 | account u32 | session u32 | group u32
 *   prev i32 | next i32      queue links (level or stop queue); `next` also links free slots
 *   level i32                level slot the order is queued in (-1 when not queued)
 *   accPrev i32 | accNext i32  per-account list links (acceptance order)
 *   book u16                 OrderBook index inside the engine
 *   side u8 | type u8 | tif u8 | flags u8 | stp u8 | state u8
 *
 * Thread-safety: single-threaded (the shard's thread).
 */
import { EngineConfigError } from '../EngineError.js';

/** Order slot states. */
export const OrderState = {
  FREE: 0,
  /** In a book level (resting). */
  RESTING: 1,
  /** In the stop book, untriggered. */
  STOP: 2,
  /** Being executed as a taker (not queued anywhere). */
  TAKER: 3,
} as const;

export const NIL = -1;
/** Largest pool: keeps every column below 2^31 bytes and slot indexes in int32. */
export const MAX_ORDER_CAPACITY = 1 << 24;

export function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_ORDER_CAPACITY) {
    throw new EngineConfigError(`maxOrders must be an integer in 1..${MAX_ORDER_CAPACITY}, got ${capacity}`);
  }
}

export class OrderPool {
  readonly capacity: number;
  readonly id: Float64Array;
  readonly clientId: Float64Array;
  readonly price: Float64Array;
  readonly stopPrice: Float64Array;
  readonly quantity: Float64Array;
  readonly leaves: Float64Array;
  readonly visible: Float64Array;
  readonly display: Float64Array;
  readonly expireTime: Float64Array;
  readonly account: Uint32Array;
  readonly session: Uint32Array;
  readonly group: Uint32Array;
  readonly prev: Int32Array;
  readonly next: Int32Array;
  readonly level: Int32Array;
  readonly accPrev: Int32Array;
  readonly accNext: Int32Array;
  readonly book: Uint16Array;
  readonly side: Uint8Array;
  readonly type: Uint8Array;
  readonly tif: Uint8Array;
  readonly flags: Uint8Array;
  readonly stp: Uint8Array;
  readonly state: Uint8Array;
  /** Number of slots in use. */
  used: number;
  private freeHead: number;

  constructor(capacity: number) {
    checkCapacity(capacity);
    this.capacity = capacity;
    this.id = new Float64Array(capacity);
    this.clientId = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
    this.stopPrice = new Float64Array(capacity);
    this.quantity = new Float64Array(capacity);
    this.leaves = new Float64Array(capacity);
    this.visible = new Float64Array(capacity);
    this.display = new Float64Array(capacity);
    this.expireTime = new Float64Array(capacity);
    this.account = new Uint32Array(capacity);
    this.session = new Uint32Array(capacity);
    this.group = new Uint32Array(capacity);
    this.prev = new Int32Array(capacity).fill(NIL);
    this.next = new Int32Array(capacity);
    this.level = new Int32Array(capacity).fill(NIL);
    this.accPrev = new Int32Array(capacity).fill(NIL);
    this.accNext = new Int32Array(capacity).fill(NIL);
    this.book = new Uint16Array(capacity);
    this.side = new Uint8Array(capacity);
    this.type = new Uint8Array(capacity);
    this.tif = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.stp = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    for (let i = 0; i < capacity; i++) this.next[i] = i + 1 < capacity ? i + 1 : NIL;
    this.freeHead = 0;
    this.used = 0;
  }

  /** A free slot (state still FREE; the caller sets every field), or NIL when the pool is full. */
  alloc(): number {
    const s = this.freeHead;
    if (s === NIL) return NIL;
    this.freeHead = this.next[s];
    this.next[s] = NIL;
    this.used++;
    return s;
  }

  /** Returns a slot to the pool. The caller has already unlinked it from every list. */
  release(s: number): void {
    this.state[s] = 0;
    this.id[s] = 0;
    this.level[s] = NIL;
    this.prev[s] = NIL;
    this.next[s] = this.freeHead;
    this.freeHead = s;
    this.used--;
  }
}
