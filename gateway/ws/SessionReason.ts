/**
 * Reason codes the WebSocket order-entry gateway assigns itself, before (or instead of) the matching
 * engine: `ExecutionReport.reject_reason` of a request the gateway refused, `Error.code`, and
 * `LogonReject.code`.
 *
 * Ranges on the wire (docs/api.md, "WebSocket order entry"):
 *   100-199  Error.code: frame verification (schema/verify.ts VerifyResult)
 *   100-599  reject_reason: the engine's reasons (engine/ResultCodes.ts)
 *   600-699  this module: session, auth, rate limit, intake
 * Thread-safety: constants.
 */

export const SessionReason = {
  /** The shard's command ring was full (or the session's outbound buffer is backed up): retry later. */
  BUSY: 600,
  /** The shard owning the symbol cannot take commands (down, or the exchange is stopping). */
  SHARD_DOWN: 601,
  /** The session's order rate limit (token bucket) is exhausted: retry later. */
  RATE_LIMITED: 602,
  /** A request before a successful Logon. */
  NOT_LOGGED_ON: 603,
  /** Logon refused: missing, malformed, expired or wrongly signed token. */
  UNAUTHORIZED: 604,
  /** A Logon on a session that is already logged on (or whose Logon is still being checked). */
  ALREADY_LOGGED_ON: 605,
  /** A message this endpoint does not serve (Subscribe/Unsubscribe: market data is elsewhere). */
  UNSUPPORTED: 606,
  /** A well-formed request that cannot be executed as given (e.g. MassCancel scope Symbol without a symbol). */
  INVALID_REQUEST: 607,
  /** Not a failure: a MassCancel finished on every shard it went to; the text holds the count. */
  MASS_CANCEL_DONE: 690,
} as const;

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(SessionReason).map(([name, code]) => [code, name]),
);

/** The name of a session reason ("RATE_LIMITED"), or undefined for a code outside this module. */
export function sessionReasonName(code: number): string | undefined {
  return NAMES[code];
}

const TEXT: Readonly<Record<number, string>> = {
  [SessionReason.BUSY]: 'busy: retry shortly',
  [SessionReason.SHARD_DOWN]: 'the matching engine for this symbol is not available',
  [SessionReason.RATE_LIMITED]: 'order rate limit exceeded: retry shortly',
  [SessionReason.NOT_LOGGED_ON]: 'Logon first',
  [SessionReason.UNAUTHORIZED]: 'unauthorized',
  [SessionReason.ALREADY_LOGGED_ON]: 'already logged on',
  [SessionReason.UNSUPPORTED]: 'market data is not served on the order-entry endpoint',
  [SessionReason.INVALID_REQUEST]: 'invalid request',
  [SessionReason.MASS_CANCEL_DONE]: 'mass cancel done',
};

const UTF8 = new Map<number, Uint8Array>(
  Object.entries(TEXT).map(([code, text]) => [Number(code), new TextEncoder().encode(text)]),
);

/** Short text of a session reason (for Error / LogonReject frames and logs). */
export function sessionReasonText(code: number): string {
  return TEXT[code] ?? `reason ${code}`;
}

/** sessionReasonText(code) as UTF-8 bytes encoded once per process (do not modify them). */
export function sessionReasonUtf8(code: number): Uint8Array {
  return UTF8.get(code) ?? new TextEncoder().encode(sessionReasonText(code));
}
