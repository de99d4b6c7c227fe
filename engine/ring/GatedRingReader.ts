/**
 * A consumer cursor gated by another consumer of the same ring (a dependency barrier, as in the LMAX
 * Disruptor): it reads only records the gate consumer has already consumed and published. In
 * DURABILITY=sync the shard reads its command ring through one gated by the journal (consumer 1),
 * whose position moves only after the fsync that covers those commands, so the engine processes, and
 * the gateway reports, only durable commands.
 *
 *   const reader = ring.reader(0, { gate: 1 });   // consumer 0, behind consumer 1
 *   reader.read(onRecord, 256);                    // as RingReader.read, bounded by the gate
 *   new Backoff(reader);                           // parks until the gate moves (see below)
 *
 * Park protocol: `prepareToPark()` announces PARKED on this consumer's park word, then re-loads the
 * gate's position; the gate consumer publishes its position (Atomics.store), then must wake this
 * consumer: `ring.wakeConsumer(i)` (one Atomics.load when nobody parked). Either the re-check sees the
 * new position or the waker sees PARKED. The producer's commit also wakes it (harmlessly early: the
 * re-check finds the gate where it was and it parks again).
 *
 * The ungated `RingReader.read` is untouched: this subclass carries the extra load per batch, and a
 * thread uses one class or the other, so call sites stay monomorphic.
 * Thread-safety: as RingReader; the gate consumer runs on another thread.
 */
import type { ParkWord } from '../idle/ParkWord.js';
import { alignRecord, HEADER_LENGTH, PADDING_TYPE } from './RingDescriptor.js';
import { RingError } from './RingError.js';
import { type RecordHandler, RingReader } from './RingReader.js';

export class GatedRingReader extends RingReader {
  /** The consumer index this reader waits for. */
  readonly gate: number;
  private readonly gateWord: number;

  /** @internal Created by `Ring.reader(index, { gate })`. */
  constructor(
    index: number,
    words: Int32Array,
    view: DataView,
    capacity: number,
    positionWord: number,
    parkWord: ParkWord,
    producerPark: ParkWord,
    gate: number,
    gateWord: number,
  ) {
    super(index, words, view, capacity, positionWord, parkWord, producerPark);
    this.gate = gate;
    this.gateWord = gateWord;
  }

  /** As `RingReader.read`, but never past the gate consumer's published position. */
  override read(handler: RecordHandler, limit: number): number {
    const words = this.words;
    const view = this.view;
    const mask = this.mask;
    const start = this.position;
    // Note: one Atomics.load per batch; the gate only moves forward, so a stale value is merely
    // conservative. Both consumers step over the same records, so positions line up exactly.
    const end = Atomics.load(words, this.gateWord);
    let position = start;
    let count = 0;
    try {
      while (count < limit && position !== end) {
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
        Atomics.store(words, this.positionWord, position);
        this.producerPark.wake();
      }
    }
    return count;
  }

  /** Whether the gate consumer has consumed past this reader's position. */
  override hasData(): boolean {
    return Atomics.load(this.words, this.gateWord) !== this.position;
  }

  override peek(): number {
    throw new RingError('a gated reader cannot peek: only the gate consumer holds records');
  }
}
