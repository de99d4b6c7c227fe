/**
 * MarketDataGateway: the public binary WebSocket feed on /api/v1/ws/market (no logon, no auth).
 *
 * A client sends Subscribe / Unsubscribe (alone or in a Batch) and optional Heartbeats; the gateway
 * answers a Subscribe with a snapshot per channel (BookSnapshot for l2, OrderBookSnapshot for l3,
 * the current Bbo and SymbolStatus, and for trades an optional replay from the recent history), then
 * subscribes the connection to the uWebSockets.js topic of each (symbol, channel): MarketDataHub
 * encodes every update once and `app.publish` fans it out. A per-symbol heartbeat topic carries a
 * MarketHeartbeat with the last seq of every channel every `heartbeatMs`.
 *
 * Slow subscribers (docs/marketdata.md): uWS `maxBackpressure` is a hard bound per connection with
 * `closeOnBackpressureLimit` (past it uWS closes the socket: memory never grows with a slow reader).
 * Before that, at `policyBytes` (half the bound by default), the gateway applies the subscriber's
 * policy: a plain subscriber is dropped (closed at once); a conflating one (Subscribe.conflate = 1)
 * is unsubscribed from its topics and, once its buffer has drained below a quarter of the policy
 * threshold, gets fresh snapshots, an Error(RESYNCED) notice and its topics back. The check runs
 * after a flush at most every `checkIntervalMs`, and on every heartbeat tick.
 *
 * Callers: gateway/app.ts mounts it on the Gateway's app. Thread-safety: main thread only.
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import {
  BatchReader,
  MessageReader,
  SubscribeReader,
  UnsubscribeReader,
} from '../../schema/codec/client-readers.js';
import { ChannelSeqColumns, GatewayEncoder } from '../../schema/codec/gateway-encoder.js';
import { Body } from '../../schema/generated/exchange/v1/body.js';
import { Direction, FrameVerifier, VerifyResult, verifyReasonUtf8 } from '../../schema/verify.js';
import type { Logger } from '../logger.js';
import { TokenBucket } from '../ws/TokenBucket.js';
import { MarketDataError } from './MarketDataError.js';
import { ALL_CHANNELS, ChannelBit, type MarketDataHub, type SymbolFeed } from './MarketDataHub.js';
import { MdReason, mdReasonText } from './MdReason.js';

export const MARKET_DATA_PATH = '/api/v1/ws/market';
const MAX_PAYLOAD = 64 * 1024;
const CLOSE_GOING_AWAY = 1001;
/** uWS WebSocket.send() result: not queued, the connection is past maxBackpressure. */
const SEND_DROPPED = 2;

export interface MarketDataOptions {
  /** Hard per-connection bound of queued bytes (uWS maxBackpressure, closes past it). Default 1 MiB. */
  readonly maxBackpressureBytes?: number;
  /** Queued bytes at which the slow-subscriber policy acts. Default maxBackpressureBytes / 2. */
  readonly policyBytes?: number;
  /** Heartbeat period; 0 = none. Default 1000 ms. */
  readonly heartbeatMs?: number;
  /** Least time between two slow-subscriber scans after flushes. Default 20 ms. */
  readonly checkIntervalMs?: number;
  /** uWS idleTimeout in seconds (pings are sent automatically). Default 60. */
  readonly idleTimeoutS?: number;
  /** Symbols one connection may hold at once. Default 1024. */
  readonly maxSymbolsPerConnection?: number;
  /**
   * Subscribe requests (each Subscribe of a Batch counts; Unsubscribe is free) per second per
   * connection, refilled continuously; one past it is refused with RATE_LIMITED (705). 0 = no limit.
   * Default 100.
   */
  readonly requestRate?: number;
  /** Subscribe requests a connection may send at once (the bucket's size). Default 2 x maxSymbolsPerConnection. */
  readonly requestBurst?: number;
}

export class MdSession {
  readonly id: number;
  /** Subscribe requests allowed (MarketDataOptions.requestRate). */
  readonly bucket: TokenBucket;
  /** symbolId -> channel bits held. */
  readonly subs = new Map<number, number>();
  /** Trades-from seq asked per symbol while resyncing, kept for the resync (replayed then). */
  readonly tradesFrom = new Map<number, number>();
  conflate = false;
  resyncing = false;
  open = true;
  ws: WebSocket<MdSession> | undefined = undefined;

  constructor(id: number, bucket: TokenBucket) {
    this.id = id;
    this.bucket = bucket;
  }
}

export interface MarketDataStats {
  connections: number;
  /** (symbol, channel) subscriptions held. */
  subscriptions: number;
  dropped: number;
  resynced: number;
  /** Requests refused with RATE_LIMITED. */
  rateLimited: number;
  /** Connections that passed the hard bound (a send dropped by uWS, which then closes them). */
  closedAtBound: number;
  /** Largest queued byte count seen by a scan (bounded by maxBackpressureBytes). */
  maxBufferedSeen: number;
}

export class MarketDataGateway {
  readonly hub: MarketDataHub;
  readonly maxBackpressureBytes: number;
  readonly policyBytes: number;
  private readonly app: TemplatedApp;
  private readonly log: Logger;
  private readonly heartbeatMs: number;
  private readonly checkIntervalMs: number;
  private readonly idleTimeoutS: number;
  private readonly maxSymbols: number;
  private readonly requestRate: number;
  private readonly requestBurst: number;
  private readonly sessions = new Set<MdSession>();
  private readonly verifier = new FrameVerifier(Direction.ClientToGateway);
  private readonly message = new MessageReader();
  private readonly subscribe = new SubscribeReader();
  private readonly unsubscribe = new UnsubscribeReader();
  private readonly batch = new BatchReader();
  private readonly encoder = new GatewayEncoder(4096);
  private readonly hbRows = new ChannelSeqColumns(5);
  private nextId = 1;
  private lastCheck = 0;
  private heartbeat: NodeJS.Timeout | undefined = undefined;
  private readonly stats: MarketDataStats = {
    connections: 0,
    subscriptions: 0,
    dropped: 0,
    resynced: 0,
    rateLimited: 0,
    closedAtBound: 0,
    maxBufferedSeen: 0,
  };

  constructor(app: TemplatedApp, hub: MarketDataHub, log: Logger, options: MarketDataOptions = {}) {
    this.app = app;
    this.hub = hub;
    this.log = log.child({ component: 'market-data' });
    this.maxBackpressureBytes = options.maxBackpressureBytes ?? 1024 * 1024;
    this.policyBytes = options.policyBytes ?? Math.floor(this.maxBackpressureBytes / 2);
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.checkIntervalMs = options.checkIntervalMs ?? 20;
    this.idleTimeoutS = options.idleTimeoutS ?? 60;
    this.maxSymbols = options.maxSymbolsPerConnection ?? 1024;
    this.requestRate = options.requestRate ?? 100;
    this.requestBurst = options.requestBurst ?? 2 * this.maxSymbols;
    if (!Number.isInteger(this.requestRate) || this.requestRate < 0) {
      throw new MarketDataError(`requestRate must be an integer >= 0, got ${this.requestRate}`);
    }
    if (!Number.isInteger(this.requestBurst) || this.requestBurst < 1) {
      throw new MarketDataError(`requestBurst must be an integer >= 1, got ${this.requestBurst}`);
    }
    if (!Number.isInteger(this.maxBackpressureBytes) || this.maxBackpressureBytes < MAX_PAYLOAD) {
      throw new MarketDataError(
        `maxBackpressureBytes must be an integer >= ${MAX_PAYLOAD}, got ${this.maxBackpressureBytes}`,
      );
    }
    if (
      !Number.isInteger(this.policyBytes) ||
      this.policyBytes < 1 ||
      this.policyBytes > this.maxBackpressureBytes
    ) {
      throw new MarketDataError(
        `policyBytes must be an integer in 1..maxBackpressureBytes, got ${this.policyBytes}`,
      );
    }
    if (!Number.isInteger(this.heartbeatMs) || this.heartbeatMs < 0) {
      throw new MarketDataError(`heartbeatMs must be an integer >= 0, got ${this.heartbeatMs}`);
    }
    hub.afterFlush = () => {
      const now = performance.now();
      if (now - this.lastCheck >= this.checkIntervalMs) this.check(now);
    };
    this.register();
    if (this.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.tick(), this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Counters for metrics and tests (a live object: read, do not keep). */
  get statistics(): Readonly<MarketDataStats> {
    this.stats.connections = this.sessions.size;
    let subs = 0;
    for (const s of this.sessions) for (const bits of s.subs.values()) subs += popcount(bits);
    this.stats.subscriptions = subs;
    return this.stats;
  }

  /** Closes every connection (1001) and stops the heartbeat. */
  close(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const s of [...this.sessions]) if (s.open) s.ws?.end(CLOSE_GOING_AWAY, 'server shutting down');
  }

  // ------------------------------------------------------------------ connection life

  private register(): void {
    this.app.ws<MdSession>(MARKET_DATA_PATH, {
      maxPayloadLength: MAX_PAYLOAD,
      maxBackpressure: this.maxBackpressureBytes,
      // Note: the hard memory bound. The policy (drop or resync) acts earlier, at policyBytes.
      closeOnBackpressureLimit: 1,
      idleTimeout: this.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const bucket = new TokenBucket(this.requestRate, this.requestBurst, performance.now());
        res.upgrade(new MdSession(this.nextId++, bucket), key, protocol, extensions, context);
      },
      open: (ws) => {
        const s = ws.getUserData();
        s.ws = ws;
        this.sessions.add(s);
      },
      message: (ws, message, isBinary) => this.frame(ws.getUserData(), new Uint8Array(message), isBinary),
      drain: (ws) => {
        const s = ws.getUserData();
        if (s.resyncing && ws.getBufferedAmount() < this.policyBytes / 4) this.resync(s);
      },
      close: (ws) => {
        const s = ws.getUserData();
        s.open = false;
        s.ws = undefined;
        s.subs.clear();
        s.tradesFrom.clear();
        this.sessions.delete(s);
        // uWS unsubscribed the connection from every topic.
        this.hub.topicsChanged();
      },
    });
  }

  private frame(s: MdSession, bytes: Uint8Array, isBinary: boolean): void {
    if (!s.open) return; // past its hard bound (see send): frames already read are not served
    const rc = isBinary ? this.verifier.verify(bytes) : VerifyResult.BAD_FILE_IDENTIFIER;
    if (rc !== VerifyResult.OK) {
      this.send(s, this.encoder.error(rc, verifyReasonUtf8(rc)));
      return;
    }
    const m = this.message.wrap(bytes);
    s.bucket.refill(performance.now());
    switch (m.bodyType) {
      case Body.Heartbeat:
        return;
      case Body.Subscribe:
        if (this.admit(s)) this.onSubscribe(s, bytes, m.bodyPos);
        return;
      case Body.Unsubscribe:
        this.onUnsubscribe(s, bytes, m.bodyPos); // free: it only ever lowers the load
        return;
      case Body.Batch: {
        const b = this.batch.wrap(bytes, m.bodyPos);
        const n = b.length;
        for (let i = 0; i < n && s.open; i++) {
          const type = b.opType(i);
          const pos = this.batch.opPos(i);
          if (type === Body.Subscribe) {
            if (this.admit(s)) this.onSubscribe(s, bytes, pos);
          } else if (type === Body.Unsubscribe) {
            this.onUnsubscribe(s, bytes, pos);
          } else {
            this.error(s, MdReason.UNSUPPORTED);
          }
        }
        return;
      }
      default:
        this.error(s, MdReason.UNSUPPORTED);
    }
  }

  /** Takes a request token, or answers RATE_LIMITED (the request is refused, not delayed). */
  private admit(s: MdSession): boolean {
    if (s.bucket.take()) return true;
    this.stats.rateLimited++;
    this.error(s, MdReason.RATE_LIMITED);
    return false;
  }

  private onSubscribe(s: MdSession, bytes: Uint8Array, pos: number): void {
    const r = this.subscribe.wrap(bytes, pos);
    const symbolId = r.symbolId;
    const channels = r.channels;
    const conflate = r.conflate;
    const tradesFrom = r.tradesFromSeq;
    const feed = this.hub.feed(symbolId);
    if (feed === undefined) {
      this.error(s, MdReason.UNKNOWN_SYMBOL);
      return;
    }
    if (channels === 0 || (channels & ~ALL_CHANNELS) !== 0) {
      this.error(s, MdReason.INVALID_CHANNELS);
      return;
    }
    const held = s.subs.get(symbolId) ?? 0;
    if (held === 0 && s.subs.size >= this.maxSymbols) {
      this.error(s, MdReason.TOO_MANY_SUBSCRIPTIONS);
      return;
    }
    if (conflate !== 0) s.conflate = true;
    const added = channels & ~held;
    s.subs.set(symbolId, held | channels);
    if (s.resyncing) {
      // Snapshots follow with the resync, and so does the trades replay asked for (not lost).
      if ((added & ChannelBit.TRADES) !== 0 && tradesFrom > 0) s.tradesFrom.set(symbolId, tradesFrom);
      return;
    }
    this.start(s, feed, added, held === 0, tradesFrom);
  }

  /** Sends the snapshots of `bits` and subscribes their topics (and the heartbeat topic if `first`). */
  private start(s: MdSession, feed: SymbolFeed, bits: number, first: boolean, tradesFrom: number): void {
    const ws = s.ws;
    if (ws === undefined) return;
    const hub = this.hub;
    ws.cork(() => {
      if (first) this.subscribeTo(ws, feed.topics[5]);
      if ((bits & ChannelBit.L2) !== 0) {
        this.subscribeTo(ws, feed.topics[1]);
        this.send(s, hub.bookSnapshot(feed));
      }
      if ((bits & ChannelBit.L3) !== 0) {
        this.subscribeTo(ws, feed.topics[3]);
        this.send(s, hub.orderBookSnapshot(feed, feed.lastUpdateUs));
      }
      if ((bits & ChannelBit.BBO) !== 0) {
        this.subscribeTo(ws, feed.topics[2]);
        if (feed.seq[2] > 0) this.send(s, hub.bboFrame(feed));
      }
      if ((bits & ChannelBit.STATUS) !== 0) {
        this.subscribeTo(ws, feed.topics[4]);
        this.send(s, hub.statusFrame(feed));
      }
      if ((bits & ChannelBit.TRADES) !== 0) {
        if (tradesFrom > 0) this.replay(s, feed, tradesFrom);
        this.subscribeTo(ws, feed.topics[0]);
      }
    });
  }

  /** Every subscription change goes through these two: the hub re-reads its cached subscriber counts. */
  private subscribeTo(ws: WebSocket<MdSession>, topic: string): void {
    ws.subscribe(topic);
    this.hub.topicsChanged();
  }

  private unsubscribeFrom(ws: WebSocket<MdSession>, topic: string): void {
    ws.unsubscribe(topic);
    this.hub.topicsChanged();
  }

  private replay(s: MdSession, feed: SymbolFeed, afterSeq: number): void {
    const h = feed.trades;
    const k0 = h.firstAfter(afterSeq);
    if (k0 < 0) {
      this.error(s, MdReason.TRADES_UNAVAILABLE);
      return;
    }
    for (let k = k0; k < h.size && s.open; k++) this.send(s, this.hub.tradeFrame(feed, k));
  }

  private onUnsubscribe(s: MdSession, bytes: Uint8Array, pos: number): void {
    const r = this.unsubscribe.wrap(bytes, pos);
    const feed = this.hub.feed(r.symbolId);
    if (feed === undefined) {
      this.error(s, MdReason.UNKNOWN_SYMBOL);
      return;
    }
    const held = s.subs.get(feed.id) ?? 0;
    const drop = r.channels === 0 ? held : r.channels & held;
    const left = held & ~drop;
    const ws = s.ws;
    if (ws === undefined) return;
    for (let i = 0; i < 5; i++) if ((drop & (1 << i)) !== 0) this.unsubscribeFrom(ws, feed.topics[i]);
    if ((left & ChannelBit.TRADES) === 0) s.tradesFrom.delete(feed.id);
    if (left === 0) {
      s.subs.delete(feed.id);
      this.unsubscribeFrom(ws, feed.topics[5]);
    } else {
      s.subs.set(feed.id, left);
    }
  }

  // ------------------------------------------------------------------ slow subscribers

  /** Applies the slow-subscriber policy to every connection past policyBytes. */
  private check(now: number): void {
    this.lastCheck = now;
    const policy = this.policyBytes;
    for (const s of this.sessions) {
      const ws = s.ws;
      if (ws === undefined || s.resyncing) continue;
      const queued = ws.getBufferedAmount();
      if (queued > this.stats.maxBufferedSeen) this.stats.maxBufferedSeen = queued;
      if (queued < policy) continue;
      if (s.conflate) {
        s.resyncing = true;
        for (const id of s.subs.keys()) {
          const feed = this.hub.feed(id);
          if (feed !== undefined) for (let i = 0; i < 6; i++) this.unsubscribeFrom(ws, feed.topics[i]);
        }
      } else {
        this.stats.dropped++;
        this.log.warn({ session: s.id, queued_bytes: queued }, 'market-data subscriber too slow: dropped');
        s.open = false;
        // Note: close() (not end()): a close frame could not get past the backlog anyway.
        ws.close();
      }
    }
  }

  private resync(s: MdSession): void {
    s.resyncing = false;
    this.stats.resynced++;
    this.error(s, MdReason.RESYNCED);
    for (const [id, bits] of s.subs) {
      const feed = this.hub.feed(id);
      if (feed !== undefined) this.start(s, feed, bits, true, s.tradesFrom.get(id) ?? 0);
    }
    s.tradesFrom.clear();
  }

  private tick(): void {
    this.check(performance.now());
    const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const rows = this.hbRows;
    for (const feed of this.hub.feeds.values()) {
      const topic = feed.topics[5];
      if (this.app.numSubscribers(topic) === 0) continue;
      for (let i = 0; i < 5; i++) {
        rows.seq[i] = feed.seq[i];
        rows.symbolId[i] = feed.id;
        rows.channel[i] = 1 << i;
      }
      rows.count = 5;
      this.app.publish(topic, this.encoder.marketHeartbeat(nowUs, rows), true);
    }
  }

  private error(s: MdSession, code: number): void {
    this.send(s, this.encoder.error(code, mdReasonText(code)));
  }

  private send(s: MdSession, frame: Uint8Array): void {
    if (!s.open || s.ws === undefined) return;
    // Note: DROPPED = past maxBackpressure; uWS closes the connection (closeOnBackpressureLimit) but
    // not at once: stop serving it now, or one read of amplifying Batches (snapshots, replays) keeps
    // the main thread encoding frames that are all dropped.
    if (s.ws.send(frame, true) === SEND_DROPPED) {
      s.open = false;
      this.stats.closedAtBound++;
      this.log.warn({ session: s.id }, 'market-data connection past its hard bound: closed');
    }
  }
}

function popcount(bits: number): number {
  let n = 0;
  for (let b = bits; b !== 0; b &= b - 1) n++;
  return n;
}
