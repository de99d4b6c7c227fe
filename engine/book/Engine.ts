/**
 * The contract every matching-engine implementation meets: the fast `MatchingEngine` and the naive
 * reference book used by the differential tests. docs/matching.md defines the behaviour byte for
 * byte; this file defines the calls.
 *
 * One instance is one shard: it owns the books of the symbols added to it (ADD_SYMBOL commands),
 * numbers its events with a per-shard sequence and its orders and trades with shard-tagged ids.
 * Thread-safety: single-threaded; an instance must only be used by the thread that drives it.
 */
import type { EventSink } from './EventSink.js';

/** Fixed capacities of a shard, chosen at construction (memory is preallocated from them). */
export interface EngineConfig {
  /** 0..8191; the high bits of every order id and trade id. */
  readonly shardId: number;
  /** Open orders (resting + untriggered stops) the shard can hold; more are rejected ORDER_POOL_FULL. */
  readonly maxOrders: number;
  /** Symbols the shard can hold; more are rejected SYMBOL_TABLE_FULL. */
  readonly maxSymbols: number;
  /** Distinct accounts that can ever have an accepted order; more are rejected ACCOUNT_TABLE_FULL. */
  readonly maxAccounts: number;
}

export interface Engine {
  /** Sequence number of the last event emitted (0 before the first). */
  readonly sequence: number;
  /**
   * Processes the command record at `cmd[offset .. offset+COMMAND_SIZE)`, writes its events into
   * `sink` (claim per event, one commit at the end) and returns the number of events written.
   * Never throws for any command content; throws only on misuse (a record out of the view's bounds).
   */
  process(cmd: DataView, offset: number, sink: EventSink): number;
  /** Hash of the whole book state as specified in docs/matching.md ("State hash"). */
  stateHash(): string;
  /**
   * Copies the top levels of one side of a symbol's book into `out` as (price, displayed quantity,
   * order count) triples, best first, at most `floor(out.length / 3)` levels; returns the number of
   * levels written (0 for an unknown symbol or side).
   */
  l2(symbolId: number, side: number, out: Float64Array): number;
}
