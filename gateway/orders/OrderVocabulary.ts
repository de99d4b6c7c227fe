/**
 * The words of the order API: text names of sides, order types, times in force, STP modes and order
 * statuses, and their numeric codes in command/event records (engine/records/OrderCodes.ts).
 *
 * Parsing is friendly: case-insensitive, and `_`, `-` and spaces are ignored, so "Buy", "BUY",
 * "stop_limit", "Stop-Limit" and "StopLimit" all work. Formatting uses one canonical spelling, the
 * one of the FlatBuffers protocol (schema/exchange.fbs): "Buy", "StopLimit", "GTC", "PartiallyFilled".
 * Called by the REST layer (and any JSON-speaking session). Thread-safety: constants and pure functions.
 */
import { OrderType, Side, StpMode, TimeInForce } from '../../engine/records/OrderCodes.js';

/** An order's state as the gateway reports it (the protocol's OrderStatus, minus Rejected). */
export const OrderStatus = {
  NEW: 1,
  PARTIALLY_FILLED: 2,
  FILLED: 3,
  CANCELED: 4,
  EXPIRED: 5,
  /** A stop or stop-limit order waiting for its trigger price. */
  PENDING_TRIGGER: 6,
} as const;
export type OrderStatusCode = (typeof OrderStatus)[keyof typeof OrderStatus];

/** True when no further event can change the order. */
export function isClosedStatus(status: number): boolean {
  return status === OrderStatus.FILLED || status === OrderStatus.CANCELED || status === OrderStatus.EXPIRED;
}

/** Lower-cases and drops `_`, `-`, `/` and whitespace: the key every friendly lookup uses. */
export function normalizeWord(text: string): string {
  return text.toLowerCase().replace(/[\s_\-/]/g, '');
}

type Vocabulary = ReadonlyMap<string, number>;

function vocabulary(entries: Record<string, number>): Vocabulary {
  return new Map(Object.entries(entries).map(([k, v]) => [normalizeWord(k), v]));
}

const SIDES = vocabulary({ buy: Side.BUY, sell: Side.SELL, bid: Side.BUY, ask: Side.SELL });
const ORDER_TYPES = vocabulary({
  limit: OrderType.LIMIT,
  market: OrderType.MARKET,
  stop: OrderType.STOP,
  stopmarket: OrderType.STOP,
  stoplimit: OrderType.STOP_LIMIT,
});
const TIMES_IN_FORCE = vocabulary({
  gtc: TimeInForce.GTC,
  goodtillcancel: TimeInForce.GTC,
  goodtillcanceled: TimeInForce.GTC,
  goodtillcancelled: TimeInForce.GTC,
  ioc: TimeInForce.IOC,
  immediateorcancel: TimeInForce.IOC,
  fok: TimeInForce.FOK,
  fillorkill: TimeInForce.FOK,
  gtd: TimeInForce.GTD,
  goodtilldate: TimeInForce.GTD,
  goodtilltime: TimeInForce.GTD,
});
const STP_MODES = vocabulary({
  expiretaker: StpMode.EXPIRE_TAKER,
  cancelnewest: StpMode.EXPIRE_TAKER,
  canceltaker: StpMode.EXPIRE_TAKER,
  expiremaker: StpMode.EXPIRE_MAKER,
  canceloldest: StpMode.EXPIRE_MAKER,
  cancelmaker: StpMode.EXPIRE_MAKER,
  expireboth: StpMode.EXPIRE_BOTH,
  cancelboth: StpMode.EXPIRE_BOTH,
  decrement: StpMode.DECREMENT,
  decrementandcancel: StpMode.DECREMENT,
});
const STATUSES = vocabulary({
  new: OrderStatus.NEW,
  partiallyfilled: OrderStatus.PARTIALLY_FILLED,
  filled: OrderStatus.FILLED,
  canceled: OrderStatus.CANCELED,
  cancelled: OrderStatus.CANCELED,
  expired: OrderStatus.EXPIRED,
  pendingtrigger: OrderStatus.PENDING_TRIGGER,
});

/** Canonical names, indexed by code. */
export const SIDE_NAMES: readonly string[] = ['', 'Buy', 'Sell'];
export const ORDER_TYPE_NAMES: readonly string[] = ['', 'Limit', 'Market', 'Stop', 'StopLimit'];
export const TIME_IN_FORCE_NAMES: readonly string[] = ['', 'GTC', 'IOC', 'FOK', 'GTD'];
export const STP_MODE_NAMES: readonly string[] = ['ExpireTaker', 'ExpireMaker', 'ExpireBoth', 'Decrement'];
export const STATUS_NAMES: readonly string[] = [
  '',
  'New',
  'PartiallyFilled',
  'Filled',
  'Canceled',
  'Expired',
  'PendingTrigger',
];

/** The canonical names accepted by each parser (for error messages and the OpenAPI enums). */
export const SIDE_WORDS = ['Buy', 'Sell'] as const;
export const ORDER_TYPE_WORDS = ['Limit', 'Market', 'Stop', 'StopLimit'] as const;
export const TIME_IN_FORCE_WORDS = ['GTC', 'IOC', 'FOK', 'GTD'] as const;
export const STP_MODE_WORDS = ['ExpireTaker', 'ExpireMaker', 'ExpireBoth', 'Decrement'] as const;
export const STATUS_WORDS = [
  'New',
  'PartiallyFilled',
  'Filled',
  'Canceled',
  'Expired',
  'PendingTrigger',
] as const;

/** Code for a word, or 0 when unknown. */
export const parseSide = (text: string): number => SIDES.get(normalizeWord(text)) ?? 0;
export const parseOrderType = (text: string): number => ORDER_TYPES.get(normalizeWord(text)) ?? 0;
export const parseTimeInForce = (text: string): number => TIMES_IN_FORCE.get(normalizeWord(text)) ?? 0;
/** STP mode code, or -1 when unknown (0 is a valid mode). */
export const parseStpMode = (text: string): number => STP_MODES.get(normalizeWord(text)) ?? -1;
export const parseStatus = (text: string): number => STATUSES.get(normalizeWord(text)) ?? 0;
