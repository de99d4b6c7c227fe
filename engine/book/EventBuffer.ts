/**
 * A growable, in-memory EventSink: events are appended back to back in one ArrayBuffer.
 *
 * Used by tests, the WAL replayer and the differential tests to collect an event stream and compare
 * it byte for byte. Growth doubles the buffer (an allocation, but only when capacity is exceeded;
 * preallocate with `initialEvents` to keep steady state allocation-free). `clear()` forgets the
 * events and keeps the memory.
 * Thread-safety: single-threaded; owned by the engine's caller.
 */
import { EngineConfigError } from '../EngineError.js';
import { EVENT_SIZE } from '../records/EventRecord.js';
import type { EventSink } from './EventSink.js';

export class EventBuffer implements EventSink {
  view: DataView;
  bytes: Uint8Array;
  /** Number of events written. */
  count: number;
  /** Number of `commit()` calls (one per processed command). */
  commits: number;

  constructor(initialEvents = 1024) {
    if (!Number.isInteger(initialEvents) || initialEvents < 1) {
      throw new EngineConfigError(`EventBuffer initialEvents must be an integer >= 1, got ${initialEvents}`);
    }
    this.bytes = new Uint8Array(initialEvents * EVENT_SIZE);
    this.view = new DataView(this.bytes.buffer);
    this.count = 0;
    this.commits = 0;
  }

  claim(): number {
    const off = this.count * EVENT_SIZE;
    if (off + EVENT_SIZE > this.bytes.length) this.grow();
    this.count++;
    return off;
  }

  commit(): void {
    this.commits++;
  }

  /** Byte offset of event `i` (0-based) in `view`. */
  offsetOf(i: number): number {
    return i * EVENT_SIZE;
  }

  /** The bytes of all events written so far (a view, not a copy). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.count * EVENT_SIZE);
  }

  /** Forgets all events; keeps the memory. */
  clear(): void {
    this.count = 0;
    this.commits = 0;
  }

  private grow(): void {
    const next = new Uint8Array(this.bytes.length * 2);
    next.set(this.bytes);
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
}
