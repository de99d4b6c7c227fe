/**
 * Gateway time: integer microseconds since the Unix epoch, the unit of every timestamp in command
 * and event records and on the wire. The clock itself is the pipeline's (engine/runtime/CommandClock:
 * monotonic within the process, so the engine's time follows it); this module adds the formatting.
 * Thread-safety: pure functions.
 */
import { epochMicros } from '../../engine/runtime/CommandClock.js';

/** Microseconds since the Unix epoch, an integer, non-decreasing within the thread. */
export const nowMicros: () => number = epochMicros;

let cachedMs = -1;
let cachedPrefix = '';

/** Formats a microsecond timestamp as ISO 8601 with microseconds ("2025-01-01T00:00:00.000123Z"). */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  if (ms !== cachedMs) {
    // Note: consecutive calls mostly fall in the same millisecond: format the date part once.
    cachedMs = ms;
    cachedPrefix = new Date(ms).toISOString().slice(0, -1); // ...ss.mmm
  }
  return `${cachedPrefix}${String(us - ms * 1000).padStart(3, '0')}Z`;
}
