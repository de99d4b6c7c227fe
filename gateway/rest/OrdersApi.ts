/**
 * The REST order routes: place, list, get, cancel, trades, under `/api/v1/orders` and the documented
 * aliases under `/api/v1/orders/orders`.
 *
 * Every route authenticates first (gateway/auth/Authenticator.ts; 401 JSON when refused) and only
 * ever shows the caller's own orders: another account's order id answers exactly like an unknown id
 * (404 ORDER_NOT_FOUND), so ids cannot be probed. Orders go through OrderService (command ring ->
 * shard -> events -> OrderStore); replies show the order's state after matching. Error mapping:
 * gateway/rest/errors.ts.
 *
 * History (when PostgreSQL is configured: `history`): the in-memory OrderStore holds the open orders
 * and a bounded window of recently closed ones; PostgreSQL holds every order and trade the journal
 * persisted. `GET /orders?status=closed` (closed statuses only) pages through PostgreSQL (newest
 * first, `next_cursor` is PostgreSQL's); `GET /orders/{id}` and `/orders/{id}/trades` fall back to
 * PostgreSQL for an order the store no longer holds (evicted, or closed before a restart);
 * `GET /api/v1/account/trades` lists the caller's fills from PostgreSQL. PostgreSQL lags the engine by
 * the journal lag (health: `journal`), so a just-closed order may show in the store first. Without a
 * database the closed list comes from the store and account/trades answers 503 HISTORY_UNAVAILABLE;
 * PostgreSQL unreachable answers 503 HISTORY_UNAVAILABLE too.
 * Thread-safety: main thread only.
 */

import { Reason } from '../../engine/ResultCodes.js';
import type { History, HistoryOrder } from '../../journal/pg/History.js';
import type { Authenticator } from '../auth/Authenticator.js';
import type { HttpRequestInfo, HttpRouter } from '../http/HttpRouter.js';
import { errorReply, json, type Reply } from '../http/Reply.js';
import type { GatewayMetrics } from '../metrics/GatewayMetrics.js';
import type { OrderService } from '../orders/OrderService.js';
import { CLOSED_MASK, OPEN_MASK, type OrderRecord } from '../orders/OrderStore.js';
import { parseSide, parseStatus, STATUS_NAMES, STATUS_WORDS } from '../orders/OrderVocabulary.js';
import { Outcome } from '../orders/PendingRequests.js';
import { outcomeReply, rejectReply } from './errors.js';
import { MAX_SAFE_INTEGER_STRING_LENGTH, parseOrderIdText } from './ids.js';
import { fillJson, orderJson } from './orderJson.js';
import { parseNewOrder } from './parseNewOrder.js';
import type { SymbolDirectory } from './SymbolDirectory.js';
import { show } from './showValue.js';

export const ORDERS_PATH = '/api/v1/orders';
/** The seed's documented aliases. */
export const ORDERS_ALIAS_PATH = '/api/v1/orders/orders';
/** The caller's fills, from PostgreSQL. */
export const ACCOUNT_TRADES_PATH = '/api/v1/account/trades';
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export interface OrdersApiOptions {
  readonly orders: OrderService;
  readonly symbols: SymbolDirectory;
  readonly auth: Authenticator;
  readonly metrics: GatewayMetrics;
  /** Session id stamped on REST commands (events of REST orders carry it). */
  readonly sessionId: number;
  /** Order and trade history in PostgreSQL; undefined with DB=none. */
  readonly history?: History;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const UNAUTHORIZED_HEADERS = [['www-authenticate', 'Bearer']] as const;

export class OrdersApi {
  private readonly orders: OrderService;
  private readonly symbols: SymbolDirectory;
  private readonly auth: Authenticator;
  private readonly metrics: GatewayMetrics;
  private readonly sessionId: number;
  private readonly history: History | undefined;

  constructor(options: OrdersApiOptions) {
    this.orders = options.orders;
    this.symbols = options.symbols;
    this.auth = options.auth;
    this.metrics = options.metrics;
    this.sessionId = options.sessionId;
    this.history = options.history;
  }

  register(router: HttpRouter): void {
    for (const base of [ORDERS_PATH, ORDERS_ALIAS_PATH]) {
      router.post(base, (req) => this.place(req));
      router.get(base, (req) => this.list(req));
      router.get(`${base}/:id`, (req) => this.get(req));
      router.del(`${base}/:id`, (req) => this.cancel(req));
      router.put(`${base}/:id/cancel`, (req) => this.cancel(req));
      router.get(`${base}/:id/trades`, (req) => this.trades(req));
    }
    router.get(ACCOUNT_TRADES_PATH, (req) => this.accountTrades(req));
  }

  private async authenticate(req: HttpRequestInfo): Promise<number | Reply> {
    const who = await this.auth.authenticate(req.authorization, `${req.method} ${req.route}`);
    if (who.ok) return who.accountId;
    return errorReply(401, 'UNAUTHORIZED', who.message, undefined, UNAUTHORIZED_HEADERS);
  }

  private async place(req: HttpRequestInfo): Promise<Reply> {
    const account = await this.authenticate(req);
    if (typeof account !== 'number') {
      this.metrics.orderResult('unauthorized');
      return account;
    }
    let body: unknown;
    try {
      if (req.body.length === 0) throw new SyntaxError('empty body');
      body = JSON.parse(utf8.decode(req.body));
    } catch (err) {
      this.metrics.orderResult('invalid');
      return errorReply(
        400,
        'MALFORMED_JSON',
        `the request body is not valid JSON (${(err as Error).message})`,
      );
    }
    const parsed = parseNewOrder(body, this.symbols);
    if (!parsed.ok) {
      this.metrics.orderResult('invalid');
      const { code, message, field, reason } = parsed.error;
      return errorReply(400, code, message, reason === undefined ? { field } : { field, reason });
    }
    const result = await this.orders.place(account, this.sessionId, parsed.fields);
    if (result.outcome !== Outcome.DONE) {
      this.countFailure(result.outcome);
      return outcomeReply(result.outcome);
    }
    this.metrics.orderAckSeconds.observe(result.seconds);
    if (result.rejectReason !== 0) {
      this.metrics.orderResult('rejected');
      return rejectReply(result.rejectReason, 'order rejected');
    }
    this.metrics.orderResult('accepted');
    const record = this.orders.store.get(result.orderId);
    // Note: only a store configured to keep almost nothing could have evicted it already.
    if (record === undefined) return json(201, { order_id: String(result.orderId) });
    return json(201, orderJson(record, parsed.symbol, true));
  }

  private async list(req: HttpRequestInfo): Promise<Reply> {
    const account = await this.authenticate(req);
    if (typeof account !== 'number') return account;
    const q = new URLSearchParams(req.query);
    let statusMask = 0;
    const status = q.get('status');
    if (status !== null && status !== '') {
      for (const word of status.split(',')) {
        const w = word.trim().toLowerCase();
        if (w === 'open') statusMask |= OPEN_MASK;
        else if (w === 'closed') statusMask |= CLOSED_MASK;
        else {
          const code = parseStatus(w);
          if (code === 0) {
            return badQuery('status', status, `open, closed, ${STATUS_WORDS.join(', ')} (comma-separated)`);
          }
          statusMask |= 1 << code;
        }
      }
    }
    const symbolId = this.symbolParam(q);
    if (typeof symbolId !== 'number') return symbolId;
    let side = 0;
    const sideText = q.get('side');
    if (sideText !== null && sideText !== '') {
      side = parseSide(sideText);
      if (side === 0) return badQuery('side', sideText, 'Buy, Sell');
    }
    const limit = intParam(q.get('limit'), DEFAULT_PAGE, 1, MAX_PAGE);
    if (limit < 0) return badQuery('limit', q.get('limit') ?? '', `an integer 1..${MAX_PAGE}`);
    if (this.history !== undefined && statusMask !== 0 && (statusMask & ~CLOSED_MASK) === 0) {
      return this.closedFromHistory(account, statusMask, symbolId, side, limit, q.get('cursor'));
    }
    const cursor = intParam(q.get('cursor'), 0, 1, Number.MAX_SAFE_INTEGER);
    if (cursor < 0) return badQuery('cursor', q.get('cursor') ?? '', 'the next_cursor of a previous page');
    const page = this.orders.store.list(account, { statusMask, symbolId, side }, limit, cursor);
    return json(200, {
      orders: page.orders.map((r) => this.view(r, false)),
      next_cursor: page.nextSeq === 0 ? null : String(page.nextSeq),
    });
  }

  private async get(req: HttpRequestInfo): Promise<Reply> {
    const account = await this.authenticate(req);
    if (typeof account !== 'number') return account;
    const r = this.owned(account, req.params[0]);
    const reply = (o: OrderRecord) => json(200, this.view(o, true));
    return r !== undefined ? reply(r) : this.fromHistory(account, req.params[0], reply);
  }

  private async trades(req: HttpRequestInfo): Promise<Reply> {
    const account = await this.authenticate(req);
    if (typeof account !== 'number') return account;
    const r = this.owned(account, req.params[0]);
    const reply = (o: OrderRecord) => this.tradesReply(o);
    return r !== undefined ? reply(r) : this.fromHistory(account, req.params[0], reply);
  }

  private tradesReply(r: OrderRecord): Reply {
    const symbol = this.symbols.byIdOrUndefined(r.symbolId)!;
    return json(200, {
      order_id: String(r.orderId),
      symbol: symbol.name,
      trades: r.fills.map((f) => fillJson(f, symbol)),
      fill_count: r.fillCount,
      truncated: r.fillCount > r.fills.length,
    });
  }

  private async cancel(req: HttpRequestInfo): Promise<Reply> {
    const account = await this.authenticate(req);
    if (typeof account !== 'number') return account;
    const r = this.owned(account, req.params[0]);
    if (r === undefined) return notFound(req.params[0]);
    if (!r.open) return notOpen(r);
    const result = await this.orders.cancel(account, this.sessionId, r);
    if (result.outcome !== Outcome.DONE) {
      if (result.outcome === Outcome.BUSY) this.metrics.counters.busyRejects++;
      return outcomeReply(result.outcome);
    }
    if (result.rejectReason !== 0) {
      // Note: the order may have filled or expired between our look-up and the shard's turn.
      if (result.rejectReason === Reason.ORDER_NOT_FOUND && !r.open) return notOpen(r);
      return rejectReply(result.rejectReason, `cancel of order ${r.orderId} rejected`);
    }
    return json(200, this.view(r, true));
  }

  /**
   * An order the memory store no longer holds, from PostgreSQL (with its trades as fills), answered
   * by `reply` exactly as a stored one would be; 404 when there is no database or no such order.
   */
  private fromHistory(
    account: number,
    idText: string,
    reply: (r: OrderRecord) => Reply,
  ): Promise<Reply> | Reply {
    const h = this.history;
    const id = parseOrderIdText(idText);
    if (h === undefined || id === 0) return notFound(idText);
    return historyRead(async () => {
      const [order, trades] = await Promise.all([h.order(account, id), h.orderTrades(account, id)]);
      if (order === undefined || this.symbols.byIdOrUndefined(order.symbolId) === undefined) {
        return notFound(idText);
      }
      return reply(asRecord({ ...order, fills: trades }));
    });
  }

  private closedFromHistory(
    account: number,
    statusMask: number,
    symbolId: number,
    side: number,
    limit: number,
    cursor: string | null,
  ): Promise<Reply> | Reply {
    const h = this.history as History;
    const after = historyCursor(cursor);
    if (typeof after === 'object') return after;
    return historyRead(async () => {
      const page = await h.closedOrders({ accountId: account, symbolId, limit, cursor: after });
      // Note: status and side filters apply to the page PostgreSQL returned (a page may be short).
      const orders = page.items.filter(
        (o) => (statusMask & (1 << o.status)) !== 0 && (side === 0 || o.side === side),
      );
      return json(200, {
        orders: orders.map((o) => orderJson(asRecord(o), this.symbols.byIdOrUndefined(o.symbolId)!, false)),
        next_cursor: page.next,
      });
    });
  }

  private async accountTrades(req: HttpRequestInfo): Promise<Reply> {
    const account = await this.authenticate(req);
    if (typeof account !== 'number') return account;
    const h = this.history;
    if (h === undefined) {
      return errorReply(503, 'HISTORY_UNAVAILABLE', 'no database (DB=none): trade history is not kept');
    }
    const q = new URLSearchParams(req.query);
    const symbolId = this.symbolParam(q);
    if (typeof symbolId !== 'number') return symbolId;
    const limit = intParam(q.get('limit'), DEFAULT_PAGE, 1, MAX_PAGE);
    if (limit < 0) return badQuery('limit', q.get('limit') ?? '', `an integer 1..${MAX_PAGE}`);
    const after = historyCursor(q.get('cursor'));
    if (typeof after === 'object') return after;
    return historyRead(async () => {
      const page = await h.trades({ accountId: account, symbolId, limit, cursor: after });
      return json(200, {
        trades: page.items.map((t) => {
          const symbol = this.symbols.byIdOrUndefined(t.symbolId)!;
          return { ...fillJson(t, symbol), order_id: String(t.orderId), symbol: symbol.name };
        }),
        next_cursor: page.next,
      });
    });
  }

  /** The `symbol` query parameter as a symbol id (0 when absent), or the 400 reply. */
  private symbolParam(q: URLSearchParams): number | Reply {
    const symbolRef = q.get('symbol');
    if (symbolRef === null || symbolRef === '') return 0;
    const symbol = this.symbols.find(symbolRef);
    return symbol === undefined ? badQuery('symbol', symbolRef, this.symbols.names().join(', ')) : symbol.id;
  }

  private owned(account: number, idText: string): OrderRecord | undefined {
    const id = parseOrderIdText(idText);
    return id === 0 ? undefined : this.orders.store.getOwned(account, id);
  }

  private view(r: OrderRecord, withFills: boolean): Record<string, unknown> {
    return orderJson(r, this.symbols.byIdOrUndefined(r.symbolId)!, withFills);
  }

  private countFailure(outcome: number): void {
    if (outcome === Outcome.BUSY) {
      this.metrics.counters.busyRejects++;
      this.metrics.orderResult('busy');
    } else if (outcome === Outcome.SHARD_DOWN) this.metrics.orderResult('shard_down');
    else this.metrics.orderResult('timeout');
  }
}

/** A PostgreSQL order row in the OrderStore's record shape (the same field names; orderJson reads it). */
function asRecord(o: HistoryOrder | (Omit<HistoryOrder, 'fills'> & { fills: unknown[] })): OrderRecord {
  const open = o.status !== 0 && (CLOSED_MASK & (1 << o.status)) === 0;
  return { ...o, open, evicted: false, seq: 0 } as unknown as OrderRecord;
}

/** Runs a PostgreSQL read; an unreachable or failing database answers 503 (JSON), never a crash. */
async function historyRead(read: () => Promise<Reply>): Promise<Reply> {
  try {
    return await read();
  } catch (err) {
    return errorReply(503, 'HISTORY_UNAVAILABLE', `order history unavailable: ${(err as Error).message}`);
  }
}

/** A PostgreSQL page cursor (`"<time>.<id>"`, undefined when absent), or the 400 reply. */
function historyCursor(cursor: string | null): string | undefined | Reply {
  if (cursor === null || cursor === '') return undefined;
  return /^\d{1,19}\.\d{1,19}$/.test(cursor)
    ? cursor
    : badQuery('cursor', cursor, 'the next_cursor of a previous page');
}

function notFound(idText: string): Reply {
  const shown = idText.length > MAX_SAFE_INTEGER_STRING_LENGTH ? `${idText.slice(0, 16)}...` : idText;
  return errorReply(404, 'ORDER_NOT_FOUND', `no order ${show(shown)}`, {
    reason: Reason.ORDER_NOT_FOUND,
  });
}

function notOpen(r: OrderRecord): Reply {
  return errorReply(
    409,
    'ORDER_NOT_OPEN',
    `order ${r.orderId} is ${STATUS_NAMES[r.status]}: nothing to cancel`,
  );
}

function badQuery(name: string, value: string, expected: string): Reply {
  return errorReply(400, 'INVALID_QUERY', `query parameter ${name}=${show(value)}: expected ${expected}`, {
    field: name,
  });
}

/** The integer value of a query parameter; `fallback` when absent, -1 when invalid. */
function intParam(text: string | null, fallback: number, min: number, max: number): number {
  if (text === null || text === '') return fallback;
  if (!/^\d{1,16}$/.test(text)) return -1;
  const n = Number(text);
  return n >= min && n <= max ? n : -1;
}
