/**
 * A ring of variable-length records over a SharedArrayBuffer: one producer thread, N consumer threads
 * (N >= 1, fixed at creation), every consumer sees every record in order, and the producer is bounded
 * by the slowest consumer. One copy of each record, one cursor per consumer (Disruptor-style), so the
 * gateway and the journal can both follow a shard's event stream. Layout: `RingDescriptor`.
 *
 * Producer (this object):
 *   const ring = Ring.create(1 << 20, 2);               // capacity in bytes (2^k), consumers
 *   new Worker(url, { workerData: { ring: ring.buffer } }); // the other side: Ring.wrap(buffer)
 *   const at = ring.tryClaim(TYPE, 48);                // zero copy: write the payload in place
 *   if (at >= 0) { ring.view.setUint32(at, x, true); ...; ring.commit(); }
 *   else if (at === BACK_PRESSURED) { ... }             // full: reject (inbound) or idle (outbound)
 *   ring.tryWrite(TYPE, src, srcOffset, length);       // copying variant: OK / BACK_PRESSURED / TOO_LARGE
 *   ring.stage(); ... ring.commit();                   // several records published at once (or flush())
 *   ring.commit(written);                              // a claim shortened to what was written
 * Consumers: `ring.reader(i)` (see RingReader).
 *
 * Publication: the producer writes type and payload with plain stores, zeroes the header slot after
 * the record, then stores the record's length with Atomics.store; a consumer Atomics.loads the length
 * at its position and reads the record only when it is > 0. A record that does not fit before the end
 * of the buffer is preceded by a padding record to the end and starts at index 0. The producer reads
 * the consumers' positions only when its cached view of free space is too small. A commit costs one
 * Atomics.store plus one Atomics.load per consumer (their park words): no syscall unless a consumer
 * announced that it parked.
 *
 * Full-ring policy (the caller's, docs/ring.md): inbound (gateway -> shard) BACK_PRESSURED becomes a
 * BUSY reject of that order; outbound (shard -> gateway/journal) the shard waits with its idle
 * strategy (`new Backoff(ring)` parks on this ring's producer park word until a consumer frees space)
 * and never drops an event.
 *
 * Thread-safety: exactly one thread calls the producer methods (tryClaim, commit, stage, flush, abort,
 * tryWrite, prepareToPark); each reader index is used by exactly one thread. Diagnostics (producerPosition,
 * consumerPosition) are safe anywhere.
 */
import type { Parkable } from '../idle/IdleStrategy.js';
import { ParkWord } from '../idle/ParkWord.js';
import { GatedRingReader } from './GatedRingReader.js';
import {
  alignRecord,
  checkCapacity,
  checkConsumers,
  consumerParkOffset,
  consumerPositionOffset,
  HEADER_LENGTH,
  LINE,
  MAGIC,
  MAX_CONSUMERS,
  META_CAPACITY,
  META_CONSUMERS,
  META_MAGIC,
  META_OFFSET,
  META_VERSION,
  MIN_CAPACITY,
  maxPayloadLength,
  PADDING_TYPE,
  PRODUCER_PARK_OFFSET,
  PRODUCER_POSITION_OFFSET,
  ringByteLength,
  VERSION,
} from './RingDescriptor.js';
import { RingError } from './RingError.js';
import { RingReader } from './RingReader.js';
import { BACK_PRESSURED, OK, type RingResult, TOO_LARGE } from './RingResult.js';

const NO_CLAIM = -1;
/** Payloads up to this size are copied with a loop; larger ones with the native copy. */
const SMALL_COPY = 64;
const nativeCopy = Buffer.prototype.copy;

export class Ring implements Parkable {
  readonly buffer: SharedArrayBuffer;
  /** The record area and trailer as a DataView: write claimed payloads and read records through it. */
  readonly view: DataView;
  /** The same bytes as a Uint8Array. */
  readonly bytes: Uint8Array;
  /** Bytes in the record area (a power of two). */
  readonly capacity: number;
  readonly consumers: number;
  /** Largest payload accepted; bigger ones get TOO_LARGE. */
  readonly maxPayloadLength: number;
  /** The producer's park word: consumers wake it after freeing space. */
  readonly parkWord: ParkWord;

  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly producerPositionWord: number;
  private readonly consumerPositionWords: readonly number[];
  private readonly consumerParks: readonly ParkWord[];
  private readonly readers: readonly RingReader[];
  private readonly gatedReaders: (GatedRingReader | undefined)[];
  /** Producer position: bytes claimed so far, modulo 2^32. */
  private tail: number;
  /** The slowest consumer position as last read; refreshed only when space looks short. */
  private headCache: number;
  private claimIndex = NO_CLAIM;
  private claimLength = 0;
  /** First staged record (its length word still 0) and its length; NO_CLAIM when nothing is staged. */
  private stagedIndex = NO_CLAIM;
  private stagedLength = 0;

  /** Allocates a zeroed ring of `capacity` bytes (a power of two) for `consumers` consumers. */
  static create(capacity: number, consumers = 1): Ring {
    checkCapacity(capacity);
    checkConsumers(consumers);
    const buffer = new SharedArrayBuffer(ringByteLength(capacity, consumers));
    const meta = new Int32Array(buffer, capacity + META_OFFSET, 4);
    meta[META_MAGIC] = MAGIC;
    meta[META_VERSION] = VERSION;
    meta[META_CAPACITY] = capacity;
    meta[META_CONSUMERS] = consumers;
    return new Ring(buffer, capacity, consumers);
  }

  /** Wraps a ring another thread created (`ring.buffer` sent through workerData or postMessage). */
  static wrap(buffer: SharedArrayBuffer): Ring {
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new RingError(`Ring.wrap needs a SharedArrayBuffer, got ${describe(buffer)}`);
    }
    const length = buffer.byteLength;
    // Note: META sits right after the record area, whose size is the unknown; try each power of two
    // whose remainder is a whole trailer, and accept the one whose META names that capacity.
    for (let capacity = MIN_CAPACITY; capacity < length; capacity *= 2) {
      const consumers = ((length - capacity) / LINE - 3) / 2;
      if (!Number.isInteger(consumers) || consumers < 1 || consumers > MAX_CONSUMERS) continue;
      const meta = new Int32Array(buffer, capacity + META_OFFSET, 4);
      if (meta[META_MAGIC] !== MAGIC || meta[META_CAPACITY] !== capacity) continue;
      if (meta[META_VERSION] !== VERSION) {
        throw new RingError(`ring layout version ${meta[META_VERSION]} is not supported (want ${VERSION})`);
      }
      if (meta[META_CONSUMERS] !== consumers) continue;
      return new Ring(buffer, capacity, consumers);
    }
    throw new RingError(`SharedArrayBuffer of ${length} bytes is not a ring (no ring header found)`);
  }

  private constructor(buffer: SharedArrayBuffer, capacity: number, consumers: number) {
    this.buffer = buffer;
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.capacity = capacity;
    this.consumers = consumers;
    this.mask = capacity - 1;
    this.maxPayloadLength = maxPayloadLength(capacity);
    const words = this.words;
    const word = (trailerOffset: number) => (capacity + trailerOffset) >> 2;
    this.producerPositionWord = word(PRODUCER_POSITION_OFFSET);
    this.parkWord = new ParkWord(words, word(PRODUCER_PARK_OFFSET));
    const positions: number[] = [];
    const parks: ParkWord[] = [];
    const readers: RingReader[] = [];
    for (let i = 0; i < consumers; i++) {
      positions.push(word(consumerPositionOffset(i)));
      parks.push(new ParkWord(words, word(consumerParkOffset(i))));
      readers.push(new RingReader(i, words, this.view, capacity, positions[i], parks[i], this.parkWord));
    }
    this.consumerPositionWords = positions;
    this.consumerParks = parks;
    this.readers = readers;
    this.gatedReaders = new Array<GatedRingReader | undefined>(consumers).fill(undefined);
    this.tail = Atomics.load(words, this.producerPositionWord);
    this.headCache = this.slowestPosition();
  }

  /**
   * Consumer `index`'s reader (one per index, created with the ring; use it on one thread only).
   * With `{ gate: g }`: a `GatedRingReader` for the same cursor that reads only what consumer g has
   * consumed (consumer g must wake it: `wakeConsumer(index)` after publishing). Use either the plain
   * or the gated reader of an index, not both.
   */
  reader(index = 0, options?: { readonly gate?: number }): RingReader {
    const r = this.readers[index];
    if (r === undefined) {
      throw new RingError(`ring has ${this.consumers} consumer(s), no consumer index ${String(index)}`);
    }
    const gate = options?.gate;
    if (gate === undefined) return r;
    if (!Number.isInteger(gate) || gate < 0 || gate >= this.consumers || gate === index) {
      throw new RingError(
        `gate must be another consumer index of this ${this.consumers}-consumer ring, got ${String(gate)} for consumer ${index}`,
      );
    }
    let g = this.gatedReaders[index];
    if (g === undefined || g.gate !== gate) {
      g = new GatedRingReader(
        index,
        this.words,
        this.view,
        this.capacity,
        this.consumerPositionWords[index],
        this.consumerParks[index],
        this.parkWord,
        gate,
        this.consumerPositionWords[gate],
      );
      this.gatedReaders[index] = g;
    }
    return g;
  }

  /**
   * Wakes consumer `index` if it announced parking (one Atomics.load otherwise). A gate consumer calls
   * it after publishing its position, for the consumer gated on it. Any thread.
   */
  wakeConsumer(index: number): boolean {
    const park = this.consumerParks[index];
    if (park === undefined) {
      throw new RingError(`ring has ${this.consumers} consumer(s), no consumer index ${String(index)}`);
    }
    return park.wake();
  }

  /**
   * Reserves a record of `type` (an int32 >= 1) with a `length`-byte payload and returns the payload's
   * byte offset in `view`/`bytes` (always >= 8), or BACK_PRESSURED / TOO_LARGE (< 0). Write the payload
   * in place, then `commit()` (or `abort()`). Consumers see nothing until the commit.
   */
  tryClaim(type: number, length: number): number {
    if (length > this.maxPayloadLength) return TOO_LARGE;
    if (
      this.claimIndex !== NO_CLAIM ||
      !(length >= 0) ||
      (length | 0) !== length ||
      !(type >= 1) ||
      (type | 0) !== type
    ) {
      throw this.claimMisuse(type, length);
    }
    const recordLength = length + HEADER_LENGTH;
    const aligned = alignRecord(recordLength);
    const capacity = this.capacity;
    let tail = this.tail;
    let index = tail & this.mask;
    const toEnd = capacity - index;
    const padding = aligned > toEnd ? toEnd : 0;
    // Note: + HEADER_LENGTH keeps the header slot after this record free, so commit() can zero it.
    const required = padding + aligned + HEADER_LENGTH;
    if (required > capacity - ((tail - this.headCache) | 0)) {
      const head = this.slowestPosition();
      this.headCache = head;
      if (required > capacity - ((tail - head) | 0)) return BACK_PRESSURED;
    }
    const words = this.words;
    if (padding !== 0) {
      // Note: the header at index 0 holds a stale length from the previous lap; zero it before the
      // padding becomes visible, since a consumer goes straight from the padding to index 0.
      words[0] = 0;
      words[(index >> 2) + 1] = PADDING_TYPE;
      Atomics.store(words, index >> 2, padding);
      tail = (tail + padding) | 0;
      index = 0;
    }
    words[(index >> 2) + 1] = type;
    this.claimIndex = index;
    this.claimLength = recordLength;
    this.tail = (tail + aligned) | 0;
    return index + HEADER_LENGTH;
  }

  /**
   * Publishes the claimed record to every consumer and wakes the parked ones. `length` (optional,
   * <= the claimed payload length) shortens the record to its first `length` payload bytes and gives
   * the rest back: claim room for the most a record may need, write, then commit what was written.
   */
  commit(length?: number): void {
    const index = this.claimIndex;
    if (index === NO_CLAIM) throw new RingError('Ring.commit() without a successful tryClaim()');
    if (length !== undefined) this.shorten(length);
    this.publish(index, this.claimLength);
  }

  /**
   * Completes the claimed record without publishing it: consumers see it, together with every record
   * staged after it, at the next `commit()`, `abort()`, `tryWrite()` or `flush()`. One Atomics.store
   * and one wake check then publish the whole batch (the shard publishes a command's events at once).
   * Note: a producer that waits for space must `flush()` first, or it waits on its own records.
   * `length` shortens the record as in `commit(length)`.
   */
  stage(length?: number): void {
    const index = this.claimIndex;
    if (index === NO_CLAIM) throw new RingError('Ring.stage() without a successful tryClaim()');
    if (length !== undefined) this.shorten(length);
    if (this.stagedIndex === NO_CLAIM) {
      // Note: the first staged length stays 0 (zeroed ahead by the previous publication): it is the
      // one store that later publishes the batch.
      this.stagedIndex = index;
      this.stagedLength = this.claimLength;
    } else {
      // Note: a plain store; no consumer can pass the unpublished first record to read it.
      this.words[index >> 2] = this.claimLength;
    }
    this.claimIndex = NO_CLAIM;
  }

  /** Publishes the staged records (none: nothing happens). Throws while a claim is pending. */
  flush(): void {
    if (this.claimIndex !== NO_CLAIM) {
      throw new RingError('Ring.flush() while a claim is pending: commit(), stage() or abort() it first');
    }
    const first = this.stagedIndex;
    if (first === NO_CLAIM) return;
    const words = this.words;
    words[(this.tail & this.mask) >> 2] = 0;
    Atomics.store(words, first >> 2, this.stagedLength);
    this.stagedIndex = NO_CLAIM;
    this.published();
  }

  /** Whether staged records wait for `flush()` or the next commit. */
  get hasStaged(): boolean {
    return this.stagedIndex !== NO_CLAIM;
  }

  /** Gives a claimed record up: it becomes padding, which consumers skip. */
  abort(): void {
    const index = this.claimIndex;
    if (index === NO_CLAIM) throw new RingError('Ring.abort() without a successful tryClaim()');
    this.words[(index >> 2) + 1] = PADDING_TYPE;
    this.publish(index, this.claimLength);
  }

  /**
   * Copies `length` bytes of `src` from `srcOffset` into a new record of `type`. Returns OK,
   * BACK_PRESSURED (nothing written; retry later) or TOO_LARGE.
   */
  tryWrite(type: number, src: Uint8Array, srcOffset: number, length: number): RingResult {
    if (!(srcOffset >= 0) || !(srcOffset + length <= src.length)) {
      throw new RingError(
        `Ring.tryWrite source range [${String(srcOffset)}, ${String(srcOffset + length)}) is outside a ${src.length}-byte array`,
      );
    }
    const at = this.tryClaim(type, length);
    if (at < 0) return at as RingResult;
    const bytes = this.bytes;
    if (srcOffset === 0 && length === src.length) bytes.set(src, at);
    else if (length <= SMALL_COPY) for (let i = 0; i < length; i++) bytes[at + i] = src[srcOffset + i];
    else nativeCopy.call(src as Buffer, bytes, at, srcOffset, srcOffset + length);
    this.publish(this.claimIndex, this.claimLength);
    return OK;
  }

  /**
   * Producer side of the park protocol, for `new Backoff(ring)` on a full ring: announces PARKED,
   * then re-reads the consumers' positions; returns false (announcement withdrawn) if one moved since
   * the last BACK_PRESSURED, i.e. space may be there.
   */
  prepareToPark(): boolean {
    this.parkWord.announce();
    if (this.slowestPosition() !== this.headCache) {
      this.parkWord.withdraw();
      return false;
    }
    return true;
  }

  /** Bytes published so far, modulo 2^32 (diagnostics: backlog = producer - consumer position). */
  producerPosition(): number {
    return Atomics.load(this.words, this.producerPositionWord);
  }

  /** Bytes consumer `index` has consumed so far, modulo 2^32. */
  consumerPosition(index: number): number {
    const word = this.consumerPositionWords[index];
    if (word === undefined) {
      throw new RingError(`ring has ${this.consumers} consumer(s), no consumer index ${String(index)}`);
    }
    return Atomics.load(this.words, word);
  }

  private publish(index: number, recordLength: number): void {
    const words = this.words;
    // Note: zero ahead first (plain store), then the length (Atomics.store): a consumer that sees this
    // length also sees the zeroed header after it, never last lap's record there.
    words[((index + alignRecord(recordLength)) & this.mask) >> 2] = 0;
    const first = this.stagedIndex;
    if (first === NO_CLAIM) {
      Atomics.store(words, index >> 2, recordLength);
    } else {
      // Note: the staged records and this one become visible with the first staged length.
      words[index >> 2] = recordLength;
      Atomics.store(words, first >> 2, this.stagedLength);
      this.stagedIndex = NO_CLAIM;
    }
    this.claimIndex = NO_CLAIM;
    this.published();
  }

  /** Shortens the pending claim to a `length`-byte payload: the bytes after it go back to the ring. */
  private shorten(length: number): void {
    const claimed = this.claimLength;
    const recordLength = length + HEADER_LENGTH;
    if (!(length >= 0) || (length | 0) !== length || recordLength > claimed) {
      throw new RingError(
        `ring record can be shortened to 0..${claimed - HEADER_LENGTH} payload bytes, got ${String(length)}`,
      );
    }
    // Note: the claim is the last thing before the tail, so the tail moves back by the difference.
    this.tail = (this.tail - alignRecord(claimed) + alignRecord(recordLength)) | 0;
    this.claimLength = recordLength;
  }

  private published(): void {
    // Note: a plain store; the word is for diagnostics and for a producer that re-wraps the ring.
    this.words[this.producerPositionWord] = this.tail;
    const parks = this.consumerParks;
    for (let i = 0; i < parks.length; i++) parks[i].wake();
  }

  /** The position of the consumer furthest behind the producer. */
  private slowestPosition(): number {
    const words = this.words;
    const positions = this.consumerPositionWords;
    const tail = this.tail;
    let slowest = Atomics.load(words, positions[0]);
    let lag = (tail - slowest) | 0;
    for (let i = 1; i < positions.length; i++) {
      const p = Atomics.load(words, positions[i]);
      const l = (tail - p) | 0;
      if (l > lag) {
        lag = l;
        slowest = p;
      }
    }
    return slowest;
  }

  private claimMisuse(type: number, length: number): RingError {
    if (this.claimIndex !== NO_CLAIM) {
      return new RingError('Ring.tryClaim() while a claim is pending: commit() or abort() it first');
    }
    if (!(type >= 1) || (type | 0) !== type) {
      return new RingError(`ring record type must be an int32 >= 1, got ${String(type)}`);
    }
    return new RingError(`ring payload length must be an integer >= 0, got ${String(length)}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
