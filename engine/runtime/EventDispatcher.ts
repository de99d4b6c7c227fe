/**
 * The main thread's side of the event rings: hands every event record of every shard, in each shard's
 * order, to one handler `(shardId, view, offset)`, without ever blocking the thread.
 *
 * One async drain loop per shard ring (consumer 0, the gateway's cursor):
 *   read up to `batch` records at a time (a record is a run of 1..64 events, see RingEventSink),
 *   until `maxPerTurn` events were handed over in this event-loop turn, then yield with
 *   setImmediate (so uWebSockets.js I/O, timers and the other shards run between bursts); when the
 *   ring is empty, poll it once per turn for `pollMs`, then park in `reader.waitAsync(idleWaitMs)`
 *   (Atomics.waitAsync: the shard's commit wakes it, ~20 us on the busy dev VM; the timeout is only
 *   a safety net). Trade-off: parking at once made the shard pay an Atomics.notify (a task posted
 *   to this thread) every few events, over half of its time at 0.5M commands/s; polling 50 us costs
 *   this thread ~50 us of CPU per idle period instead.
 * The handler gets the ring's DataView and the payload offset of one 128-byte event record: the bytes
 * are valid only during the call (copy what you keep). A handler that throws loses nothing else: the
 * event counts as delivered, `onError(shard, err)` is told, and the record's next event follows.
 *
 * `finish(shard)` says no more records will come (the worker exited): the loop drains what is there
 * and ends; `done()` resolves when every loop has ended. Created and driven by `engine/pipeline.ts`.
 * Thread-safety: main thread only (it owns consumer 0 of every event ring).
 */
import { EVENT_SIZE } from '../records/EventRecord.js';
import type { RingReader } from '../ring/RingReader.js';

export type EventHandler = (shardId: number, view: DataView, offset: number) => void;

export interface DispatcherOptions {
  /** Ring records (each 1..64 events) per `read` call. Default 16. */
  readonly batch?: number;
  /**
   * Events per shard per event-loop turn before yielding (checked between reads, so a turn may run
   * over by up to `batch` records). Default 4096.
   */
  readonly maxPerTurn?: number;
  /**
   * How long an empty ring is polled, one check per event-loop turn (setImmediate, ~1.5 us), before
   * the loop parks in `waitAsync`, ms. Default 0.05 (50 us). 0 parks at once.
   */
  readonly pollMs?: number;
  /** Longest `waitAsync` on an empty ring, ms (a safety net; wakes are signalled). Default 1000. */
  readonly idleWaitMs?: number;
  /**
   * Told when the handler throws (that event is skipped, the next follows). Default: rethrown from a
   * microtask; an `onError` that throws has its error rethrown from a microtask too.
   */
  readonly onError?: (shardId: number, err: unknown) => void;
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class EventDispatcher {
  /** Events handed to the handler so far, per shard. */
  readonly delivered: Float64Array;
  /** Times each loop parked in `waitAsync` (each costs the shard an Atomics.notify to wake it). */
  readonly parks: Float64Array;

  private readonly readers: readonly RingReader[];
  private readonly recordHandlers: ((type: number, view: DataView, offset: number, length: number) => void)[];
  private readonly batch: number;
  private readonly maxPerTurn: number;
  private readonly pollMs: number;
  private readonly idleWaitMs: number;
  private readonly finishing: boolean[];
  private loops: Promise<void>[];

  constructor(readers: readonly RingReader[], handler: EventHandler, options: DispatcherOptions = {}) {
    this.readers = readers;
    this.delivered = new Float64Array(readers.length);
    this.parks = new Float64Array(readers.length);
    this.batch = options.batch ?? 16;
    this.maxPerTurn = options.maxPerTurn ?? 4096;
    this.pollMs = options.pollMs ?? 0.05;
    this.idleWaitMs = options.idleWaitMs ?? 1000;
    const rethrowLater = (err: unknown) =>
      queueMicrotask(() => {
        throw err;
      });
    const told = options.onError ?? ((_shard: number, err: unknown) => rethrowLater(err));
    // Note: an onError that throws must not cost the record's other events: its error is rethrown
    // from a microtask, as an unhandled handler error is.
    const onError = (shard: number, err: unknown) => {
      try {
        told(shard, err);
      } catch (e) {
        rethrowLater(e);
      }
    };
    this.finishing = readers.map(() => false);
    this.loops = [];
    const delivered = this.delivered;
    this.recordHandlers = readers.map(
      (_, shard) => (_type: number, view: DataView, offset: number, length: number) => {
        for (let at = offset, end = offset + length; at < end; at += EVENT_SIZE) {
          delivered[shard]++;
          try {
            handler(shard, view, at);
          } catch (err) {
            onError(shard, err);
          }
        }
      },
    );
  }

  /** Starts one drain loop per ring. */
  start(): void {
    if (this.loops.length > 0) return;
    this.loops = this.readers.map((_, shard) => this.drain(shard));
  }

  /** No more records will be published on `shard`'s ring: drain it to the end and stop its loop. */
  finish(shard: number): void {
    if (this.finishing[shard]) return;
    this.finishing[shard] = true;
    // Note: wakes this thread's own pending waitAsync on that ring, so the loop ends now, not at the
    // timeout.
    this.readers[shard].parkWord.wake();
  }

  /** Resolves when every loop has ended (each after `finish`). */
  async done(): Promise<void> {
    await Promise.all(this.loops);
  }

  private async drain(shard: number): Promise<void> {
    const reader = this.readers[shard];
    const onRecord = this.recordHandlers[shard];
    const batch = this.batch;
    const maxPerTurn = this.maxPerTurn;
    const pollMs = this.pollMs;
    const delivered = this.delivered;
    /** When the ring was first found empty (-1 while records flow). */
    let emptySince = -1;
    for (;;) {
      // Note: read the flag before draining: whatever was published before finish() is visible then,
      // so an empty ring after it means the end.
      const last = this.finishing[shard];
      let budget = maxPerTurn;
      let n: number;
      do {
        const before = delivered[shard];
        // Note: cannot throw: the record handler catches the handler's errors per event.
        n = reader.read(onRecord, batch);
        budget -= delivered[shard] - before;
      } while (n > 0 && budget > 0);
      if (budget < maxPerTurn) emptySince = -1;
      if (budget <= 0) {
        await yieldTurn();
      } else if (last) {
        return;
      } else if (emptySince < 0 || performance.now() - emptySince < pollMs) {
        // Note: polling a little before parking spares a busy shard an Atomics.notify for every few
        // events (measured: without it the shard spent more than half its time waking this thread).
        if (emptySince < 0) emptySince = performance.now();
        await yieldTurn();
      } else {
        emptySince = -1;
        this.parks[shard]++;
        await reader.waitAsync(this.idleWaitMs);
      }
    }
  }
}
