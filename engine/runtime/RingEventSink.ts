/**
 * The shard's EventSink: the engine writes every 128-byte event straight into the shard's event ring
 * (zero copy: `claim()` is a `Ring.tryClaim`, the engine fills the slot in place), and the events of
 * one command become visible together at `commit()` (staged records, one Atomics.store per command).
 *
 * Full ring: the shard never drops an event and the engine cannot stop half-way through a command, so
 * `claim()` waits until a consumer frees space: it first publishes what is staged (the consumers can
 * only free space behind records they can see, so a command whose events outgrow the free space is
 * published in parts), then idles with the shard's strategy (`Backoff` parks on the ring's producer
 * park word; consumers wake it) while beating the heartbeat and showing WAITING in the control block.
 *
 * Used by the shard loop (`ShardLoop.runShard`). Thread-safety: the shard's thread only (it is the
 * ring's single producer).
 */
import type { EventSink } from '../book/EventSink.js';
import type { IdleStrategy } from '../idle/IdleStrategy.js';
import { EVENT_SIZE } from '../records/EventRecord.js';
import type { Ring } from '../ring/Ring.js';
import { BACK_PRESSURED } from '../ring/RingResult.js';
import { type ShardControl, ShardState } from './ControlBlock.js';
import { PipelineError } from './PipelineError.js';
import { EVENT_RECORD } from './RecordTypes.js';

export class RingEventSink implements EventSink {
  /** The event ring's bytes; every slot `claim()` returns is an offset in it. */
  readonly view: DataView;
  /** Events written so far. */
  events = 0;
  /** Times `claim()` found the ring full and had to wait. */
  waits = 0;

  private readonly ring: Ring;
  private readonly idle: IdleStrategy;
  private readonly control: ShardControl | undefined;
  /** A claim is open (the latest event); it is staged by the next claim or published by commit. */
  private open = false;

  /**
   * `idle` waits for space on a full ring (give it `new Backoff(ring)` or a `BusySpin`); `control`,
   * when given, gets heartbeats and the WAITING state while it waits.
   */
  constructor(ring: Ring, idle: IdleStrategy, control?: ShardControl) {
    if (ring.maxPayloadLength < EVENT_SIZE) {
      throw new PipelineError(
        `event ring of ${ring.capacity} bytes takes payloads up to ${ring.maxPayloadLength} bytes; an event needs ${EVENT_SIZE} (use 2048 bytes or more)`,
      );
    }
    this.ring = ring;
    this.view = ring.view;
    this.idle = idle;
    this.control = control;
  }

  claim(): number {
    const ring = this.ring;
    if (this.open) ring.stage();
    let at = ring.tryClaim(EVENT_RECORD, EVENT_SIZE);
    if (at < 0) at = this.waitForSpace();
    this.open = true;
    this.events++;
    return at;
  }

  commit(): void {
    if (this.open) {
      this.open = false;
      this.ring.commit();
    }
  }

  private waitForSpace(): number {
    const ring = this.ring;
    const idle = this.idle;
    const control = this.control;
    // Note: consumers free space only behind records they can see; publish the staged ones first.
    ring.flush();
    this.waits++;
    control?.setState(ShardState.WAITING);
    let at: number;
    do {
      idle.idle(0);
      control?.beat();
      at = ring.tryClaim(EVENT_RECORD, EVENT_SIZE);
    } while (at === BACK_PRESSURED);
    idle.reset();
    control?.setState(ShardState.RUNNING);
    return at;
  }
}
