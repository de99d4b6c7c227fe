/**
 * The process's Prometheus metrics, served on /metrics: one prom-client Registry owned by the gateway
 * (never the global one), with typed handles for the code that updates them.
 *
 *   http_requests_total{method,route,status}        counter, route = the route pattern
 *   http_request_duration_seconds{method,route}      histogram
 *   http_requests_aborted_total{method,route}        counter (client went away before the reply)
 *   exchange_orders_total{result}                    counter: accepted | rejected | invalid | busy |
 *                                                    shard_down | timeout | unauthorized
 *   exchange_order_ack_seconds                       histogram: command commit -> its events applied
 *   exchange_ws_sessions                             gauge, set by the WebSocket gateway
 *   exchange_busy_rejects_total                      counter: requests answered BUSY (ring or table full)
 *   exchange_trades_total                            counter: FILL events seen by the gateway
 *   exchange_shard_commands_total{shard}             commands processed per shard
 *   exchange_shard_events_total{shard}               events emitted per shard
 *   exchange_ring_used_bytes{shard,ring}             ring occupancy, ring = command | event
 *   exchange_shard_back_pressured_total{shard}      commands refused because the command ring was full
 *   exchange_shard_up{shard}                         1 running/waiting, 0 otherwise
 *   exchange_open_orders / exchange_pending_requests  gauges read from the gateway's tables
 *   + prom-client's Node.js default metrics (process_*, nodejs_*)
 *
 * Nothing per message touches prom-client except the two per-request histograms and counters: the
 * engine-side figures are plain numbers (`GatewayCounters`, the pipeline's control block) read at
 * scrape time in `collect()`. Thread-safety: main thread only.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HttpObserver } from '../http/HttpRouter.js';

/** Per-shard figures the pipeline reports (read at scrape time). */
export interface ShardStats {
  readonly shard: number;
  /** True when the shard takes commands. */
  readonly up: boolean;
  readonly commands: number;
  readonly events: number;
  /** Bytes published and not yet consumed in the shard's command ring and event ring. */
  readonly commandRingUsedBytes: number;
  readonly eventRingUsedBytes: number;
  /** Commands refused because the command ring was full. */
  readonly backPressured: number;
}

/** Plain counters the gateway bumps per message; prom-client reads them at scrape time. */
export class GatewayCounters {
  /** Requests answered BUSY. */
  busyRejects = 0;
  /** FILL events seen. */
  trades = 0;
}

export interface MetricsSources {
  readonly shards?: () => readonly ShardStats[];
  readonly openOrders?: () => number;
  readonly pendingRequests?: () => number;
  /** Market data (gateway/marketdata): connections, subscriptions, dropped, resynced, frames published. */
  readonly marketData?: () => {
    connections: number;
    subscriptions: number;
    dropped: number;
    resynced: number;
    closedAtBound: number;
    rateLimited: number;
    published: number;
  };
}

export const ORDER_RESULTS = [
  'accepted',
  'rejected',
  'invalid',
  'busy',
  'shard_down',
  'timeout',
  'unauthorized',
] as const;
export type OrderResult = (typeof ORDER_RESULTS)[number];
const ORDER_RESULT_INDEX = Object.fromEntries(ORDER_RESULTS.map((r, i) => [r, i])) as Record<
  OrderResult,
  number
>;

export class GatewayMetrics implements HttpObserver {
  readonly registry: Registry;
  readonly counters: GatewayCounters;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly httpAborted: Counter<'method' | 'route'>;
  readonly orders: Counter<'result'>;
  readonly orderAckSeconds: Histogram;
  /** Open WebSocket sessions: `inc()` on open, `dec()` on close (the WS gateway owns it). */
  readonly wsSessions: Gauge;
  private sources: MetricsSources;
  private readonly requestChildren: Map<string, { inc(): void }>;
  private readonly durationChildren: Map<string, { observe(v: number): void }>;
  /** Order outcomes so far, indexed like ORDER_RESULTS. */
  private readonly orderCounts = new Float64Array(ORDER_RESULTS.length);

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registry = new Registry();
    this.registry = registry;
    this.counters = new GatewayCounters();
    this.sources = {};
    this.requestChildren = new Map();
    this.durationChildren = new Map();
    const registers = [registry];
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to reply, by method and route pattern.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.httpAborted = new Counter({
      name: 'http_requests_aborted_total',
      help: 'HTTP requests whose client went away before the reply.',
      labelNames: ['method', 'route'] as const,
      registers,
    });
    const orderCounts = this.orderCounts;
    this.orders = new Counter({
      name: 'exchange_orders_total',
      help: 'Order requests by result.',
      labelNames: ['result'] as const,
      registers,
      collect() {
        this.reset();
        for (let i = 0; i < ORDER_RESULTS.length; i++) this.inc({ result: ORDER_RESULTS[i] }, orderCounts[i]);
      },
    });
    this.orderAckSeconds = new Histogram({
      name: 'exchange_order_ack_seconds',
      help: 'Time from writing a command into its shard ring to having applied its events.',
      buckets: [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 1,
      ],
      registers,
    });
    this.wsSessions = new Gauge({
      name: 'exchange_ws_sessions',
      help: 'Open WebSocket sessions.',
      registers,
    });
    const counters = this.counters;
    new Counter({
      name: 'exchange_busy_rejects_total',
      help: 'Requests answered BUSY (shard command ring full or too many requests waiting).',
      registers,
      collect() {
        this.reset();
        this.inc(counters.busyRejects);
      },
    });
    new Counter({
      name: 'exchange_trades_total',
      help: 'Trades (FILL events) seen by the gateway.',
      registers,
      collect() {
        this.reset();
        this.inc(counters.trades);
      },
    });
    const shards = () => this.sources.shards?.() ?? [];
    new Counter({
      name: 'exchange_shard_commands_total',
      help: 'Commands processed per shard.',
      labelNames: ['shard'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of shards()) this.inc({ shard: String(s.shard) }, s.commands);
      },
    });
    new Counter({
      name: 'exchange_shard_events_total',
      help: 'Events emitted per shard.',
      labelNames: ['shard'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of shards()) this.inc({ shard: String(s.shard) }, s.events);
      },
    });
    new Counter({
      name: 'exchange_shard_back_pressured_total',
      help: 'Commands refused per shard because its command ring was full.',
      labelNames: ['shard'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of shards()) this.inc({ shard: String(s.shard) }, s.backPressured);
      },
    });
    new Gauge({
      name: 'exchange_ring_used_bytes',
      help: 'Bytes published and not yet consumed in each shard ring (ring occupancy).',
      labelNames: ['shard', 'ring'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of shards()) {
          this.set({ shard: String(s.shard), ring: 'command' }, s.commandRingUsedBytes);
          this.set({ shard: String(s.shard), ring: 'event' }, s.eventRingUsedBytes);
        }
      },
    });
    new Gauge({
      name: 'exchange_shard_up',
      help: '1 when the shard takes commands.',
      labelNames: ['shard'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of shards()) this.set({ shard: String(s.shard) }, s.up ? 1 : 0);
      },
    });
    const sources = () => this.sources;
    new Gauge({
      name: 'exchange_open_orders',
      help: 'Open orders known to the gateway.',
      registers,
      collect() {
        this.set(sources().openOrders?.() ?? 0);
      },
    });
    new Gauge({
      name: 'exchange_pending_requests',
      help: 'Requests waiting for their command outcome.',
      registers,
      collect() {
        this.set(sources().pendingRequests?.() ?? 0);
      },
    });
    new Gauge({
      name: 'exchange_md_connections',
      help: 'Market-data WebSocket connections.',
      registers,
      collect() {
        this.set(sources().marketData?.().connections ?? 0);
      },
    });
    new Gauge({
      name: 'exchange_md_subscriptions',
      help: 'Market-data (symbol, channel) subscriptions held.',
      registers,
      collect() {
        this.set(sources().marketData?.().subscriptions ?? 0);
      },
    });
    new Gauge({
      name: 'exchange_md_requests_rate_limited_total',
      help: 'Market-data Subscribe requests refused with RATE_LIMITED (705).',
      registers,
      collect() {
        this.set(sources().marketData?.().rateLimited ?? 0);
      },
    });
    new Gauge({
      name: 'exchange_md_slow_subscribers_total',
      help: 'Market-data subscribers past the backpressure policy threshold, by action (dropped, resynced; closed_at_bound: past the hard bound before the policy acted).',
      labelNames: ['action'],
      registers,
      collect() {
        const md = sources().marketData?.();
        this.set({ action: 'dropped' }, md?.dropped ?? 0);
        this.set({ action: 'resynced' }, md?.resynced ?? 0);
        this.set({ action: 'closed_at_bound' }, md?.closedAtBound ?? 0);
      },
    });
    new Gauge({
      name: 'exchange_md_frames_published_total',
      help: 'Market-data frames published to uWS topics (each fanned out to every subscriber).',
      registers,
      collect() {
        this.set(sources().marketData?.().published ?? 0);
      },
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  }

  /** Where scrape-time figures come from (the pipeline is attached after start-up). */
  setSources(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** Counts one order request outcome (a plain array bump; prom-client reads it at scrape time). */
  orderResult(result: OrderResult): void {
    this.orderCounts[ORDER_RESULT_INDEX[result]]++;
  }

  request(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let counter = this.requestChildren.get(key);
    if (counter === undefined) {
      counter = this.httpRequests.labels(method, route, String(status));
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    const dkey = `${method} ${route}`;
    let duration = this.durationChildren.get(dkey);
    if (duration === undefined) {
      duration = this.httpDuration.labels(method, route);
      this.durationChildren.set(dkey, duration);
    }
    duration.observe(seconds);
  }

  aborted(method: string, route: string): void {
    this.httpAborted.labels(method, route).inc();
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
