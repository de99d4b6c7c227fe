/**
 * Result codes of the gateway-facing pipeline calls (`Pipeline.claimCommand`, `Pipeline.submit`).
 * Expected outcomes are numbers, never exceptions; all are <= 0, and `claimCommand` returns an offset
 * >= 8 on success, so `result < 0` means "not taken". The ring's own codes keep their values.
 *
 *   OK              the command is in the shard's inbound ring (submit)
 *   BACK_PRESSURED  the inbound ring is full: answer that order with a BUSY reject (counted per shard)
 *   SHARD_DOWN      the shard's worker died or stalled: its symbols take no commands until recovery
 *   STOPPED         the pipeline is stopping or stopped: intake is closed
 *
 * Thread-safety: constants and a pure function.
 */
import { BACK_PRESSURED, OK } from '../ring/RingResult.js';

export { BACK_PRESSURED, OK };

/** The shard that owns the symbol is down (its worker exited, threw, or its heartbeat stalled). */
export const SHARD_DOWN = -4;
/** The pipeline no longer takes commands (`stop()` was called). */
export const STOPPED = -5;

export type SubmitResult = typeof OK | typeof BACK_PRESSURED | typeof SHARD_DOWN | typeof STOPPED;

/** The constant's name, for logs and tests (interned literals, no allocation). */
export function submitResultName(code: number): string {
  switch (code) {
    case OK:
      return 'OK';
    case BACK_PRESSURED:
      return 'BACK_PRESSURED';
    case SHARD_DOWN:
      return 'SHARD_DOWN';
    case STOPPED:
      return 'STOPPED';
    default:
      return code >= 0 ? 'CLAIMED' : 'UNKNOWN';
  }
}
