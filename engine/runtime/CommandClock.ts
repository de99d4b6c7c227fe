/**
 * Command timestamps: the engine has no clock (docs/matching.md section 1), so the gateway stamps each
 * command just before it enters a shard's ring, and that timestamp is the engine's time for it (GTD
 * expiry, event timestamps, replay). Unit: integer microseconds since the Unix epoch, as in the wire
 * protocol's `timestamp_us` (docs/protocol.md): today about 1.7e15, far below 2^53, where nanoseconds
 * since the epoch (1.7e18) would not fit a float64 exactly. GTD `expireTime` uses the same unit.
 *
 * The clock is `performance.timeOrigin + performance.now()`: the wall clock read once at thread start,
 * advanced by the monotonic clock, so it never goes backwards within a process (an NTP step does not
 * move it). Across restarts the engine keeps its own `now` monotonic anyway (a timestamp <= now is
 * ignored), so replay is unaffected.
 * Thread-safety: pure functions; stamp on the thread that owns the record (the gateway's, main).
 */
import { TIMESTAMP } from '../records/CommandRecord.js';

const origin = performance.timeOrigin;

/** Integer microseconds since the Unix epoch, non-decreasing within this thread. */
export function epochMicros(): number {
  return Math.floor((origin + performance.now()) * 1000);
}

/** Writes `epochMicros()` into the timestamp field of the command record at `offset`; returns it. */
export function stampCommand(view: DataView, offset: number): number {
  const t = epochMicros();
  view.setFloat64(offset + TIMESTAMP, t, true);
  return t;
}
