/**
 * Order ids and trade ids: `shardId * 2^40 + counter`, a float64 integer <= 2^53-1.
 *
 * The engine of shard `s` numbers its accepted orders 1, 2, 3, ... and its trades 1, 2, 3, ...; the
 * high bits carry the shard so the gateway routes a cancel or amend by order id with a shift, no
 * lookup table. 13 bits of shard (0..8191) and 40 bits of counter (about 1.1e12 ids per shard).
 * Thread-safety: pure functions.
 */

export const SHARD_SHIFT = 2 ** 40;
export const MAX_SHARD_ID = 8191;
export const MAX_COUNTER = SHARD_SHIFT - 1;

/** The id of the `counter`-th order (or trade) of shard `shardId`. */
export function makeId(shardId: number, counter: number): number {
  return shardId * SHARD_SHIFT + counter;
}

/** The shard that issued an order id or trade id. */
export function shardOf(id: number): number {
  return Math.floor(id / SHARD_SHIFT);
}

/** The per-shard counter part of an order id or trade id. */
export function counterOf(id: number): number {
  return id % SHARD_SHIFT;
}
