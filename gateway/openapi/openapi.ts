/**
 * The OpenAPI 3.0 description of the REST API, served at `/api-docs/openapi.json` and shown by Swagger
 * UI at `/swagger-ui`.
 *
 * Written as a TypeScript object next to the code it describes; a test (test/gateway/openapi.test.ts)
 * checks it against the live server: every documented path and method answers something other than
 * the no-route 404, and every live route (except Swagger UI's static files) is documented.
 * Enumerations come from gateway/orders/OrderVocabulary.ts, so the two cannot drift apart.
 * Thread-safety: pure function.
 */

import { CANDLE_INTERVALS } from '../marketdata/CandlePool.js';
import {
  ORDER_TYPE_WORDS,
  SIDE_WORDS,
  STATUS_WORDS,
  STP_MODE_WORDS,
  TIME_IN_FORCE_WORDS,
} from '../orders/OrderVocabulary.js';
import { MAX_CANDLES, MAX_TRADES } from '../rest/MarketDataApi.js';
import {
  ACCOUNT_TRADES_PATH,
  DEFAULT_PAGE,
  MAX_PAGE,
  ORDERS_ALIAS_PATH,
  ORDERS_PATH,
} from '../rest/OrdersApi.js';
import { OPENAPI_PATH } from './swaggerUi.js';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const decimal = (description: string, example: string): Json => ({ type: 'string', description, example });
const nullableDecimal = (description: string, example?: string): Json => ({
  type: 'string',
  nullable: true,
  description,
  ...(example === undefined ? {} : { example }),
});
const jsonBody = (schema: Json, description: string): Json => ({
  description,
  content: { 'application/json': { schema } },
});
const errorResponse = (description: string): Json => jsonBody(ref('Error'), description);

const AUTH_ERRORS: Json = { '401': errorResponse('Missing or invalid bearer token (JWT_SECRET set).') };
const ID_PARAM: Json = {
  name: 'id',
  in: 'path',
  required: true,
  description: "Exchange order id (decimal integer). Unknown ids and other accounts' ids both give 404.",
  schema: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
};

function orderOperations(base: string, alias: boolean): Record<string, Json> {
  const tag = alias ? ['orders (aliases)'] : ['orders'];
  const suffix = alias ? 'Alias' : '';
  const note = alias ? ` Alias of \`${ORDERS_PATH}\`.` : '';
  const single: Json = {
    parameters: [ID_PARAM],
  };
  return {
    [base]: {
      post: {
        tags: tag,
        operationId: `placeOrder${suffix}`,
        summary: 'Place an order',
        description:
          'Validates the order, converts decimals exactly to ticks and lots, sends it to the matching engine ' +
          `and answers with the order's state after matching (fills included).${note}`,
        security: [{ bearerAuth: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: ref('NewOrder') } } },
        responses: {
          '201': jsonBody(ref('Order'), 'Accepted; the order as it stands after matching.'),
          '400': errorResponse(
            'Malformed JSON, a field that is missing or invalid, or an engine reject 100-199.',
          ),
          ...AUTH_ERRORS,
          '413': errorResponse('Body larger than 16 KiB.'),
          '422': errorResponse('Refused by a pre-trade check (engine reject 200-299).'),
          '503': errorResponse('BUSY (retry), SHARD_DOWN, or a shard table full.'),
          '504': errorResponse('No answer from the matching engine in time.'),
        },
      },
      get: {
        tags: tag,
        operationId: `listOrders${suffix}`,
        summary: "List the caller's orders, newest first",
        description:
          'Open orders and the most recent closed ones (see docs/api.md for retention). With a database, ' +
          '`status` naming only closed statuses pages through the persisted history in PostgreSQL ' +
          `(its next_cursor is PostgreSQL's; it lags the engine by the journal lag).${note}`,
        security: [{ bearerAuth: [] }],
        parameters: [
          {
            name: 'status',
            in: 'query',
            description: `open, closed, or statuses (${STATUS_WORDS.join(', ')}), comma-separated`,
            schema: { type: 'string' },
          },
          { name: 'symbol', in: 'query', schema: { type: 'string', example: 'BTC/USD' } },
          { name: 'side', in: 'query', schema: { type: 'string', enum: [...SIDE_WORDS] } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
          },
          {
            name: 'cursor',
            in: 'query',
            description: 'The next_cursor of the previous page.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': jsonBody(ref('OrderList'), 'A page of orders.'),
          '400': errorResponse('Invalid query parameter.'),
          ...AUTH_ERRORS,
        },
      },
    },
    [`${base}/{id}`]: {
      ...single,
      get: {
        tags: tag,
        operationId: `getOrder${suffix}`,
        summary: 'Get one order with its fills',
        security: [{ bearerAuth: [] }],
        responses: {
          '200': jsonBody(ref('Order'), 'The order.'),
          ...AUTH_ERRORS,
          '404': errorResponse('No such order for this account.'),
        },
      },
      delete: {
        tags: tag,
        operationId: `deleteOrder${suffix}`,
        summary: 'Cancel an order',
        description: `Same as PUT ${base}/{id}/cancel.${note}`,
        security: [{ bearerAuth: [] }],
        responses: cancelResponses(),
      },
    },
    [`${base}/{id}/cancel`]: {
      ...single,
      put: {
        tags: tag,
        operationId: `cancelOrder${suffix}`,
        summary: 'Cancel an order',
        security: [{ bearerAuth: [] }],
        responses: cancelResponses(),
      },
    },
    [`${base}/{id}/trades`]: {
      ...single,
      get: {
        tags: tag,
        operationId: `getOrderTrades${suffix}`,
        summary: "The order's fills",
        security: [{ bearerAuth: [] }],
        responses: {
          '200': jsonBody(ref('TradeList'), 'Fills, oldest first.'),
          ...AUTH_ERRORS,
          '404': errorResponse('No such order for this account.'),
        },
      },
    },
  };
}

function cancelResponses(): Json {
  return {
    '200': jsonBody(ref('Order'), 'Cancelled; the order with status Canceled.'),
    ...AUTH_ERRORS,
    '404': errorResponse('No such order for this account.'),
    '409': errorResponse('The order is no longer open (ORDER_NOT_OPEN).'),
    '503': errorResponse('BUSY or SHARD_DOWN.'),
    '504': errorResponse('No answer from the matching engine in time.'),
  };
}

/** The OpenAPI document (a fresh object per call). */
export function openApiDocument(): Json {
  return {
    openapi: '3.0.3',
    info: {
      title: 'ts-exchange REST API',
      version: '1.0.0',
      description:
        'JSON order entry and queries. Prices and quantities are decimal strings, converted exactly to the ' +
        "symbol's ticks and lots (a value that is not a multiple is rejected, never rounded). Errors are " +
        '`{ "error": { "code", "message" } }`. Without JWT_SECRET the server runs in demo mode: requests ' +
        'without a token act as the first demo account.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'orders' },
      { name: 'orders (aliases)', description: `The same operations under ${ORDERS_ALIAS_PATH}.` },
      { name: 'market' },
      { name: 'operations' },
    ],
    paths: {
      '/api/v1/health': {
        get: {
          tags: ['operations'],
          operationId: 'health',
          summary: 'Component status',
          responses: {
            '200': jsonBody(ref('Health'), 'Every component ok or degraded.'),
            '503': jsonBody(ref('Health'), 'A component is down.'),
          },
        },
      },
      '/api/v1/symbols': {
        get: {
          tags: ['market'],
          operationId: 'listSymbols',
          summary: 'Tradable symbols with tick and lot sizes',
          responses: { '200': jsonBody(ref('SymbolList'), 'Every symbol.') },
        },
      },
      ...marketDataOperations(),
      ...orderOperations(ORDERS_PATH, false),
      [ACCOUNT_TRADES_PATH]: {
        get: {
          tags: ['orders'],
          operationId: 'listAccountTrades',
          summary: "The caller's fills, newest first, from PostgreSQL",
          security: [{ bearerAuth: [] }],
          parameters: [
            { name: 'symbol', in: 'query', schema: { type: 'string', example: 'BTC/USD' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
            },
            {
              name: 'cursor',
              in: 'query',
              description: 'The next_cursor of the previous page.',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': jsonBody(
              {
                type: 'object',
                properties: {
                  trades: {
                    type: 'array',
                    items: {
                      allOf: [
                        ref('Fill'),
                        {
                          type: 'object',
                          properties: { order_id: { type: 'string' }, symbol: { type: 'string' } },
                        },
                      ],
                    },
                  },
                  next_cursor: { type: 'string', nullable: true },
                },
              },
              'A page of fills.',
            ),
            '400': errorResponse('Invalid query parameter.'),
            ...AUTH_ERRORS,
            '503': errorResponse('No database (DB=none) or PostgreSQL unreachable: HISTORY_UNAVAILABLE.'),
          },
        },
      },
      ...orderOperations(ORDERS_ALIAS_PATH, true),
      '/metrics': {
        get: {
          tags: ['operations'],
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format)',
          responses: {
            '200': { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      [OPENAPI_PATH]: {
        get: {
          tags: ['operations'],
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': jsonBody({ type: 'object' }, 'OpenAPI 3 document.') },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (HS256, sub = account id)' },
      },
      schemas: {
        NewOrder: {
          type: 'object',
          required: ['symbol', 'side', 'quantity'],
          description:
            'Unknown fields are ignored. Enumerations are case-insensitive; "_" and "-" are ignored.',
          properties: {
            symbol: { type: 'string', example: 'BTC/USD' },
            side: { type: 'string', enum: [...SIDE_WORDS] },
            order_type: { type: 'string', enum: [...ORDER_TYPE_WORDS], default: 'Limit' },
            quantity: decimal('Base quantity, a multiple of the lot size.', '1.0'),
            price: decimal('Limit price (Limit, StopLimit), a multiple of the tick size.', '50000.00'),
            stop_price: decimal('Trigger price (Stop, StopLimit).', '51000.00'),
            time_in_force: {
              type: 'string',
              enum: [...TIME_IN_FORCE_WORDS],
              description: 'Default GTC (IOC for Market; GTD when expire_time is given).',
            },
            expire_time: {
              oneOf: [
                { type: 'string', format: 'date-time' },
                { type: 'integer', description: 'milliseconds since the epoch' },
              ],
              description: 'GTD expiry.',
            },
            expire_time_us: { type: 'integer', description: 'GTD expiry in microseconds since the epoch.' },
            display_quantity: decimal('Iceberg: the visible part.', '0.1'),
            min_quantity: decimal('Minimum quantity that must be fillable at once.', '0.5'),
            post_only: { type: 'boolean', default: false },
            stp_mode: {
              type: 'string',
              enum: [...STP_MODE_WORDS],
              default: 'ExpireTaker',
              description: 'Self-trade prevention (aliases cancel_newest, cancel_oldest, cancel_both).',
            },
            client_order_id: {
              oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]{1,16}$' }],
              description: 'Your id, 1..2^53-1, echoed back.',
            },
          },
          example: {
            symbol: 'BTC/USD',
            side: 'Buy',
            quantity: '1.0',
            price: '50000.00',
            order_type: 'Limit',
          },
        },
        Fill: {
          type: 'object',
          properties: {
            trade_id: { type: 'string' },
            price: { type: 'string' },
            quantity: { type: 'string' },
            liquidity: { type: 'string', enum: ['Maker', 'Taker'] },
            timestamp: { type: 'string', format: 'date-time' },
          },
        },
        Order: {
          type: 'object',
          properties: {
            order_id: { type: 'string', example: '1' },
            client_order_id: { type: 'string', nullable: true },
            account_id: { type: 'integer' },
            symbol: { type: 'string' },
            side: { type: 'string', enum: [...SIDE_WORDS] },
            order_type: { type: 'string', enum: [...ORDER_TYPE_WORDS] },
            time_in_force: { type: 'string', enum: [...TIME_IN_FORCE_WORDS] },
            status: { type: 'string', enum: [...STATUS_WORDS] },
            price: nullableDecimal('Limit price; null for Market and Stop.', '50000.00'),
            stop_price: nullableDecimal('Trigger price.'),
            quantity: { type: 'string' },
            filled_quantity: { type: 'string' },
            remaining_quantity: { type: 'string' },
            display_quantity: nullableDecimal('Iceberg visible part.'),
            average_price: nullableDecimal('Volume-weighted fill price (tick digits + up to 8 more).'),
            last_fill_price: nullableDecimal('Price of the latest fill.'),
            last_fill_quantity: nullableDecimal('Quantity of the latest fill.'),
            post_only: { type: 'boolean' },
            stp_mode: { type: 'string', enum: [...STP_MODE_WORDS] },
            expire_time: { type: 'string', format: 'date-time', nullable: true },
            reason: {
              type: 'string',
              nullable: true,
              description: 'Why a Canceled/Expired order closed (USER_CANCEL, IOC_UNFILLED, ...).',
            },
            triggered: { type: 'boolean' },
            created_at: { type: 'string', format: 'date-time' },
            updated_at: { type: 'string', format: 'date-time' },
            fill_count: { type: 'integer' },
            fills: { type: 'array', items: ref('Fill'), description: 'Single-order replies only.' },
          },
        },
        OrderList: {
          type: 'object',
          properties: {
            orders: { type: 'array', items: ref('Order') },
            next_cursor: { type: 'string', nullable: true },
          },
        },
        TradeList: {
          type: 'object',
          properties: {
            order_id: { type: 'string' },
            symbol: { type: 'string' },
            trades: { type: 'array', items: ref('Fill') },
            fill_count: { type: 'integer' },
            truncated: { type: 'boolean' },
          },
        },
        Symbol: {
          type: 'object',
          properties: {
            symbol_id: { type: 'integer' },
            symbol: { type: 'string' },
            tick_size: { type: 'string' },
            lot_size: { type: 'string' },
            min_quantity: { type: 'string' },
            max_quantity: { type: 'string' },
            price_band_bps: { type: 'integer' },
          },
        },
        SymbolList: {
          type: 'object',
          properties: { symbols: { type: 'array', items: ref('Symbol') } },
        },
        Book: {
          type: 'object',
          properties: {
            symbol: { type: 'string', example: 'BTC/USD' },
            symbol_id: { type: 'integer' },
            seq: { type: 'integer', description: 'l2 sequence of the last update included (feed seq).' },
            checksum: {
              type: 'integer',
              description: 'CRC-32 of the top 10 levels, Kraken v2 rule (docs/marketdata.md).',
            },
            timestamp_us: { type: 'integer' },
            bids: { type: 'array', items: ref('Level'), description: 'Best (highest) first.' },
            asks: { type: 'array', items: ref('Level'), description: 'Best (lowest) first.' },
          },
        },
        Level: {
          type: 'array',
          description: '[price, quantity, order_count]',
          items: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
          example: ['50000.00', '1.2500', 3],
        },
        Trades: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            symbol_id: { type: 'integer' },
            trades: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  seq: { type: 'integer' },
                  trade_id: { type: 'integer' },
                  price: decimal('Trade price.', '50000.00'),
                  quantity: decimal('Trade quantity.', '0.0100'),
                  aggressor_side: { type: 'string', enum: ['buy', 'sell'] },
                  timestamp_us: { type: 'integer' },
                },
              },
            },
          },
        },
        Ticker: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            symbol_id: { type: 'integer' },
            last_price: nullableDecimal('Last trade price.', '50000.00'),
            last_quantity: nullableDecimal('Last trade quantity.'),
            last_trade_time_us: { type: 'integer' },
            bid_price: nullableDecimal('Best bid.'),
            bid_quantity: nullableDecimal('Best bid quantity.'),
            ask_price: nullableDecimal('Best ask.'),
            ask_quantity: nullableDecimal('Best ask quantity.'),
            volume_24h: decimal('Traded quantity over the last 24 h (minute buckets).', '12.5000'),
            trades_24h: { type: 'integer' },
            high_24h: nullableDecimal('24 h high.'),
            low_24h: nullableDecimal('24 h low.'),
            open_24h: nullableDecimal('First price of the 24 h window.'),
            status: { type: 'integer', description: 'TradingStatus (2 = Open).' },
          },
        },
        Candles: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            symbol_id: { type: 'integer' },
            interval: { type: 'string' },
            candles: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  open_time_us: { type: 'integer' },
                  open: { type: 'string' },
                  high: { type: 'string' },
                  low: { type: 'string' },
                  close: { type: 'string' },
                  volume: { type: 'string' },
                  trades: { type: 'integer' },
                },
              },
            },
          },
        },
        Health: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['ok', 'degraded', 'down'] },
            uptime_ms: { type: 'integer' },
            components: { type: 'object', additionalProperties: { type: 'object' } },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', example: 'PRICE_OUTSIDE_BAND' },
                message: { type: 'string' },
                reason: {
                  type: 'integer',
                  description: 'Engine reason code (engine/ResultCodes.ts), when one applies.',
                },
                field: { type: 'string', description: 'The request field at fault, for validation errors.' },
              },
            },
          },
        },
      },
    },
  };
}

const SYMBOL_PARAM: Json = {
  name: 'symbol',
  in: 'path',
  required: true,
  description: 'Symbol name ("BTC-USD", "btcusd", URL-encoded "BTC%2FUSD") or id.',
  schema: { type: 'string' },
};

function marketDataOperations(): Record<string, Json> {
  const unknown = { '404': errorResponse('Unknown symbol (UNKNOWN_SYMBOL).') };
  const bad = { '400': errorResponse('Malformed query parameter (INVALID_PARAMETER).') };
  return {
    '/api/v1/book/{symbol}': {
      get: {
        tags: ['market'],
        operationId: 'getBook',
        summary: 'L2 book snapshot with its feed sequence and checksum (from the gateway mirror)',
        parameters: [
          SYMBOL_PARAM,
          {
            name: 'depth',
            in: 'query',
            description: 'Levels per side; 0 or absent = whole book. The checksum always covers the top 10.',
            schema: { type: 'integer', minimum: 0, maximum: 100000 },
          },
        ],
        responses: { '200': jsonBody(ref('Book'), 'The book.'), ...bad, ...unknown },
      },
    },
    '/api/v1/trades/{symbol}': {
      get: {
        tags: ['market'],
        operationId: 'getTrades',
        summary: 'Most recent public trades, newest first (bounded recent history)',
        parameters: [
          SYMBOL_PARAM,
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_TRADES, default: 100 },
          },
        ],
        responses: { '200': jsonBody(ref('Trades'), 'Trades.'), ...bad, ...unknown },
      },
    },
    '/api/v1/ticker/{symbol}': {
      get: {
        tags: ['market'],
        operationId: 'getTicker',
        summary: 'Last trade, best bid and offer, rolling 24 h volume',
        parameters: [SYMBOL_PARAM],
        responses: { '200': jsonBody(ref('Ticker'), 'Ticker.'), ...unknown },
      },
    },
    '/api/v1/candles/{symbol}': {
      get: {
        tags: ['market'],
        operationId: 'getCandles',
        summary: 'OHLCV candles of the recent trade history, computed in a worker pool',
        parameters: [
          SYMBOL_PARAM,
          {
            name: 'interval',
            in: 'query',
            schema: { type: 'string', enum: Object.keys(CANDLE_INTERVALS), default: '1m' },
          },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_CANDLES, default: 100 },
          },
        ],
        responses: {
          '200': jsonBody(ref('Candles'), 'Candles, oldest first; only intervals with trades.'),
          ...bad,
          ...unknown,
          '503': errorResponse('The candle workers are saturated (CANDLES_BUSY); retry after 1 s.'),
        },
      },
    },
  };
}
