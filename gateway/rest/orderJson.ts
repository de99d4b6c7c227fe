/**
 * JSON views of orders and fills for the REST API: engine integers back to exact decimal strings
 * (gateway/symbols/decimal.ts), codes back to words, microsecond timestamps to ISO 8601.
 *
 * Ids (order, trade, client order) are decimal strings: they are integers up to 2^53-1, which some
 * JSON parsers would round; null stands for "not set". The average fill price is exact to 8 digits
 * beyond the tick size (rounded half up), trailing zeros beyond the tick's digits dropped.
 * Thread-safety: pure functions.
 */

import { reasonName } from '../../engine/ResultCodes.js';
import { OrderFlags } from '../../engine/records/OrderCodes.js';
import { isoMicros } from '../orders/clock.js';
import type { Fill, OrderRecord } from '../orders/OrderStore.js';
import {
  ORDER_TYPE_NAMES,
  SIDE_NAMES,
  STATUS_NAMES,
  STP_MODE_NAMES,
  TIME_IN_FORCE_NAMES,
} from '../orders/OrderVocabulary.js';
import { parseDecimal } from '../symbols/decimal.js';
import type { SymbolSpec } from '../symbols/SymbolTable.js';
import { DecimalFormat } from './DecimalFormat.js';

const LIQUIDITY = ['None', 'Maker', 'Taker'];

/** A symbol's price and quantity formatters, built once per symbol. */
export interface SymbolFormat {
  readonly symbol: SymbolSpec;
  readonly price: DecimalFormat;
  readonly qty: DecimalFormat;
}

const formats = new WeakMap<SymbolSpec, SymbolFormat>();

export function symbolFormat(symbol: SymbolSpec): SymbolFormat {
  let f = formats.get(symbol);
  if (f === undefined) {
    f = { symbol, price: new DecimalFormat(symbol.tickSize), qty: new DecimalFormat(symbol.lotSize) };
    formats.set(symbol, f);
  }
  return f;
}
const AVERAGE_EXTRA_DIGITS = 8;

export function fillJson(fill: Fill, symbol: SymbolSpec): Record<string, unknown> {
  const f = symbolFormat(symbol);
  return {
    trade_id: String(fill.tradeId),
    price: f.price.format(fill.price),
    quantity: f.qty.format(fill.quantity),
    liquidity: LIQUIDITY[fill.liquidity] ?? 'None',
    timestamp: isoMicros(fill.timestamp),
  };
}

/** The order's JSON; with `withFills`, its fills too. */
export function orderJson(r: OrderRecord, symbol: SymbolSpec, withFills: boolean): Record<string, unknown> {
  const f = symbolFormat(symbol);
  const price = f.price;
  const qty = f.qty;
  const out: Record<string, unknown> = {
    order_id: String(r.orderId),
    client_order_id: r.clientOrderId === 0 ? null : String(r.clientOrderId),
    account_id: r.accountId,
    symbol: symbol.name,
    side: SIDE_NAMES[r.side],
    order_type: ORDER_TYPE_NAMES[r.orderType],
    time_in_force: TIME_IN_FORCE_NAMES[r.timeInForce],
    status: STATUS_NAMES[r.status],
    price: r.price === 0 ? null : price.format(r.price),
    stop_price: r.stopPrice === 0 ? null : price.format(r.stopPrice),
    quantity: qty.format(r.quantity),
    filled_quantity: qty.format(r.filledQty),
    remaining_quantity: qty.format(r.leavesQty),
    display_quantity: r.displayQty === 0 ? null : qty.format(r.displayQty),
    average_price: r.filledQty === 0 ? null : averagePrice(r.notional, r.filledQty, symbol.tickSize),
    last_fill_price: r.lastQty === 0 ? null : price.format(r.lastPrice),
    last_fill_quantity: r.lastQty === 0 ? null : qty.format(r.lastQty),
    post_only: (r.flags & OrderFlags.POST_ONLY) !== 0,
    stp_mode: STP_MODE_NAMES[r.stpMode] ?? String(r.stpMode),
    expire_time: r.expireTime === 0 ? null : isoMicros(r.expireTime),
    reason: r.reason === 0 ? null : reasonName(r.reason),
    triggered: r.triggered,
    created_at: isoMicros(r.createdAt),
    updated_at: isoMicros(r.updatedAt),
    fill_count: r.fillCount,
  };
  if (withFills) out.fills = r.fills.map((x) => fillJson(x, symbol));
  return out;
}

/**
 * notional (ticks x lots) / filled (lots) ticks, as a price decimal: exact to the tick's digits plus
 * AVERAGE_EXTRA_DIGITS, rounded half up, trailing zeros beyond the tick's digits dropped.
 */
export function averagePrice(notional: number, filled: number, tickSize: string): string {
  const tick = parseDecimal(tickSize);
  const scale = tick.scale + AVERAGE_EXTRA_DIGITS;
  const num = BigInt(notional) * tick.mantissa * 10n ** BigInt(AVERAGE_EXTRA_DIGITS);
  const den = BigInt(filled);
  const mantissa = (2n * num + den) / (2n * den); // rounded half up (values are positive)
  const digits = mantissa.toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits
    .slice(digits.length - scale)
    .replace(/0+$/, '')
    .padEnd(tick.scale, '0');
  return fraction.length === 0 ? whole : `${whole}.${fraction}`;
}
