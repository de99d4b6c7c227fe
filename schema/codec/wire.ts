// Little-endian primitives over a Uint8Array, and the safe int64 rule of protocol v1.
//
// Called by the flyweight readers, the encoders and the verifier on every field, so everything here
// is a small monomorphic function over (Uint8Array, number) that never allocates. Pure functions: safe
// on any thread.
//
// The 2^53 rule: prices, quantities, order ids, trade ids, sequence numbers and timestamps are int64 /
// uint64 on the wire but must lie in 0 .. 2^53-1 (Number.MAX_SAFE_INTEGER) so that JavaScript can hold
// them in a number exactly. We never read them as BigInt (0.6-0.9x slower and it allocates): an 8-byte
// field is read as two 32-bit halves and combined as hi * 2^32 + lo, which is exact when hi < 2^21.
//
//   byte:   0    1    2    3    4    5    6    7
//         [ lo (uint32, LE)    ][ hi (uint32, LE)    ]
//   safe unsigned  <=>  hi <= 0x001FFFFF            (also rejects every negative int64: top bit set)
//   safe signed    <=>  -2^53 < v < 2^53            (hi in -2^21 .. 2^21-1, and not exactly -2^53)

export const MAX_SAFE_INT64 = Number.MAX_SAFE_INTEGER;
/** hi half of 2^53-1: the largest hi word of a safe non-negative value. */
export const SAFE_HI_MAX = 0x001fffff;
export const TWO_POW_32 = 4294967296;
/** Returned by readSafeUint64 for a value outside 0 .. 2^53-1 (cannot be a valid value). */
export const UNSAFE_INT64 = -1;

export function readU16(bytes: Uint8Array, pos: number): number {
  return bytes[pos] | (bytes[pos + 1] << 8);
}

export function readI32(bytes: Uint8Array, pos: number): number {
  return bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24);
}

export function readU32(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24)) >>> 0;
}

/** Writes `value` as a uint32, little-endian (the length prefix of batched reports). */
export function writeU32(bytes: Uint8Array, pos: number, value: number): void {
  bytes[pos] = value;
  bytes[pos + 1] = value >>> 8;
  bytes[pos + 2] = value >>> 16;
  bytes[pos + 3] = value >>> 24;
}

/**
 * Reads an 8-byte field as an unsigned value in 0 .. 2^53-1, returning UNSAFE_INT64 (-1) for anything
 * larger — and, applied to an int64 field, for any negative value. Never rounds.
 */
export function readSafeUint64(bytes: Uint8Array, pos: number): number {
  const hi = readU32(bytes, pos + 4);
  if (hi > SAFE_HI_MAX) return UNSAFE_INT64;
  return hi * TWO_POW_32 + readU32(bytes, pos);
}

/**
 * Reads an 8-byte signed field as a number with |v| <= 2^53-1, returning NaN outside that range.
 * (No v1 field is signed; this is the rule for any future one.)
 */
export function readSafeInt64(bytes: Uint8Array, pos: number): number {
  const hi = readI32(bytes, pos + 4);
  const lo = readU32(bytes, pos);
  if (hi > SAFE_HI_MAX || hi < -SAFE_HI_MAX - 1 || (hi === -SAFE_HI_MAX - 1 && lo === 0)) return Number.NaN;
  return hi * TWO_POW_32 + lo;
}

/** Upper 32 bits of a non-negative safe integer. */
export function hiWord(value: number): number {
  return Math.floor(value / TWO_POW_32);
}

/** Lower 32 bits of a non-negative safe integer, as an unsigned number. */
export function loWord(value: number): number {
  return value >>> 0;
}

/** True when `value` may travel in a v1 int64/uint64 field: an integer in 0 .. 2^53-1. */
export function isSafeWireInt(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Decimal text of a uint64 given as two uint32 halves (off the hot path: it allocates). */
export function formatUint64(hi: number, lo: number): string {
  return ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}
