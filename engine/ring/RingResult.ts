/**
 * Result codes of the ring's producer calls (`Ring.tryWrite`, `Ring.tryClaim`). Expected outcomes are
 * numbers, never exceptions: the gateway maps BACK_PRESSURED on an inbound ring to a BUSY reject, the
 * shard waits with its idle strategy on an outbound one. `tryClaim` returns an index >= 8 on success,
 * so every code is <= 0 and `result < 0` means "not claimed".
 * Thread-safety: constants.
 */

/** Written (tryWrite). */
export const OK = 0;
/** Not enough free space until the slowest consumer moves on; nothing was written. */
export const BACK_PRESSURED = -2;
/** The payload exceeds `Ring.maxPayloadLength`; it will never fit this ring. */
export const TOO_LARGE = -3;

export type RingResult = typeof OK | typeof BACK_PRESSURED | typeof TOO_LARGE;
