/**
 * One consumer's cursor on a `Ring`: drains records in batches, in order, straight out of the
 * shared bytes (the handler gets the ring's DataView and the payload's offset; nothing is copied).
 *
 *   const reader = Ring.wrap(sab).reader(i);           // i = this consumer's index, fixed at create
 *   const n = reader.read(onRecord, 256);              // up to 256 records, returns how many
 *   idle.idle(n);                                      // worker: BusySpin or new Backoff(reader)
 *   await reader.waitAsync(1000);                      // main thread: sleep without blocking
 *
 * A batch publishes this consumer's position once, at its end (a single Atomics.store), and only
 * then may the producer reuse those bytes: the payload stays valid while the handler runs and must
 * be copied if kept. A handler that throws still consumes its record (the position moves past it
 * and is published), so a poison record cannot wedge the ring.
 *
 * Consumer side of the park protocol (see ParkWord): `prepareToPark()` announces PARKED on this
 * consumer's park word, then re-reads the length word at its position; the producer's `commit()`
 * publishes the length, then wakes a parked consumer.
 * Gated readers (`ring.reader(i, { gate: g })`, `GatedRingReader`) read only what consumer g has
 * consumed: a dependency barrier (LMAX style) the shard uses in DURABILITY=sync to process only the
 * commands the journal has made durable.
 * Thread-safety: a reader belongs to one thread (the consumer with that index); the producer and the
 * other consumers run concurrently on other threads.
 */
import type { Parkable } from '../idle/IdleStrategy.js';
import { NOT_WAITED, type ParkWord, type WaitOutcome } from '../idle/ParkWord.js';
import { alignRecord, HEADER_LENGTH, PADDING_TYPE } from './RingDescriptor.js';

/**
 * Receives one record: its type (>= 1), the ring's DataView, and the payload's byte offset and length
 * in it. The payload may be read only during the call.
 */
export type RecordHandler = (type: number, view: DataView, offset: number, length: number) => void;

const RESOLVED_NOT_WAITED: Promise<WaitOutcome> = Promise.resolve(NOT_WAITED);

export class RingReader implements Parkable {
  /** This consumer's index, fixed at ring creation. */
  readonly index: number;
  /** This consumer's park word (the producer wakes it). */
  readonly parkWord: ParkWord;
  /** The ring's bytes as a DataView (the same one handlers receive). */
  readonly view: DataView;

  protected readonly words: Int32Array;
  protected readonly mask: number;
  protected readonly positionWord: number;
  protected readonly producerPark: ParkWord;
  protected position: number;
  /** Read-ahead position of `peek` (equal to `position` when nothing is held). */
  protected held: number;

  /** @internal Created by `Ring`; use `ring.reader(i)`. */
  constructor(
    index: number,
    words: Int32Array,
    view: DataView,
    capacity: number,
    positionWord: number,
    parkWord: ParkWord,
    producerPark: ParkWord,
  ) {
    this.index = index;
    this.words = words;
    this.view = view;
    this.mask = capacity - 1;
    this.positionWord = positionWord;
    this.parkWord = parkWord;
    this.producerPark = producerPark;
    this.position = Atomics.load(words, positionWord);
    this.held = this.position;
  }

  /**
   * Hands up to `limit` records to `handler`, in order, and returns how many it handed over (padding
   * is skipped and not counted). Returns 0 at once when nothing is published.
   */
  read(handler: RecordHandler, limit: number): number {
    const words = this.words;
    const view = this.view;
    const mask = this.mask;
    const start = this.position;
    let position = start;
    let count = 0;
    try {
      while (count < limit) {
        const index = position & mask;
        const length = Atomics.load(words, index >> 2);
        if (length <= 0) break;
        position = (position + alignRecord(length)) | 0;
        const type = words[(index >> 2) + 1];
        if (type !== PADDING_TYPE) {
          count++;
          handler(type, view, index + HEADER_LENGTH, length - HEADER_LENGTH);
        }
      }
    } finally {
      if (position !== start) {
        this.position = position;
        this.held = position;
        // Note: publishing the position hands the bytes back to the producer; nothing after this
        // line may touch them. Then wake the producer if it parked on a full ring.
        Atomics.store(words, this.positionWord, position);
        this.producerPark.wake();
      }
    }
    return count;
  }

  /**
   * Like `read`, but holds the records: hands up to `limit` records after the ones already peeked and
   * does not publish the position, so the producer cannot reuse their bytes (and a consumer gated on
   * this one cannot see them) until `release()`. The journal peeks a batch, writes and fsyncs it,
   * then releases it: its position is the durable position. Do not mix with `read` between releases.
   * Returns how many records it handed over.
   */
  peek(handler: RecordHandler, limit: number): number {
    const words = this.words;
    const view = this.view;
    const mask = this.mask;
    let position = this.held;
    let count = 0;
    try {
      while (count < limit) {
        const index = position & mask;
        const length = Atomics.load(words, index >> 2);
        if (length <= 0) break;
        position = (position + alignRecord(length)) | 0;
        const type = words[(index >> 2) + 1];
        if (type !== PADDING_TYPE) {
          count++;
          handler(type, view, index + HEADER_LENGTH, length - HEADER_LENGTH);
        }
      }
    } finally {
      this.held = position;
    }
    return count;
  }

  /**
   * Publishes the position up to the last peeked record (one Atomics.store) and wakes the producer if
   * it parked on a full ring. Returns whether the position moved. The bytes are the producer's again.
   */
  release(): boolean {
    const held = this.held;
    if (held === this.position) return false;
    this.position = held;
    Atomics.store(this.words, this.positionWord, held);
    this.producerPark.wake();
    return true;
  }

  /** Whether a record (or padding) is published at this consumer's position. */
  hasData(): boolean {
    return Atomics.load(this.words, (this.held & this.mask) >> 2) > 0;
  }

  /** This consumer's position (bytes consumed, modulo 2^32, as an int32). */
  get consumed(): number {
    return this.position;
  }

  prepareToPark(): boolean {
    this.parkWord.announce();
    if (this.hasData()) {
      this.parkWord.withdraw();
      return false;
    }
    return true;
  }

  /**
   * Main thread: resolves when records may be available: at once (NOT_WAITED) if some already are,
   * WOKEN when the producer publishes, TIMED_OUT after `timeoutMs`. Never blocks; the wake costs the
   * producer one Atomics.notify and this thread an event-loop turn (~6-11 us p50 measured).
   * Note: a pending Atomics.waitAsync does not keep Node's event loop alive; the caller's other
   * handles (the gateway's listen socket, a running worker) must.
   */
  waitAsync(timeoutMs: number): Promise<WaitOutcome> {
    if (!this.prepareToPark()) return RESOLVED_NOT_WAITED;
    return this.parkWord.waitAsync(timeoutMs);
  }
}
