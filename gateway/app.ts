/**
 * The gateway's HTTP side, assembled: the uWebSockets.js app with every REST route, auth, CORS,
 * metrics, OpenAPI and Swagger UI, and the order core (OrderService + OrderStore + PendingRequests)
 * that turns requests into commands and events into replies.
 *
 * server.ts creates it, hands `onEvent` to the engine pipeline, `attach()`es the started pipeline,
 * then `listen()`s. The WebSocket gateway reuses `orders` (CommandWriter, OrderStore),
 * `auth`, `metrics` (e.g. `metrics.wsSessions`) and `addEventListener()` for per-session routing, and
 * registers its `app.ws(...)` routes on `app` (uWS matches static routes before the catch-all).
 * The public market-data feed is built in here: MarketDataHub (fed by `onEvent`), its WebSocket
 * endpoint /api/v1/ws/market (MarketDataGateway) and the REST book/trades/ticker/candles routes.
 * Thread-safety: main thread only.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { PipelineHealth } from '../engine/pipeline.js';
import { EventType, readType } from '../engine/records/EventRecord.js';
import type { History } from '../journal/pg/History.js';
import { Authenticator } from './auth/Authenticator.js';
import { CorsPolicy } from './http/CorsPolicy.js';
import { HttpRouter } from './http/HttpRouter.js';
import { json } from './http/Reply.js';
import type { Logger } from './logger.js';
import { CandlePool, type CandlePoolOptions } from './marketdata/CandlePool.js';
import { MarketDataGateway, type MarketDataOptions } from './marketdata/MarketDataGateway.js';
import { MarketDataHub } from './marketdata/MarketDataHub.js';
import { GatewayMetrics, type ShardStats } from './metrics/GatewayMetrics.js';
import { openApiDocument } from './openapi/openapi.js';
import { OPENAPI_PATH, registerSwaggerUi } from './openapi/swaggerUi.js';
import type { CommandPort } from './orders/CommandPort.js';
import { CommandWriter } from './orders/CommandWriter.js';
import { OrderService } from './orders/OrderService.js';
import { OrderStore, type OrderStoreOptions } from './orders/OrderStore.js';
import { PendingRequests } from './orders/PendingRequests.js';
import { REST_SESSION_ID } from './orders/sessionIds.js';
import { Health } from './rest/Health.js';
import { MarketDataApi } from './rest/MarketDataApi.js';
import { OrdersApi } from './rest/OrdersApi.js';
import { SymbolDirectory } from './rest/SymbolDirectory.js';
import { unitsToDecimal } from './symbols/decimal.js';
import type { SymbolSpec } from './symbols/SymbolTable.js';
import type { UwsModule } from './uws.js';

export { REST_SESSION_ID };

export type EventListener = (shard: number, view: DataView, offset: number) => void;

/** What the gateway needs from the started engine pipeline (engine/pipeline.ts `Pipeline`). */
export interface PipelinePort extends CommandPort {
  health(): PipelineHealth;
  /**
   * Optional: false while `shard` has published events not yet handed to `onEvent` (e.g. the
   * dispatcher's per-turn budget cut a command's events in two). When present, a REST request waits
   * for all of its command's events before answering (see PendingRequests).
   */
  eventsSettled?(shard: number): boolean;
}

export interface GatewayOptions {
  readonly uws: UwsModule;
  readonly log: Logger;
  readonly symbols: readonly SymbolSpec[];
  /** HS256 secret; undefined = demo mode. */
  readonly jwtSecret: string | undefined;
  readonly corsOrigins?: readonly string[];
  /** How long a REST request waits for its command's events (default 5000 ms). */
  readonly orderTimeoutMs?: number;
  /** Requests waiting for the engine at once (default 65536); more are answered BUSY. */
  readonly maxPendingRequests?: number;
  /** Largest request body (default 16 KiB). */
  readonly maxBodyBytes?: number;
  readonly store?: OrderStoreOptions;
  /** Node.js default metrics in /metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Order and trade history in PostgreSQL (REST reads); undefined with DB=none. */
  readonly history?: History;
  /** Market-data feed settings (docs/marketdata.md). */
  readonly marketData?: MarketDataOptions & {
    /** Trades kept per symbol (power of two, default 8192). */
    readonly tradeHistory?: number;
    readonly candles?: CandlePoolOptions;
  };
}

export class Gateway {
  readonly app: TemplatedApp;
  readonly router: HttpRouter;
  readonly auth: Authenticator;
  readonly metrics: GatewayMetrics;
  readonly orders: OrderService;
  readonly health: Health;
  readonly symbols: SymbolDirectory;
  /** Market data: the hub (mirrors, sequences) and its WebSocket endpoint. */
  readonly marketData: MarketDataGateway;
  readonly candles: CandlePool;
  /** Hand to the pipeline: every event of every shard, on the main thread. */
  readonly onEvent: EventListener;
  private readonly uws: UwsModule;
  private readonly log: Logger;
  private readonly listeners: EventListener[];
  private listenSocket: us_listen_socket | undefined;
  private pipeline: PipelinePort | undefined;

  static async create(options: GatewayOptions): Promise<Gateway> {
    const log = options.log.child({ component: 'gateway' });
    const auth = await Authenticator.create({ secret: options.jwtSecret, log });
    return new Gateway(options, log, auth);
  }

  private constructor(options: GatewayOptions, log: Logger, auth: Authenticator) {
    this.uws = options.uws;
    this.log = log;
    this.auth = auth;
    this.app = options.uws.App();
    this.metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics });
    this.symbols = new SymbolDirectory(options.symbols);
    this.health = new Health(log);
    this.pipeline = undefined;
    const pending = new PendingRequests({
      capacity: options.maxPendingRequests ?? 65_536,
      timeoutMs: options.orderTimeoutMs ?? 5000,
      settled: (shard) => this.pipeline?.eventsSettled?.(shard) ?? true,
    });
    this.orders = new OrderService(new CommandWriter(), pending, new OrderStore(options.store));
    this.listeners = [];
    this.listenSocket = undefined;
    const app = this.app;
    const md = options.marketData ?? {};
    const hub = new MarketDataHub({
      symbols: options.symbols,
      tradeHistory: md.tradeHistory,
      publisher: {
        publish: (topic, frame) => {
          app.publish(topic, frame, true);
        },
        subscribers: (topic) => app.numSubscribers(topic),
      },
    });
    this.marketData = new MarketDataGateway(app, hub, log, md);
    this.candles = new CandlePool(md.candles);
    const counters = this.metrics.counters;
    const orderEvents = this.orders.onEvent;
    const marketEvents = hub.onEvent;
    const listeners = this.listeners;
    this.onEvent = (shard, view, offset) => {
      if (readType(view, offset) === EventType.FILL) counters.trades++;
      orderEvents(shard, view, offset);
      for (let i = 0; i < listeners.length; i++) listeners[i](shard, view, offset);
      // Note: market data last: a bug there must not keep an event from the order paths.
      marketEvents(shard, view, offset);
    };
    this.metrics.setSources({
      openOrders: () => this.orders.store.openCount,
      pendingRequests: () => this.orders.pending.size,
      marketData: () => {
        const st = this.marketData.statistics;
        return {
          connections: st.connections,
          subscriptions: st.subscriptions,
          dropped: st.dropped,
          resynced: st.resynced,
          closedAtBound: st.closedAtBound,
          rateLimited: st.rateLimited,
          published: this.marketData.hub.published,
        };
      },
    });
    this.health.add('gateway', () => ({
      status: 'ok',
      auth: auth.demo ? 'demo (JWT_SECRET unset)' : 'jwt',
      open_orders: this.orders.store.openCount,
      closed_orders_kept: this.orders.store.closedCount,
      pending_requests: this.orders.pending.size,
    }));
    this.health.add('engine', () => ({ status: 'down', reason: 'pipeline not started' }));
    this.router = new HttpRouter(this.app, {
      log,
      cors: new CorsPolicy(options.corsOrigins ?? []),
      observer: this.metrics,
      maxBodyBytes: options.maxBodyBytes,
    });
    this.registerRoutes(options.history);
  }

  /** Adds a per-event listener (after the order store has applied the event). */
  addEventListener(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** Connects the started pipeline: orders flow, health and metrics report its shards. */
  attach(pipeline: PipelinePort): void {
    this.pipeline = pipeline;
    this.orders.connect(pipeline);
    this.health.add('engine', () => engineHealth(pipeline.health()));
    this.metrics.setSources({ shards: () => shardStats(pipeline.health()) });
  }

  /** Stops order intake (waiting requests answer SHARD_DOWN); health shows the engine down. */
  detach(): void {
    this.pipeline = undefined;
    this.orders.disconnect();
    this.health.add('engine', () => ({ status: 'down', reason: 'pipeline stopped' }));
    this.metrics.setSources({ shards: () => [] });
  }

  /** Listens on host:port (0 = any free port); resolves the port, rejects when it cannot listen. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port} (port in use?)`));
          return;
        }
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  /**
   * Closes the listen socket (open connections finish their requests), the market-data connections
   * (1001) and the candle workers.
   */
  close(): void {
    if (this.listenSocket !== undefined) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.marketData.close();
    this.candles.close().catch((err: unknown) => this.log.warn({ err }, 'candle pool close failed'));
  }

  private registerRoutes(history: History | undefined): void {
    const router = this.router;
    router.get('/api/v1/health', () => {
      const { status, body } = this.health.report();
      return json(status, body);
    });
    const symbolsBody = JSON.stringify({
      symbols: this.symbols.symbols.map((s) => ({
        symbol_id: s.id,
        symbol: s.name,
        tick_size: s.tickSize,
        lot_size: s.lotSize,
        min_quantity: unitsToDecimal(s.minQtyLots, s.lotSize),
        max_quantity: unitsToDecimal(s.maxQtyLots, s.lotSize),
        price_band_bps: s.priceBandBps,
      })),
    });
    router.get('/api/v1/symbols', () => ({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: symbolsBody,
    }));
    new OrdersApi({
      orders: this.orders,
      symbols: this.symbols,
      auth: this.auth,
      metrics: this.metrics,
      sessionId: REST_SESSION_ID,
      history,
    }).register(router);
    new MarketDataApi({ hub: this.marketData.hub, symbols: this.symbols, candles: this.candles }).register(
      router,
    );
    router.get('/metrics', async () => {
      const { contentType, body } = await this.metrics.scrape();
      return { status: 200, contentType, body };
    });
    const openapi = JSON.stringify(openApiDocument());
    router.get(OPENAPI_PATH, () => ({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: openapi,
    }));
    registerSwaggerUi(router);
    router.finish();
  }
}

function engineHealth(h: PipelineHealth): { status: 'ok' | 'degraded' | 'down'; [k: string]: unknown } {
  const alive = h.shards.filter((s) => s.alive).length;
  const status = h.stopping || alive === 0 ? 'down' : alive < h.shards.length ? 'degraded' : 'ok';
  return {
    status,
    stopping: h.stopping,
    shards: h.shards.map((s) => ({
      id: s.id,
      state: s.state,
      alive: s.alive,
      heartbeat_age_ms: s.heartbeatAgeMs,
      commands: s.commands,
      events: s.events,
      busy_rejects: s.busyRejects,
      command_ring_used_bytes: s.inboundUsedBytes,
      event_ring_used_bytes: s.outboundUsedBytes,
      ...(s.reason === undefined ? {} : { reason: s.reason }),
    })),
  };
}

function shardStats(h: PipelineHealth): ShardStats[] {
  return h.shards.map((s) => ({
    shard: s.id,
    up: s.alive,
    commands: s.commands,
    events: s.events,
    commandRingUsedBytes: s.inboundUsedBytes,
    eventRingUsedBytes: s.outboundUsedBytes,
    backPressured: s.busyRejects,
  }));
}
