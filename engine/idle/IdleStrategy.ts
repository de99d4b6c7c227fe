/**
 * What a polling loop does when a pass found no work: the Agrona/Disruptor idle (wait) strategy.
 *
 *   for (;;) { const work = reader.read(handler, 256); idle.idle(work); }
 *
 * `idle(workCount)` with workCount > 0 resets the strategy (work arrived, start over); with 0 it moves
 * one step along the strategy's ladder (spin, yield, park). Implementations: `BusySpin` (lowest
 * latency, burns a core) and `Backoff` (spin, then yield-ish, then park on a `ParkWord` until woken).
 * Thread-safety: an idle strategy belongs to one thread; never share an instance.
 */
import type { ParkWord } from './ParkWord.js';

export interface IdleStrategy {
  idle(workCount: number): void;
  reset(): void;
}

/**
 * Something a thread can park on: its park word plus the re-check that must follow the announcement.
 * `RingReader` is one (the consumer waits for records), `Ring` is another (the producer waits for
 * space on a full ring).
 */
export interface Parkable {
  /**
   * Announces PARKED on `parkWord`, then re-checks the condition with Atomics loads. Returns true when
   * the caller may sleep (still no work); returns false, with the announcement withdrawn, when work
   * arrived meanwhile.
   */
  prepareToPark(): boolean;
  readonly parkWord: ParkWord;
}
