/**
 * Turns the JSON body of `POST /api/v1/orders` into engine fields, or a 400 validation error naming
 * the field and the value.
 *
 * Fields (snake_case; unknown fields are ignored):
 *   symbol          required  "BTC/USD" (friendly spellings and numeric ids work, see SymbolDirectory)
 *   side            required  Buy | Sell (case-insensitive)
 *   order_type      default Limit: Limit | Market | Stop | StopLimit
 *   quantity        required  decimal string in base currency, a multiple of the lot size
 *   price           Limit / StopLimit: decimal string, a multiple of the tick size
 *   stop_price      Stop / StopLimit: decimal string, a multiple of the tick size
 *   time_in_force   GTC | IOC | FOK | GTD; default GTC (IOC for Market; GTD when an expiry is given)
 *   expire_time     GTD: ISO 8601 string or integer milliseconds since the epoch
 *   expire_time_us  GTD: integer microseconds since the epoch (the engine's unit)
 *   display_quantity iceberg: the visible part, decimal string
 *   min_quantity    minimum fill now (Limit/Market IOC-style check), decimal string
 *   post_only       boolean
 *   stp_mode        ExpireTaker (default) | ExpireMaker | ExpireBoth | Decrement
 *                   (aliases: cancel_newest, cancel_oldest, cancel_both)
 *   client_order_id integer 1..2^53-1 (number or digit string); echoed back
 * Decimals must be strings ("1.5"); a JSON number is accepted only when it is an integer, so no
 * floating-point value is ever converted. Quantities and prices go through gateway/symbols/decimal.ts.
 * The engine re-validates everything (docs/matching.md 5.1); this layer catches what JSON adds
 * (types, spellings, decimal precision) and gives field-level messages.
 * Thread-safety: pure function.
 */
import { ExchangeError } from '../../engine/errors.js';
import { Reason } from '../../engine/ResultCodes.js';
import { OrderFlags, OrderType, StpMode, TimeInForce } from '../../engine/records/OrderCodes.js';
import { emptyNewOrder, type NewOrderFields } from '../orders/CommandWriter.js';
import {
  ORDER_TYPE_WORDS,
  parseOrderType,
  parseSide,
  parseStpMode,
  parseTimeInForce,
  SIDE_WORDS,
  STP_MODE_WORDS,
  TIME_IN_FORCE_WORDS,
} from '../orders/OrderVocabulary.js';
import type { SymbolSpec } from '../symbols/SymbolTable.js';
import type { DecimalFormat } from './DecimalFormat.js';
import { symbolFormat } from './orderJson.js';
import type { SymbolDirectory } from './SymbolDirectory.js';
import { show } from './showValue.js';

export interface ValidationError {
  /** Error code: the engine reason name when one fits (INVALID_PRICE, ...), else INVALID_REQUEST. */
  readonly code: string;
  readonly message: string;
  readonly field: string;
  /** The engine's numeric reason when `code` is one. */
  readonly reason?: number;
}

export type ParsedOrder =
  | { readonly ok: true; readonly fields: NewOrderFields; readonly symbol: SymbolSpec }
  | { readonly ok: false; readonly error: ValidationError };

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

class Invalid extends Error {
  readonly error: ValidationError;
  constructor(field: string, code: keyof typeof Reason | 'INVALID_REQUEST', message: string) {
    super(message);
    this.error = { code, message, field, reason: code === 'INVALID_REQUEST' ? undefined : Reason[code] };
  }
}

export function parseNewOrder(body: unknown, symbols: SymbolDirectory): ParsedOrder {
  try {
    return parse(body, symbols);
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: err.error };
    throw err;
  }
}

function parse(body: unknown, symbols: SymbolDirectory): ParsedOrder {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Invalid('', 'INVALID_REQUEST', 'the request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const f = emptyNewOrder();

  const symbolRef = b.symbol ?? b.symbol_id;
  if (symbolRef === undefined || symbolRef === null)
    throw new Invalid('symbol', 'UNKNOWN_SYMBOL', 'symbol is required');
  const symbol = symbols.find(symbolRef);
  if (symbol === undefined) {
    throw new Invalid(
      'symbol',
      'UNKNOWN_SYMBOL',
      `unknown symbol ${show(symbolRef)} (known: ${symbols.names().join(', ')})`,
    );
  }
  f.symbolId = symbol.id;

  f.side = word(b, 'side', parseSide, SIDE_WORDS, 'INVALID_SIDE', undefined);
  f.orderType = word(
    b,
    'order_type',
    parseOrderType,
    ORDER_TYPE_WORDS,
    'INVALID_ORDER_TYPE',
    OrderType.LIMIT,
  );
  const market = f.orderType === OrderType.MARKET || f.orderType === OrderType.STOP;
  const hasExpiry = present(b.expire_time) || present(b.expire_time_us);
  const tifDefault =
    f.orderType === OrderType.MARKET ? TimeInForce.IOC : hasExpiry ? TimeInForce.GTD : TimeInForce.GTC;
  f.timeInForce = word(
    b,
    'time_in_force',
    parseTimeInForce,
    TIME_IN_FORCE_WORDS,
    'INVALID_TIME_IN_FORCE',
    tifDefault,
  );
  const stp = present(b.stp_mode)
    ? parseStpMode(text(b, 'stp_mode', 'INVALID_STP_MODE'))
    : StpMode.EXPIRE_TAKER;
  if (stp < 0) {
    throw new Invalid(
      'stp_mode',
      'INVALID_STP_MODE',
      `stp_mode ${show(b.stp_mode)} is not one of ${STP_MODE_WORDS.join(', ')}`,
    );
  }
  f.stpMode = stp;

  const { price, qty } = symbolFormat(symbol);
  f.quantity = amount(b, 'quantity', qty, 'lot size', 'INVALID_QUANTITY', symbol, true);
  if (market) {
    if (present(b.price)) {
      throw new Invalid('price', 'INVALID_PRICE', `price is not allowed for ${b.order_type} orders`);
    }
  } else {
    f.price = amount(b, 'price', price, 'tick size', 'INVALID_PRICE', symbol, true);
  }
  const stopType = f.orderType === OrderType.STOP || f.orderType === OrderType.STOP_LIMIT;
  if (stopType) {
    f.stopPrice = amount(b, 'stop_price', price, 'tick size', 'INVALID_STOP_PRICE', symbol, true);
  } else if (present(b.stop_price)) {
    throw new Invalid(
      'stop_price',
      'INVALID_STOP_PRICE',
      'stop_price is only allowed for Stop and StopLimit orders',
    );
  }
  f.displayQty = amount(b, 'display_quantity', qty, 'lot size', 'INVALID_DISPLAY_QTY', symbol, false);
  f.minQty = amount(b, 'min_quantity', qty, 'lot size', 'INVALID_MIN_QTY', symbol, false);

  if (present(b.post_only)) {
    if (typeof b.post_only !== 'boolean') {
      throw new Invalid(
        'post_only',
        'INVALID_FLAGS',
        `post_only must be true or false, got ${show(b.post_only)}`,
      );
    }
    if (b.post_only) f.flags = OrderFlags.POST_ONLY;
  }

  f.clientOrderId = clientOrderId(b.client_order_id);
  f.expireTime = expireTime(b);
  if (f.timeInForce === TimeInForce.GTD && f.expireTime === 0) {
    throw new Invalid('expire_time', 'INVALID_EXPIRE_TIME', 'time_in_force GTD needs expire_time');
  }
  if (f.timeInForce !== TimeInForce.GTD && f.expireTime !== 0) {
    throw new Invalid(
      'expire_time',
      'INVALID_EXPIRE_TIME',
      'expire_time is only allowed with time_in_force GTD',
    );
  }
  return { ok: true, fields: f, symbol };
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function text(b: Record<string, unknown>, field: string, code: keyof typeof Reason): string {
  const v = b[field];
  if (typeof v !== 'string') throw new Invalid(field, code, `${field} must be a string, got ${show(v)}`);
  return v;
}

function word(
  b: Record<string, unknown>,
  field: string,
  parseWord: (t: string) => number,
  words: readonly string[],
  code: keyof typeof Reason,
  fallback: number | undefined,
): number {
  if (!present(b[field])) {
    if (fallback !== undefined) return fallback;
    throw new Invalid(field, code, `${field} is required (${words.join(' or ')})`);
  }
  const v = parseWord(text(b, field, code));
  if (v === 0) throw new Invalid(field, code, `${field} ${show(b[field])} is not one of ${words.join(', ')}`);
  return v;
}

/** A decimal string (or integer number) as a positive whole number of `increment`s; 0 when absent. */
function amount(
  b: Record<string, unknown>,
  field: string,
  format: DecimalFormat,
  incrementName: string,
  code: keyof typeof Reason,
  symbol: SymbolSpec,
  required: boolean,
): number {
  const v = b[field];
  if (!present(v)) {
    if (required) throw new Invalid(field, code, `${field} is required`);
    return 0;
  }
  let s: string;
  if (typeof v === 'string') s = v.trim();
  else if (typeof v === 'number' && Number.isSafeInteger(v)) s = String(v);
  else {
    throw new Invalid(
      field,
      code,
      `${field} must be a decimal string such as "1.5" (numbers only when integers), got ${show(v)}`,
    );
  }
  let units: number;
  try {
    units = format.parse(s);
  } catch (err) {
    if (!(err instanceof ExchangeError)) throw err;
    if (/not a multiple/.test(err.message)) {
      throw new Invalid(
        field,
        code,
        `${field} ${show(s)} is not a multiple of the ${incrementName} ${format.increment} of ${symbol.name}`,
      );
    }
    throw new Invalid(field, code, `${field} ${show(s)}: ${err.message}`);
  }
  if (units <= 0) throw new Invalid(field, code, `${field} must be greater than 0, got ${show(s)}`);
  return units;
}

function clientOrderId(v: unknown): number {
  if (!present(v)) return 0;
  let n = Number.NaN;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d{1,16}$/.test(v)) n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SAFE) {
    throw new Invalid(
      'client_order_id',
      'INVALID_CLIENT_ORDER_ID',
      `client_order_id must be an integer 1..${MAX_SAFE}, got ${show(v)}`,
    );
  }
  return n;
}

/** Expiry in engine units (microseconds since the epoch); 0 when absent. */
function expireTime(b: Record<string, unknown>): number {
  if (present(b.expire_time_us)) {
    const v = b.expire_time_us;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new Invalid(
        'expire_time_us',
        'INVALID_EXPIRE_TIME',
        `expire_time_us must be integer microseconds since the epoch, got ${show(v)}`,
      );
    }
    return v;
  }
  const v = b.expire_time;
  if (!present(v)) return 0;
  let ms = Number.NaN;
  if (typeof v === 'number' && Number.isSafeInteger(v)) ms = v;
  else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) ms = Date.parse(v);
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new Invalid(
      'expire_time',
      'INVALID_EXPIRE_TIME',
      `expire_time must be an ISO 8601 date-time or integer milliseconds since the epoch, got ${show(v)}`,
    );
  }
  if (ms * 1000 > MAX_SAFE) {
    throw new Invalid(
      'expire_time',
      'INVALID_EXPIRE_TIME',
      `expire_time is past the engine's range (at most ${new Date(Math.floor(MAX_SAFE / 1000)).toISOString()}), got ${show(v)}`,
    );
  }
  return ms * 1000;
}
