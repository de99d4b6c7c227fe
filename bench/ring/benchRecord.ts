/**
 * The record both sides of `bench/ring/ring.bench.ts` agree on: a 64-byte payload
 * [u32 seq][u32 checkword(seq)][56 zero bytes], the same bytes on the ring and through postMessage.
 * Thread-safety: constants and a pure function.
 */
export const PAYLOAD = 64;
export const RECORD_TYPE = 1;

/** The second word of record `seq`; consumers sum it and the bench compares with the producer's sum. */
export function checkword(seq: number): number {
  return Math.imul(seq, 0x9e3779b1) >>> 0;
}
