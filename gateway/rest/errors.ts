/**
 * How order outcomes become HTTP statuses and JSON errors.
 *
 * Engine reject reasons (engine/ResultCodes.ts) by range:
 *   100-199 malformed command  -> 400 Bad Request
 *   200-299 pre-trade check    -> 422 Unprocessable Entity (well-formed, refused by a rule or the book)
 *   300     ORDER_NOT_FOUND    -> 404 Not Found
 *   301-399 order state        -> 409 Conflict
 *   400-499 capacity           -> 503 Service Unavailable (the shard's tables are full)
 * Pipeline outcomes: BUSY -> 503 (with Retry-After: 1), SHARD_DOWN -> 503, TIMEOUT -> 504.
 * The body always is `{ "error": { "code": <reason name>, "message": ..., "reason": <number> } }`.
 * Thread-safety: pure functions.
 */
import { Reason, reasonName } from '../../engine/ResultCodes.js';
import { errorReply, type Reply } from '../http/Reply.js';
import { Outcome, type OutcomeCode } from '../orders/PendingRequests.js';

const MESSAGES: Partial<Record<number, string>> = {
  [Reason.UNKNOWN_SYMBOL]: 'unknown symbol',
  [Reason.INVALID_QUANTITY]: 'invalid quantity',
  [Reason.INVALID_PRICE]: 'invalid price',
  [Reason.INVALID_TIME_IN_FORCE]: 'time in force not allowed for this order type',
  [Reason.INVALID_FLAGS]: 'post_only needs a Limit order with GTC or GTD',
  [Reason.INVALID_DISPLAY_QTY]: 'display_quantity must be 1..quantity on a GTC/GTD Limit or StopLimit order',
  [Reason.INVALID_MIN_QTY]: 'min_quantity must be 1..quantity on a Limit or Market order',
  [Reason.INVALID_EXPIRE_TIME]: 'invalid expire_time',
  [Reason.QUANTITY_BELOW_MIN]: 'quantity below the symbol minimum',
  [Reason.QUANTITY_ABOVE_MAX]: 'quantity above the symbol maximum',
  [Reason.PRICE_OUT_OF_RANGE]: 'price outside the symbol price range',
  [Reason.PRICE_OUTSIDE_BAND]: 'price outside the allowed band around the reference price',
  [Reason.MAX_NOTIONAL_EXCEEDED]: 'order notional above the symbol maximum',
  [Reason.DUPLICATE_CLIENT_ORDER_ID]: 'an open order already uses this client_order_id',
  [Reason.POST_ONLY_WOULD_TAKE]: 'post-only order would take liquidity',
  [Reason.STOP_ALREADY_TRIGGERED]: 'stop price already reached by the last trade',
  [Reason.EXPIRE_TIME_IN_PAST]: 'expire_time is in the past',
  [Reason.ORDER_NOT_FOUND]: 'order not found or not open',
  [Reason.ORDER_POOL_FULL]: 'the shard cannot take more open orders',
  [Reason.ACCOUNT_TABLE_FULL]: 'the shard cannot take more accounts',
};

/** HTTP status for an engine reject reason. */
export function rejectStatus(reason: number): number {
  if (reason >= 100 && reason < 200) return 400;
  if (reason >= 200 && reason < 300) return 422;
  if (reason === Reason.ORDER_NOT_FOUND) return 404;
  if (reason > 300 && reason < 400) return 409;
  if (reason >= 400 && reason < 500) return 503;
  return 400;
}

/** The error reply for an engine reject. */
export function rejectReply(reason: number, context: string): Reply {
  const name = reasonName(reason);
  const text = MESSAGES[reason] ?? name.toLowerCase().replace(/_/g, ' ');
  return errorReply(rejectStatus(reason), name, `${context}: ${text}`, { reason });
}

/** The error reply for a command that did not get an outcome from its shard. */
export function outcomeReply(outcome: OutcomeCode): Reply {
  switch (outcome) {
    case Outcome.BUSY:
      return errorReply(503, 'BUSY', 'the exchange is busy: retry shortly', undefined, [
        ['retry-after', '1'],
      ]);
    case Outcome.SHARD_DOWN:
      return errorReply(503, 'SHARD_DOWN', 'the matching engine for this symbol is not available');
    case Outcome.TIMEOUT:
      return errorReply(
        504,
        'TIMEOUT',
        'no answer from the matching engine in time; the request may still take effect (list your orders to find out)',
      );
    default:
      return errorReply(500, 'INTERNAL', `unexpected outcome ${outcome}`);
  }
}
