/**
 * Reason codes of the market-data endpoint (Error.code on /api/v1/ws/market), range 700-799 (see
 * gateway/ws/SessionReason.ts for the other ranges; 100-199 are frame verification reasons).
 * Thread-safety: constants.
 */
export const MdReason = {
  /** Subscribe/Unsubscribe named a symbol id that does not exist. */
  UNKNOWN_SYMBOL: 700,
  /** Subscribe with no channel bit, or bits outside Trades|L2|Bbo|L3|Status. */
  INVALID_CHANNELS: 701,
  /** Subscribe.trades_from_seq asked for trades no longer in the recent history: use REST. */
  TRADES_UNAVAILABLE: 702,
  /** A message this endpoint does not serve (orders go to /api/v1/ws). */
  UNSUPPORTED: 703,
  /** More symbols than maxSymbolsPerConnection on one connection. */
  TOO_MANY_SUBSCRIPTIONS: 704,
  /** A Subscribe past the connection's request rate limit: that request was refused. */
  RATE_LIMITED: 705,
  /** Not a failure: this conflating subscriber fell behind and was resynchronised with snapshots. */
  RESYNCED: 790,
} as const;

const TEXT: Readonly<Record<number, string>> = {
  [MdReason.UNKNOWN_SYMBOL]: 'unknown symbol id',
  [MdReason.INVALID_CHANNELS]: 'invalid channel bits',
  [MdReason.TRADES_UNAVAILABLE]: 'requested trades are no longer in the recent history',
  [MdReason.UNSUPPORTED]: 'only Subscribe, Unsubscribe and Heartbeat are served on the market-data endpoint',
  [MdReason.TOO_MANY_SUBSCRIPTIONS]: 'too many symbols subscribed on this connection',
  [MdReason.RATE_LIMITED]: 'request rate limit exceeded: request refused',
  [MdReason.RESYNCED]: 'fell behind: resynchronised with fresh snapshots',
};

export function mdReasonText(code: number): string {
  return TEXT[code] ?? 'error';
}
