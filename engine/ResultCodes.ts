/**
 * Reason codes carried in the `reason` field (u16) of Rejected, Cancelled and Expired events.
 *
 * Ranges, one per kind of outcome (a consumer can classify a code by its hundreds digit):
 *   0        NONE                   no reason (Accepted, Fill, Amended, Triggered, market data)
 *   100-199  malformed command      a field is out of its domain; the command had no effect
 *   200-299  pre-trade check        well-formed, but refused by a symbol rule or the book state
 *   300-399  order state            the target order cannot take the request (not found, ...)
 *   400-499  capacity               a fixed-capacity table of the shard is full
 *   500-599  cancel / expire        why an accepted order stopped being open without a full fill
 *
 * Expected outcomes on the hot path are these numbers, never exceptions. `reasonName()` is for logs
 * and tests (it does not allocate: it returns interned literals).
 * Thread-safety: constants and a pure function.
 */

export const Reason = {
  NONE: 0,

  // 100-199: malformed command
  UNKNOWN_COMMAND: 100,
  UNKNOWN_SYMBOL: 101,
  INVALID_SIDE: 102,
  INVALID_ORDER_TYPE: 103,
  INVALID_TIME_IN_FORCE: 104,
  INVALID_FLAGS: 105,
  INVALID_STP_MODE: 106,
  INVALID_QUANTITY: 107,
  INVALID_PRICE: 108,
  INVALID_STOP_PRICE: 109,
  INVALID_DISPLAY_QTY: 110,
  INVALID_MIN_QTY: 111,
  INVALID_EXPIRE_TIME: 112,
  INVALID_CLIENT_ORDER_ID: 113,
  INVALID_SYMBOL_CONFIG: 114,
  SYMBOL_EXISTS: 115,

  // 200-299: pre-trade checks
  QUANTITY_BELOW_MIN: 200,
  QUANTITY_ABOVE_MAX: 201,
  PRICE_OUT_OF_RANGE: 202,
  PRICE_OUTSIDE_BAND: 203,
  MAX_NOTIONAL_EXCEEDED: 204,
  DUPLICATE_CLIENT_ORDER_ID: 205,
  POST_ONLY_WOULD_TAKE: 206,
  STOP_ALREADY_TRIGGERED: 207,
  EXPIRE_TIME_IN_PAST: 208,

  // 300-399: order state
  ORDER_NOT_FOUND: 300,
  AMEND_NOT_ALLOWED: 301,
  AMEND_QTY_NOT_ABOVE_FILLED: 302,

  // 400-499: capacity
  ORDER_POOL_FULL: 400,
  SYMBOL_TABLE_FULL: 401,
  ACCOUNT_TABLE_FULL: 402,

  // 500-599: cancel / expire reasons
  USER_CANCEL: 500,
  MASS_CANCEL: 501,
  IOC_UNFILLED: 502,
  FOK_NOT_FILLABLE: 503,
  MIN_QTY_NOT_AVAILABLE: 504,
  SELF_TRADE: 505,
  GTD_EXPIRED: 506,
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];

const NAMES: Record<number, string> = {};
for (const [name, code] of Object.entries(Reason)) NAMES[code] = name;

/** The constant's name for a reason code, or 'UNKNOWN_<code>' (allocates only for unknown codes). */
export function reasonName(code: number): string {
  return NAMES[code] ?? `UNKNOWN_${code}`;
}
