/**
 * Order history reads for the REST API, from PostgreSQL: an account's closed orders (Filled,
 * Canceled, Expired) and its trades (fills), newest first, paged by an opaque cursor, optionally
 * for one symbol. Open orders stay with the gateway's in-memory OrderStore (always current);
 * history is what the store may have evicted, and it is as fresh as the journal's lag.
 *
 * Shapes: `HistoryOrder` carries the field names of gateway/orders/OrderStore.ts `OrderRecord` that
 * gateway/rest/orderJson.ts reads, and `HistoryTrade` those of `Fill` (plus the order and symbol), so
 * the REST layer formats them with the same `orderJson` / `fillJson`.
 * Limits: `limit` 1..MAX_HISTORY_LIMIT (default DEFAULT_HISTORY_LIMIT); a page costs one indexed
 * query (orders_closed_by_account; trades_by_maker/taker_account merged).
 * Thread-safety: async, main thread; the SQL client may be shared.
 */
import type { Sql } from './PgClient.js';
import { HistoryQueryError } from './PgError.js';

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;

/** Which side of a trade the account was on (same codes as gateway/orders/OrderStore.ts Liquidity). */
export const HistoryLiquidity = { MAKER: 1, TAKER: 2 } as const;

export interface HistoryQuery {
  readonly accountId: number;
  /** 0 or undefined = every symbol. */
  readonly symbolId?: number;
  readonly limit?: number;
  /** `next` of the previous page. */
  readonly cursor?: string;
}

export interface HistoryPage<T> {
  readonly items: T[];
  /** Pass as `cursor` for the next (older) page; null when this page is the last. */
  readonly next: string | null;
}

export interface HistoryOrder {
  readonly orderId: number;
  readonly clientOrderId: number;
  readonly accountId: number;
  readonly sessionId: number;
  readonly symbolId: number;
  readonly side: number;
  readonly orderType: number;
  readonly timeInForce: number;
  readonly flags: number;
  readonly stpMode: number;
  readonly price: number;
  readonly stopPrice: number;
  readonly quantity: number;
  readonly filledQty: number;
  readonly leavesQty: number;
  readonly displayQty: number;
  readonly expireTime: number;
  readonly notional: number;
  readonly fillCount: number;
  readonly lastPrice: number;
  readonly lastQty: number;
  readonly status: number;
  readonly reason: number;
  readonly triggered: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Always empty here: use `orderTrades` (kept for orderJson's shape). */
  readonly fills: never[];
}

export interface HistoryTrade {
  readonly tradeId: number;
  readonly orderId: number;
  readonly clientOrderId: number;
  readonly symbolId: number;
  /** The account's side. */
  readonly side: number;
  readonly price: number;
  readonly quantity: number;
  readonly liquidity: number;
  readonly timestamp: number;
}

const ORDER_COLUMNS = `order_id::float8 AS "orderId", client_order_id::float8 AS "clientOrderId",
  account_id::float8 AS "accountId", session_id::float8 AS "sessionId", symbol_id AS "symbolId",
  side::int, order_type::int AS "orderType", time_in_force::int AS "timeInForce", flags::int,
  stp_mode::int AS "stpMode", price::float8, stop_price::float8 AS "stopPrice", quantity::float8,
  filled_qty::float8 AS "filledQty", leaves_qty::float8 AS "leavesQty",
  display_qty::float8 AS "displayQty", expire_time::float8 AS "expireTime", notional::float8,
  fill_count AS "fillCount", last_price::float8 AS "lastPrice", last_qty::float8 AS "lastQty",
  status::int, reason, triggered, created_at::float8 AS "createdAt", updated_at::float8 AS "updatedAt"`;

/** Largest bigint: the "before" of a first page. */
const TOP = '9223372036854775807';

export class History {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** The account's closed orders, by closing time, newest first. */
  async closedOrders(q: HistoryQuery): Promise<HistoryPage<HistoryOrder>> {
    const limit = checkLimit(q.limit);
    const [beforeTs, beforeId] = parseCursor(q.cursor);
    const symbolId = checkSymbol(q.symbolId);
    const rows = await this.sql.unsafe(
      `SELECT ${ORDER_COLUMNS} FROM orders
       WHERE account_id = $1 AND status IN (3, 4, 5) AND ($2::int = 0 OR symbol_id = $2::int)
         AND (updated_at, order_id) < ($3::bigint, $4::bigint)
       ORDER BY updated_at DESC, order_id DESC LIMIT $5`,
      [q.accountId, symbolId, beforeTs, beforeId, limit + 1],
    );
    const items = rows.slice(0, limit).map((r) => ({ ...r, fills: [] }) as unknown as HistoryOrder);
    const last = items[items.length - 1];
    return { items, next: rows.length > limit ? `${last.updatedAt}.${last.orderId}` : null };
  }

  /** One order of the account (any status, as last persisted), or undefined. */
  async order(accountId: number, orderId: number): Promise<HistoryOrder | undefined> {
    const rows = await this.sql.unsafe(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE order_id = $1 AND account_id = $2`,
      [orderId, accountId],
    );
    return rows.length === 0 ? undefined : ({ ...rows[0], fills: [] } as unknown as HistoryOrder);
  }

  /** The account's trades, newest first, each from the account's side. */
  async trades(q: HistoryQuery): Promise<HistoryPage<HistoryTrade>> {
    const limit = checkLimit(q.limit);
    const [beforeTs, beforeId] = parseCursor(q.cursor);
    const symbolId = checkSymbol(q.symbolId);
    const side = (who: 'maker' | 'taker') => `
      (SELECT trade_id::float8 AS "tradeId", ${who}_order_id::float8 AS "orderId",
         ${who}_client_order_id::float8 AS "clientOrderId", symbol_id AS "symbolId",
         ${who === 'taker' ? 'taker_side::int' : '(3 - taker_side)::int'} AS side, price::float8,
         quantity::float8, ${who === 'maker' ? HistoryLiquidity.MAKER : HistoryLiquidity.TAKER} AS liquidity,
         ts::float8 AS timestamp, ts, trade_id
       FROM trades
       WHERE ${who}_account_id = $1 AND ($2::int = 0 OR symbol_id = $2::int)
         AND (ts, trade_id) < ($3::bigint, $4::bigint)
       ORDER BY ts DESC, trade_id DESC LIMIT $5)`;
    const rows = await this.sql.unsafe(
      `SELECT "tradeId", "orderId", "clientOrderId", "symbolId", side, price, quantity, liquidity, timestamp
       FROM (${side('maker')} UNION ALL ${side('taker')}) t
       ORDER BY ts DESC, trade_id DESC LIMIT $5`,
      [q.accountId, symbolId, beforeTs, beforeId, limit + 1],
    );
    const items = rows.slice(0, limit) as unknown as HistoryTrade[];
    const last = items[items.length - 1];
    return { items, next: rows.length > limit ? `${last.timestamp}.${last.tradeId}` : null };
  }

  /** The trades of one order of the account (oldest first, at most MAX_HISTORY_LIMIT). */
  async orderTrades(accountId: number, orderId: number): Promise<HistoryTrade[]> {
    const side = (who: 'maker' | 'taker') => `
      SELECT trade_id::float8 AS "tradeId", ${who}_order_id::float8 AS "orderId",
        ${who}_client_order_id::float8 AS "clientOrderId", symbol_id AS "symbolId",
        ${who === 'taker' ? 'taker_side::int' : '(3 - taker_side)::int'} AS side, price::float8,
        quantity::float8, ${who === 'maker' ? HistoryLiquidity.MAKER : HistoryLiquidity.TAKER} AS liquidity,
        ts::float8 AS timestamp
      FROM trades WHERE ${who}_order_id = $2 AND ${who}_account_id = $1`;
    const rows = await this.sql.unsafe(
      `SELECT * FROM (${side('maker')} UNION ALL ${side('taker')}) t ORDER BY "tradeId" LIMIT ${MAX_HISTORY_LIMIT}`,
      [accountId, orderId],
    );
    return rows as unknown as HistoryTrade[];
  }
}

function checkLimit(limit: number | undefined): number {
  const n = limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_LIMIT) {
    throw new HistoryQueryError(`history limit must be an integer in 1..${MAX_HISTORY_LIMIT}, got ${limit}`);
  }
  return n;
}

function checkSymbol(symbolId: number | undefined): number {
  const s = symbolId ?? 0;
  if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) {
    throw new HistoryQueryError(`history symbolId must be an integer >= 0, got ${symbolId}`);
  }
  return s;
}

const CURSOR = /^(\d{1,16})\.(\d{1,16})$/;

/** `<time>.<id>` of the last row of the previous page, as bigint text; the top without a cursor. */
function parseCursor(cursor: string | undefined): [string, string] {
  if (cursor === undefined || cursor === '') return [TOP, TOP];
  const m = CURSOR.exec(cursor);
  if (m === null)
    throw new HistoryQueryError(`history cursor must be "<time>.<id>", got ${JSON.stringify(cursor)}`);
  return [m[1], m[2]];
}
