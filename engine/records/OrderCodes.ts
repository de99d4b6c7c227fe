/**
 * Small enumerations shared by command and event records: side, order type, time in force, order
 * flags and self-trade-prevention mode. Each is one byte in a record.
 *
 * Called by record encoders/decoders, the matching engine, the gateway and tests.
 * Thread-safety: constants only.
 */

/** Order side. 0 is reserved ("both" in a mass cancel, "none" in BBO events). */
export const Side = {
  BUY: 1,
  SELL: 2,
} as const;

/** Order type. */
export const OrderType = {
  LIMIT: 1,
  MARKET: 2,
  /** Stop (market): rests untriggered; on trigger executes as a market order with IOC semantics. */
  STOP: 3,
  /** Stop-limit: rests untriggered; on trigger becomes a limit order with its own time in force. */
  STOP_LIMIT: 4,
} as const;

/** Time in force. */
export const TimeInForce = {
  /** Good till cancelled. */
  GTC: 1,
  /** Immediate or cancel: trade what is possible now, cancel the rest. */
  IOC: 2,
  /** Fill or kill: trade all now or nothing; never rests. */
  FOK: 3,
  /** Good till date: like GTC, expires when engine time reaches `expireTime`. */
  GTD: 4,
} as const;

/** Bit flags of an order (one byte). */
export const OrderFlags = {
  /** Rejected (not repriced) if it would take liquidity on entry. */
  POST_ONLY: 1,
  /** All bits the engine understands; any other bit set is rejected. */
  ALL: 1,
} as const;

/**
 * Self-trade prevention mode, taken from the incoming (taker) order. STP is always on: two orders
 * self-match when they have the same account, or the same non-zero trade group.
 */
export const StpMode = {
  /** Cancel the taker's remaining quantity; the maker stays. Default (0). */
  EXPIRE_TAKER: 0,
  /** Cancel the maker; the taker continues matching. */
  EXPIRE_MAKER: 1,
  /** Cancel both. */
  EXPIRE_BOTH: 2,
  /** Reduce both by the smaller open quantity; an order reduced to zero is cancelled. */
  DECREMENT: 3,
} as const;

/** Price of the book side that is empty in a BBO event, and of a market order. */
export const NO_PRICE = 0;
