/**
 * What the order gateway needs from the engine pipeline: route a symbol to its shard, claim a command
 * slot in the shard's inbound ring, fill it in place, publish it.
 *
 * `engine/pipeline.ts` implements it with SharedArrayBuffer rings and worker threads; unit tests use
 * an in-process engine. Keeping the gateway behind this small interface means nothing in
 * `gateway/orders/` knows the topology (ARCHITECTURE: one place wires the pipeline).
 * Thread-safety: main thread only (the gateway is the rings' single producer).
 */

/** A claim failed because the shard's inbound ring is full: answer BUSY, the client may retry. */
export const CLAIM_BACK_PRESSURED = -2;

export interface CommandPort {
  /** The shard that owns a symbol's book. */
  shardOf(symbolId: number): number;
  /**
   * Reserves one command record in the shard's inbound ring and returns its byte offset in
   * `commandView(shard)`, or a negative code: CLAIM_BACK_PRESSURED when the ring is full, any other
   * negative value when the shard cannot take commands (down, stopping).
   */
  claimCommand(shard: number): number;
  /** The view the offset returned by `claimCommand` refers to (re-read after every claim). */
  commandView(shard: number): DataView;
  /** Publishes the record claimed last on this shard. */
  commitCommand(shard: number): void;
}
