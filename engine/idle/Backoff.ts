/**
 * Idle strategy that spins, then "yields", then parks on a `ParkWord` until the feeding thread wakes
 * it (or a growing, bounded timeout runs out). The default for shard, journal and producer-on-full
 * waits: near-spin latency for bursts, no CPU when idle.
 *
 * Ladder, one step per `idle(0)` call; `idle(n > 0)` or `reset()` starts over:
 *   1. spin  `maxSpins` calls: return at once (the caller polls again, ~10-50 ns a pass).
 *   2. yield `maxYields` calls: `Atomics.wait` on a private word with a 0 ms timeout. JavaScript has
 *      no sched_yield; this enters and leaves the runtime's wait path (~0.15 us) without sleeping, so
 *      it only slows the polling of the shared cache lines. It is "yield-ish", not a real yield.
 *   3. park: `site.prepareToPark()` (announce PARKED, re-check) then `Atomics.wait` on the park word
 *      with `parkMs`, which starts at `minParkMs` and doubles on each timeout up to `maxParkMs`. The
 *      feeding thread notifies only when it sees PARKED, so a wake is prompt; the timeout is a
 *      safety net and a heartbeat for an idle thread, not the wake-up mechanism.
 *
 * Trade-off, measured on the 2-core dev VM with `npm run bench:ring` (docs/ring.md has the table):
 * a hand-off to a thread still in its spin phase costs what BusySpin costs (~0.15 us one-way p50);
 * to a parked thread it costs a futex wake, ~7 us p50 / ~25 us p99 on a quiet run and p99 in the
 * hundreds of microseconds on a loaded one, against 0 % CPU while parked. The defaults poll for only
 * ~2-4 us before sleeping, which suits a machine with fewer cores than threads: spinning there burns
 * the core the peer needs (BusySpin fell from ~19 to 3-5M records/s under load, Backoff held ~14M).
 * Raise `maxSpins` to buy latency with CPU only for a thread that owns a core; 0 parks at once.
 *
 * Counters (`parks`, `wakes`, `earlyWakes`, `timedOutWakes`, `cancelledParks`) are plain fields read
 * by the owning thread (tests assert `timedOutWakes === 0` in ping-pong: a lost wake-up shows up there).
 * Thread-safety: one instance per thread; the `site` must be owned by the same thread.
 */
import { ConfigError } from '../errors.js';
import type { IdleStrategy, Parkable } from './IdleStrategy.js';
import { TIMED_OUT, WOKEN } from './ParkWord.js';

export interface BackoffOptions {
  /** Idle calls that just return before yielding. Default 100 (~1-2 us of polling). */
  readonly maxSpins?: number;
  /** Idle calls that "yield" before parking. Default 10 (~2 us). */
  readonly maxYields?: number;
  /** First park timeout, milliseconds (fractions allowed). Default 1. */
  readonly minParkMs?: number;
  /** Park timeout cap, milliseconds. Default max(100, minParkMs). */
  readonly maxParkMs?: number;
}

const SPINNING = 0;
const YIELDING = 1;
const PARKING = 2;

export class Backoff implements IdleStrategy {
  readonly maxSpins: number;
  readonly maxYields: number;
  readonly minParkMs: number;
  readonly maxParkMs: number;

  /** Waits on the park word that ended with a notify. */
  wakes = 0;
  /** Waits that returned before sleeping (the wake raced ahead of Atomics.wait). */
  earlyWakes = 0;
  /** Waits that ran out their timeout. */
  timedOutWakes = 0;
  /** Parks that started (announcement stood after the re-check). */
  parks = 0;
  /** Parks abandoned because the re-check after the announcement found work. */
  cancelledParks = 0;

  private readonly site: Parkable;
  private readonly yieldWord: Int32Array;
  private state = SPINNING;
  private count = 0;
  private parkMs: number;

  /** The timeout of the next park (ms): `minParkMs` after work, doubled by each timed-out park. */
  get nextParkMs(): number {
    return this.parkMs;
  }

  constructor(site: Parkable, options: BackoffOptions = {}) {
    this.site = site;
    this.maxSpins = checkCount('maxSpins', options.maxSpins ?? 100);
    this.maxYields = checkCount('maxYields', options.maxYields ?? 10);
    this.minParkMs = checkMs('minParkMs', options.minParkMs ?? 1);
    this.maxParkMs = checkMs('maxParkMs', options.maxParkMs ?? Math.max(100, this.minParkMs));
    if (this.maxParkMs < this.minParkMs) {
      throw new ConfigError(
        `Backoff maxParkMs must be >= minParkMs (${this.minParkMs}), got ${String(this.maxParkMs)}`,
      );
    }
    this.yieldWord = new Int32Array(new SharedArrayBuffer(4));
    this.parkMs = this.minParkMs;
  }

  idle(workCount: number): void {
    if (workCount > 0) {
      if (this.state !== SPINNING || this.count !== 0) this.reset();
      return;
    }
    if (this.state === SPINNING) {
      if (++this.count <= this.maxSpins) return;
      this.state = YIELDING;
      this.count = 0;
    }
    if (this.state === YIELDING) {
      if (++this.count <= this.maxYields) {
        Atomics.wait(this.yieldWord, 0, 0, 0);
        return;
      }
      this.state = PARKING;
      this.count = 0;
    }
    this.park();
  }

  reset(): void {
    this.state = SPINNING;
    this.count = 0;
    this.parkMs = this.minParkMs;
  }

  private park(): void {
    const site = this.site;
    if (!site.prepareToPark()) {
      this.cancelledParks++;
      return;
    }
    this.parks++;
    const outcome = site.parkWord.wait(this.parkMs);
    if (outcome === WOKEN) this.wakes++;
    else if (outcome === TIMED_OUT) {
      this.timedOutWakes++;
      this.parkMs = Math.min(this.parkMs * 2, this.maxParkMs);
    } else this.earlyWakes++;
  }
}

function checkCount(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) {
    throw new ConfigError(`Backoff ${name} must be an integer >= 0, got ${String(v)}`);
  }
  return v;
}

function checkMs(name: string, v: number): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new ConfigError(`Backoff ${name} must be a finite number of milliseconds > 0, got ${String(v)}`);
  }
  return v;
}
