/**
 * RestClient: a small helper for the exchange's JSON REST API (`/api/v1/...`) on the global fetch.
 * Used by the CLI (client/cli.ts), scripts and tests; the binary WebSocket SDK is ExchangeClient.
 *
 *   const rest = new RestClient({ url: 'http://localhost:8080', token });
 *   const order = await rest.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '50000.00', quantity: '1' });
 *   await rest.cancelOrder((order as { order_id: string }).order_id);
 *
 * Prices and quantities are decimal strings, passed through unchanged (the server converts them
 * exactly). A non-2xx answer throws RestError with the status and the body's
 * `{ "error": { "code", "message" } }`; a network failure throws RestError with status 0; no answer
 * within timeoutMs throws RequestTimeoutError. Bodies are returned as parsed JSON, not reshaped.
 * Thread-safety: stateless apart from its options; usable from any thread.
 */
import { ClientUsageError, RequestTimeoutError, RestError } from './errors.js';

export interface RestClientOptions {
  /** Base URL, default http://localhost:8080. */
  url?: string;
  /** Bearer token (JWT); sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Per-request timeout, default 10 000 ms. */
  timeoutMs?: number;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * A new order as the REST API takes it (gateway/rest/parseNewOrder.ts): snake_case fields, decimal
 * strings for prices and quantities, words for enums (case-insensitive: "buy", "Buy", "stop_limit").
 */
export interface RestOrderRequest {
  /** "BTC/USD" (friendly spellings such as "btc-usd" and numeric ids work too). */
  symbol: string;
  side: string;
  /** Limit (default), Market, Stop, StopLimit. */
  order_type?: string;
  price?: string;
  quantity: string;
  /** GTC (default), IOC, FOK, GTD. */
  time_in_force?: string;
  stop_price?: string;
  display_quantity?: string;
  post_only?: boolean;
  /** ExpireTaker (default), ExpireMaker, ExpireBoth, Decrement. */
  stp_mode?: string;
  /** ISO 8601 or milliseconds since the epoch (GTD). */
  expire_time?: string | number;
  /** 1 .. 2^53-1, as a number or a digit string; echoed back. */
  client_order_id?: string | number;
  /** Any further field of the API is passed through. */
  [field: string]: unknown;
}

/** Filters of GET /api/v1/orders. */
export interface RestOrderFilter {
  symbol?: string;
  /** open, closed, or status words, comma-separated. */
  status?: string;
  side?: string;
  limit?: number;
  /** next_cursor of the previous page. */
  cursor?: string;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class RestClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: RestClientOptions = {}) {
    const url = options.url ?? 'http://localhost:8080';
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ClientUsageError(`not a URL: ${JSON.stringify(url)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ClientUsageError(`the REST URL must be http:// or https://, got ${JSON.stringify(url)}`);
    }
    this.url = u.href.replace(/\/+$/, '');
    this.token = options.token === '' ? undefined : options.token;
    const t = options.timeoutMs ?? 10_000;
    if (!Number.isSafeInteger(t) || t < 1)
      throw new ClientUsageError(`timeoutMs must be a positive integer, got ${t}`);
    this.timeoutMs = t;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  /** POST /api/v1/orders */
  placeOrder(order: RestOrderRequest): Promise<JsonValue> {
    return this.request('POST', '/api/v1/orders', order);
  }

  /** GET /api/v1/orders/{id} */
  getOrder(orderId: string | number): Promise<JsonValue> {
    return this.request('GET', `/api/v1/orders/${encodeURIComponent(String(orderId))}`);
  }

  /** GET /api/v1/orders?symbol=...&status=... (absent filters are left out): `{ orders, next_cursor }`. */
  listOrders(filter: Readonly<RestOrderFilter> = {}): Promise<JsonValue> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
    const qs = q.toString();
    return this.request('GET', `/api/v1/orders${qs === '' ? '' : `?${qs}`}`);
  }

  /** GET /api/v1/orders/{id}/trades */
  getTrades(orderId: string | number): Promise<JsonValue> {
    return this.request('GET', `/api/v1/orders/${encodeURIComponent(String(orderId))}/trades`);
  }

  /** GET /api/v1/symbols */
  symbols(): Promise<JsonValue> {
    return this.request('GET', '/api/v1/symbols');
  }

  /** DELETE /api/v1/orders/{id} */
  cancelOrder(orderId: string | number): Promise<JsonValue> {
    return this.request('DELETE', `/api/v1/orders/${encodeURIComponent(String(orderId))}`);
  }

  /** Any call: `path` starts with '/'; `body` is sent as JSON. Resolves with the parsed body (null if empty). */
  async request(method: string, path: string, body?: unknown): Promise<JsonValue> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const target = `${this.url}${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(target, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new RequestTimeoutError(`${method} ${target}: no answer within ${this.timeoutMs} ms`);
      }
      const cause = (e.cause as Error | undefined)?.message;
      throw new RestError(0, 'NETWORK', `${method} ${target}: ${cause ?? e.message}`, null);
    }
    const text = await res.text();
    let parsed: JsonValue = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text) as JsonValue;
      } catch {
        if (res.ok)
          throw new RestError(
            res.status,
            'BAD_JSON',
            `${method} ${target}: not JSON: ${text.slice(0, 200)}`,
            text,
          );
        parsed = text;
      }
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code =
        typeof err?.code === 'string' || typeof err?.code === 'number'
          ? String(err.code)
          : `HTTP_${res.status}`;
      const message = typeof err?.message === 'string' ? err.message : res.statusText || text.slice(0, 200);
      throw new RestError(res.status, code, message, parsed);
    }
    return parsed;
  }
}
