/**
 * The shard's EventSink: the engine writes every 128-byte event straight into the shard's event ring
 * (zero copy: `claim()` is a `Ring.tryClaim`, the engine fills the slot in place). Events are staged
 * (`Ring.stage()`) and published by command batch: `flush()`, which the shard loop calls after each
 * batch of commands it read, or `commit()` once `publishEvery` events are staged, whichever comes
 * first. So a consumer never sees part of a command, and one Atomics.store (a full fence on x86)
 * publishes many events: publishing per command cost the shard ~25 % of its time at 1M commands/s,
 * the fence waiting for the ownership of the event's cache lines, which the gateway had just read.
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
  /** Events staged and not yet published before this many: `commit()` publishes. */
  private readonly publishEvery: number;
  /** A claim is open (the latest event); the next claim or commit stages it. */
  private open = false;
  /** Events staged since the last publication. */
  private staged = 0;

  /**
   * `idle` waits for space on a full ring (give it `new Backoff(ring)` or a `BusySpin`); `control`,
   * when given, gets heartbeats and the WAITING state while it waits; `commit()` publishes once
   * `publishEvery` events are staged (default 64: 8 KiB; 1 publishes every command).
   */
  constructor(ring: Ring, idle: IdleStrategy, control?: ShardControl, publishEvery = 64) {
    if (!Number.isInteger(publishEvery) || publishEvery < 1) {
      throw new PipelineError(`publishEvery must be an integer >= 1, got ${String(publishEvery)}`);
    }
    if (ring.maxPayloadLength < EVENT_SIZE) {
      throw new PipelineError(
        `event ring of ${ring.capacity} bytes takes payloads up to ${ring.maxPayloadLength} bytes; an event needs ${EVENT_SIZE} (use 2048 bytes or more)`,
      );
    }
    this.ring = ring;
    this.view = ring.view;
    this.idle = idle;
    this.control = control;
    this.publishEvery = publishEvery;
  }

  claim(): number {
    const ring = this.ring;
    if (this.open) ring.stage();
    let at = ring.tryClaim(EVENT_RECORD, EVENT_SIZE);
    if (at < 0) at = this.waitForSpace();
    this.open = true;
    this.events++;
    this.staged++;
    return at;
  }

  /** End of a command: its events are staged; published if `publishEvery` events wait. */
  commit(): void {
    if (!this.open) return;
    this.open = false;
    this.ring.stage();
    if (this.staged >= this.publishEvery) this.flush();
  }

  /** Publishes every staged event (end of a command batch). Call between commands only. */
  flush(): void {
    this.ring.flush();
    this.staged = 0;
  }

  /**
   * After the engine threw mid-command (the shard is dying): publishes every staged event, so the
   * events of the batch's completed commands are delivered (with the failed command's partial ones),
   * and gives the open claim up.
   */
  salvage(): void {
    if (this.open) {
      this.open = false;
      this.ring.abort();
    } else {
      this.ring.flush();
    }
    this.staged = 0;
  }

  private waitForSpace(): number {
    const ring = this.ring;
    const idle = this.idle;
    const control = this.control;
    // Note: consumers free space only behind records they can see; publish the staged ones first.
    ring.flush();
    this.staged = 0;
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
