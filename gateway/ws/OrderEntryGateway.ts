/**
 * Binary WebSocket order entry at /api/v1/ws (docs/protocol.md for the frames, docs/api.md section
 * "WebSocket order entry" for the behaviour): authenticate, verify every frame, turn requests into
 * command records in the owning shard's ring, and turn the shards' events into execution reports for
 * every live session of the owning account.
 *
 *   client frame --> FrameVerifier --(bad)--> Error{verifier code}
 *                        | ok
 *                  Logon? (until logged on) --> Authenticator --> LogonAck + SymbolList | LogonReject
 *                        |
 *                  Batch? each item --> rate limit --> claim slot in shard ring --> CommandWriter --> commit
 *                                          (refused: Rejected / CancelRejected / AmendRejected / Error, reason 6xx)
 *   shard events --> Gateway.onEvent (OrderStore first) --> onEvent here --> ExecutionReport per session
 *                    of the account, queued per session and written in one corked batch per event batch
 *
 * server.ts mounts it on the Gateway's uWS app (`mount`), attaches the started pipeline (`attach`),
 * and on shutdown `close()`s every session (cancel-on-disconnect commands still reach the rings), then
 * stops the pipeline and `detach()`es.
 *
 * uWebSockets.js rules kept here: headers are copied from `req` before anything asynchronous and
 * `onAborted` is set before the token check; every `ws.send` result is checked (backpressure marks
 * the session, which refuses new orders with BUSY until `drain` brings it down); a closed session is
 * flagged in `close` and never touched again (asynchronous paths check `session.closed`); message
 * bytes are read only during the handler (the Logon token is copied out as a string).
 * Thread-safety: main thread only (the rings' producer, the event dispatcher's consumer).
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { CLIENT_ORDER_ID, CommandType } from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { writeU32 } from '../../schema/codec/wire.js';
import {
  AmendReader,
  BatchReader,
  Body,
  CancelOnDisconnectReader,
  CancelReader,
  Direction,
  ExecType,
  ExecutionReportFields,
  FrameVerifier,
  GatewayEncoder,
  LogonReader,
  MassCancelReader,
  MassCancelScope,
  MessageReader,
  NewOrderReader,
  OrderStatus,
  TradingStatus,
  VerifyResult,
  verifyReasonUtf8,
} from '../../schema/index.js';
import type { Authenticator } from '../auth/Authenticator.js';
import { CorsPolicy } from '../http/CorsPolicy.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics/GatewayMetrics.js';
import { CLAIM_BACK_PRESSURED, type CommandPort } from '../orders/CommandPort.js';
import { type CommandWriter, emptyNewOrder } from '../orders/CommandWriter.js';
import { nowMicros } from '../orders/clock.js';
import type { OrderStore } from '../orders/OrderStore.js';
import { FIRST_WS_SESSION_ID } from '../orders/sessionIds.js';
import type { SymbolSpec } from '../symbols/SymbolTable.js';
import {
  engineStpMode,
  engineTimeInForce,
  isDecrement,
  orderReport,
  setClientOrderId,
  sideReport,
} from './ExecutionReports.js';
import { LogonState, OrderEntrySession } from './OrderEntrySession.js';
import { SessionReason, sessionReasonText, sessionReasonUtf8 } from './SessionReason.js';

/** The endpoint. */
export const ORDER_ENTRY_PATH = '/api/v1/ws';

/** What the order-entry gateway needs from the Gateway (gateway/app.ts). */
export interface GatewayHost {
  readonly app: TemplatedApp;
  readonly auth: Authenticator;
  readonly metrics: GatewayMetrics;
  readonly orders: { readonly writer: CommandWriter; readonly store: OrderStore };
  addEventListener(listener: (shard: number, view: DataView, offset: number) => void): void;
}

/** The started pipeline: command slots per shard and the shard count (MassCancel of all symbols). */
export interface OrderEntryPort extends CommandPort {
  readonly shards: number;
  /** Optional: commits between these two reach each shard as one publication (a Batch frame's items). */
  holdCommits?(): void;
  releaseCommits?(): void;
}

export interface OrderEntrySettings {
  /** Orders (NewOrder, Cancel, Amend, MassCancel; batch items count one each) per second per session; 0 = no limit. */
  readonly rateLimit: number;
  /** Bucket size: orders a session may send at once after being quiet. */
  readonly rateBurst: number;
  /** uWS idleTimeout: seconds without any traffic (pings included) before a connection is closed; 0 = off. */
  readonly idleTimeoutS: number;
  /** uWS maxBackpressure: bytes queued for a slow reader before its connection is closed. */
  readonly maxBackpressureBytes: number;
  /** Heartbeat interval granted when the Logon asks for 0 (requests are clamped to 100..30000 ms). */
  readonly heartbeatMs: number;
}

export interface OrderEntryOptions extends Partial<OrderEntrySettings> {
  readonly log: Logger;
  readonly symbols: readonly SymbolSpec[];
  /** CORS_ORIGINS: when non-empty, a browser's Origin header must be one of them ('*' = any). */
  readonly corsOrigins?: readonly string[];
  /** Close a connection that has not logged on within this long. Default 10 000 ms. */
  readonly logonTimeoutMs?: number;
}

export const DEFAULT_ORDER_ENTRY: OrderEntrySettings = Object.freeze({
  rateLimit: 10_000,
  rateBurst: 20_000,
  idleTimeoutS: 60,
  maxBackpressureBytes: 1024 * 1024,
  heartbeatMs: 10_000,
});

/** Largest frame a client may send: the verifier's limit (uWS closes the connection beyond it). */
const MAX_PAYLOAD = 64 * 1024;
/** Largest message of batched reports (more reports: more messages; one larger report goes alone). */
const MAX_REPORT_BATCH = 64 * 1024;
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 30_000;
/** Dead-man switch, logon timeout and cancel retries are checked this often. */
const SWEEP_MS = 25;
const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_LOGON_FIRST = 4002;
const CLOSE_LOGON_TIMEOUT = 4003;
const CLOSE_GOING_AWAY = 1001;

/** One MassCancel request spread over shards: completed when every shard answered. */
interface MassCancelWait {
  readonly session: OrderEntrySession;
  remaining: number;
  cancelled: number;
  /** First failure (engine reject reason or BUSY/SHARD_DOWN on some shard), 0 = none. */
  reason: number;
}

/** A cancel-on-disconnect / dead-man MassCancel that found a shard ring full: retried by the sweep. */
interface CancelRetry {
  readonly accountId: number;
  readonly sessionId: number;
  readonly shard: number;
}

export class OrderEntryGateway {
  readonly settings: OrderEntrySettings;
  /** Live counters (tests, logs). */
  readonly stats = {
    framesIn: 0,
    invalidFrames: 0,
    rateLimited: 0,
    busy: 0,
    sendBackpressure: 0,
    sendDropped: 0,
    codCancels: 0,
    deadManFired: 0,
  };

  private readonly log: Logger;
  private readonly auth: Authenticator;
  private readonly metrics: GatewayMetrics;
  private readonly writer: CommandWriter;
  private readonly store: OrderStore;
  private readonly cors: CorsPolicy;
  private readonly logonTimeoutMs: number;
  private port: OrderEntryPort | undefined;
  private nextSessionId: number;
  private sweeper: NodeJS.Timeout | undefined;
  /** Every open connection (logged on or not). */
  private readonly sockets = new Set<OrderEntrySession>();
  private readonly awaitingLogon = new Set<OrderEntrySession>();
  private readonly byAccount = new Map<number, OrderEntrySession[]>();
  private readonly bySession = new Map<number, OrderEntrySession>();
  /** Sessions with the dead-man switch armed. */
  private readonly armed = new Set<OrderEntrySession>();
  private readonly massCancels = new Map<number, MassCancelWait>();
  private retries: CancelRetry[] = [];
  private readonly dirty: OrderEntrySession[] = [];
  private flushScheduled = false;
  private readonly flush: () => void;
  /** Bound once: registered with Gateway.addEventListener. */
  readonly onEvent: (shard: number, view: DataView, offset: number) => void;

  // One set of codecs per thread.
  private readonly verifier = new FrameVerifier(Direction.ClientToGateway);
  private readonly message = new MessageReader();
  private readonly logonReader = new LogonReader();
  private readonly orderReader = new NewOrderReader();
  private readonly cancelReader = new CancelReader();
  private readonly amendReader = new AmendReader();
  private readonly massCancelReader = new MassCancelReader();
  private readonly batchReader = new BatchReader();
  private readonly codReader = new CancelOnDisconnectReader();
  private readonly out = new GatewayEncoder();
  private readonly er = new ExecutionReportFields();
  /** One frame with its length prefix (immediate sends to a session with batched reports). */
  private prefixScratch = new Uint8Array(1024);
  private readonly fields = emptyNewOrder();
  private readonly symbolList: Uint8Array;

  private constructor(host: GatewayHost, options: OrderEntryOptions) {
    this.settings = checkSettings({ ...DEFAULT_ORDER_ENTRY, ...stripUndefined(options) });
    this.log = options.log.child({ component: 'ws' });
    this.auth = host.auth;
    this.metrics = host.metrics;
    this.writer = host.orders.writer;
    this.store = host.orders.store;
    this.cors = new CorsPolicy(options.corsOrigins ?? []);
    this.logonTimeoutMs = options.logonTimeoutMs ?? 10_000;
    this.port = undefined;
    this.nextSessionId = FIRST_WS_SESSION_ID;
    this.sweeper = undefined;
    this.symbolList = this.out
      .symbolList(
        options.symbols.map((s) => ({
          symbolId: s.id,
          name: s.name,
          tickSize: s.tickSize,
          lotSize: s.lotSize,
          status: TradingStatus.Open,
        })),
      )
      .slice();
    this.flush = () => this.flushReports();
    this.onEvent = (_shard, view, offset) => this.event(view, offset);
  }

  /** Registers the /api/v1/ws route on the gateway's app and subscribes to its events. */
  static mount(host: GatewayHost, options: OrderEntryOptions): OrderEntryGateway {
    const g = new OrderEntryGateway(host, options);
    g.register(host.app);
    host.addEventListener(g.onEvent);
    return g;
  }

  /** Open connections (logged on or not). */
  get connections(): number {
    return this.sockets.size;
  }

  /** Logged-on sessions of an account. */
  sessionsOf(accountId: number): number {
    return this.byAccount.get(accountId)?.length ?? 0;
  }

  /** Connects the started pipeline: requests flow; starts the dead-man / logon-timeout sweep. */
  attach(port: OrderEntryPort): void {
    this.port = port;
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
  }

  /** Closes every connection (1001 going away); cancel-on-disconnect still sends its commands. */
  close(): void {
    for (const s of [...this.sockets]) s.ws?.end(CLOSE_GOING_AWAY, 'server shutting down');
  }

  /** Stops intake (requests answer SHARD_DOWN) and the sweep. */
  detach(): void {
    this.port = undefined;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.massCancels.clear();
    this.retries = [];
  }

  // ------------------------------------------------------------------ connection life

  private register(app: TemplatedApp): void {
    const s = this.settings;
    app.ws<OrderEntrySession>(ORDER_ENTRY_PATH, {
      // Note: the verifier's limit; uWS closes a connection that sends more (1009), others go on.
      maxPayloadLength: MAX_PAYLOAD,
      maxBackpressure: s.maxBackpressureBytes,
      // A report that cannot be queued is never dropped silently: the session is closed instead.
      closeOnBackpressureLimit: 1,
      idleTimeout: s.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        // Note: req lives only during this call: copy every header before the asynchronous token check.
        const authorization = req.getHeader('authorization');
        const origin = req.getHeader('origin');
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const cod = req.getQuery('cancel_on_disconnect');
        const batch = req.getQuery('batch_reports');
        const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
        if (origin !== '' && this.cors.enabled && this.cors.allowOrigin(origin.toLowerCase()) === '') {
          this.log.warn({ origin, remote }, 'websocket origin not allowed');
          res.writeStatus('403 Forbidden').end('origin not allowed');
          return;
        }
        const session = new OrderEntrySession(
          this.nextSessionId++,
          remote,
          s.rateLimit,
          s.rateBurst,
          performance.now(),
        );
        session.cancelOnDisconnect = cod === 'true' || cod === '1';
        session.batchReports = batch === 'true' || batch === '1';
        session.out.prefixed = session.batchReports;
        if (authorization === '') {
          res.upgrade(session, key, protocol, extensions, context);
          return;
        }
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        this.auth.authenticate(authorization, `WS ${ORDER_ENTRY_PATH}`).then(
          (r) => {
            if (aborted) return;
            res.cork(() => {
              if (!r.ok) {
                res
                  .writeStatus('401 Unauthorized')
                  .writeHeader('content-type', 'application/json')
                  .writeHeader('www-authenticate', 'Bearer')
                  .end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: r.message } }));
                return;
              }
              session.accountId = r.accountId;
              session.logon = LogonState.LOGGED_ON;
              session.heartbeatMs = s.heartbeatMs;
              res.upgrade(session, key, protocol, extensions, context);
            });
          },
          (err: unknown) => {
            this.log.error({ err }, 'websocket upgrade: token check failed');
            if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
          },
        );
      },
      open: (ws) => {
        const session = ws.getUserData();
        session.ws = ws;
        this.sockets.add(session);
        this.metrics.wsSessions.inc();
        if (session.logon !== LogonState.LOGGED_ON) {
          this.awaitingLogon.add(session);
          return;
        }
        // Note: after an asynchronous token check, open() runs inside res.cork() of the upgrade: a
        // send from there closed the new socket (1006) in tests. Greet it once that cork has ended.
        queueMicrotask(() => {
          if (!session.closed) ws.cork(() => this.loggedOn(session));
        });
      },
      message: (ws, message, isBinary) => {
        try {
          this.frame(ws, message, isBinary);
        } catch (err) {
          // A bug, not a client error: log it and drop this connection, never the process.
          this.log.error({ err, session: ws.getUserData().sessionId }, 'websocket frame handler threw');
          if (!ws.getUserData().closed) ws.end(1011, 'internal error');
        }
      },
      drain: (ws) => {
        const session = ws.getUserData();
        if (session.backpressured && ws.getBufferedAmount() < s.maxBackpressureBytes / 4) {
          session.backpressured = false;
        }
      },
      close: (ws, code) => this.closed(ws.getUserData(), code),
    });
  }

  private loggedOn(s: OrderEntrySession): void {
    this.awaitingLogon.delete(s);
    let list = this.byAccount.get(s.accountId);
    if (list === undefined) {
      list = [];
      this.byAccount.set(s.accountId, list);
    }
    list.push(s);
    this.bySession.set(s.sessionId, s);
    this.log.info(
      {
        session: s.sessionId,
        account: s.accountId,
        remote: s.remote,
        cancel_on_disconnect: s.cancelOnDisconnect,
      },
      'websocket session logged on',
    );
    this.send(s, this.out.logonAck(s.sessionId, s.heartbeatMs, nowMicros()));
    this.send(s, this.symbolList);
  }

  private closed(s: OrderEntrySession, code: number): void {
    s.closed = true;
    s.ws = null;
    this.sockets.delete(s);
    this.awaitingLogon.delete(s);
    this.armed.delete(s);
    this.metrics.wsSessions.dec();
    if (s.logon !== LogonState.LOGGED_ON) return;
    const list = this.byAccount.get(s.accountId);
    if (list !== undefined) {
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byAccount.delete(s.accountId);
    }
    this.bySession.delete(s.sessionId);
    // Rule: cancel-on-disconnect cancels the account's orders only when no other session of the
    // account is still logged on (that session is managing the orders; it can arm its own).
    const others = this.byAccount.get(s.accountId)?.length ?? 0;
    const cancel = s.cancelOnDisconnect && others === 0;
    this.log.info(
      {
        session: s.sessionId,
        account: s.accountId,
        code,
        cancel_on_disconnect: cancel,
        other_sessions: others,
      },
      'websocket session closed',
    );
    if (cancel) {
      this.stats.codCancels++;
      this.cancelAll(s.accountId, s.sessionId, null);
    }
  }

  // ------------------------------------------------------------------ inbound frames

  private frame(ws: WebSocket<OrderEntrySession>, message: ArrayBuffer, isBinary: boolean): void {
    const s = ws.getUserData();
    this.stats.framesIn++;
    // Note: `bytes` views uWS's buffer, neutered when this handler returns: read it only in here.
    const bytes = new Uint8Array(message);
    const rc = isBinary ? this.verifier.verify(bytes) : VerifyResult.BAD_FILE_IDENTIFIER;
    if (rc !== VerifyResult.OK) {
      this.stats.invalidFrames++;
      this.metrics.orderResult('invalid');
      this.send(s, this.out.error(rc, verifyReasonUtf8(rc)));
      return;
    }
    const now = performance.now();
    s.lastFrameAt = now;
    const m = this.message.wrap(bytes);
    if (s.logon !== LogonState.LOGGED_ON) {
      this.logonFrame(s, bytes, m.bodyType, m.bodyPos);
      return;
    }
    s.bucket.refill(now);
    if (m.bodyType === Body.Batch) {
      const b = this.batchReader.wrap(bytes, m.bodyPos);
      const count = b.length;
      const port = this.port;
      // The shard gets the frame's commands in one publication (one wake at most), not one each.
      port?.holdCommits?.();
      try {
        for (let i = 0; i < count; i++) this.dispatch(s, bytes, b.opType(i), b.opPos(i));
      } finally {
        port?.releaseCommits?.();
      }
    } else {
      this.dispatch(s, bytes, m.bodyType, m.bodyPos);
    }
  }

  private logonFrame(s: OrderEntrySession, bytes: Uint8Array, type: number, pos: number): void {
    if (s.logon === LogonState.PENDING) {
      // Note: the token of an earlier Logon is still being checked; nothing else may run before it.
      this.send(s, this.out.error(SessionReason.NOT_LOGGED_ON, 'Logon in progress'));
      return;
    }
    if (type !== Body.Logon) {
      this.send(
        s,
        this.out.logonReject(SessionReason.NOT_LOGGED_ON, sessionReasonUtf8(SessionReason.NOT_LOGGED_ON)),
      );
      s.ws?.end(CLOSE_LOGON_FIRST, 'logon first');
      return;
    }
    const logon = this.logonReader.wrap(bytes, pos);
    const token = logon.token; // a copy: the frame's bytes do not survive this handler
    const requested = logon.heartbeatIntervalMs;
    s.logon = LogonState.PENDING;
    this.auth.authenticate(`Bearer ${token}`, `WS Logon ${ORDER_ENTRY_PATH}`).then(
      (r) => {
        if (s.closed || s.ws === null) return; // never touch a closed socket
        const ws = s.ws;
        ws.cork(() => {
          if (!r.ok) {
            s.logon = LogonState.NONE;
            this.send(s, this.out.logonReject(SessionReason.UNAUTHORIZED, r.message));
            ws.end(CLOSE_UNAUTHORIZED, 'unauthorized');
            return;
          }
          s.accountId = r.accountId;
          s.logon = LogonState.LOGGED_ON;
          s.heartbeatMs =
            requested === 0
              ? this.settings.heartbeatMs
              : Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, requested));
          this.loggedOn(s);
        });
      },
      (err: unknown) => {
        this.log.error({ err }, 'websocket logon: token check failed');
        if (!s.closed) s.ws?.end(1011, 'internal error');
      },
    );
  }

  private dispatch(s: OrderEntrySession, bytes: Uint8Array, type: number, pos: number): void {
    switch (type) {
      case Body.NewOrder:
        this.newOrder(s, bytes, pos);
        break;
      case Body.Cancel:
        this.cancel(s, bytes, pos);
        break;
      case Body.Amend:
        this.amend(s, bytes, pos);
        break;
      case Body.MassCancel:
        this.massCancel(s, bytes, pos);
        break;
      case Body.Heartbeat:
        this.send(s, this.out.heartbeat(s.lastSeq, nowMicros()));
        break;
      case Body.CancelOnDisconnect:
        this.cancelOnDisconnect(s, this.codReader.wrap(bytes, pos).cancelAfterMs);
        break;
      case Body.Logon:
        this.sendError(s, SessionReason.ALREADY_LOGGED_ON, 0, 0);
        break;
      default: // Subscribe, Unsubscribe: market data is served elsewhere
        this.sendError(s, SessionReason.UNSUPPORTED, 0, 0);
        break;
    }
  }

  /** A request may go ahead: rate limit, the session's outbound backlog, a connected pipeline. */
  private admit(s: OrderEntrySession): number {
    if (!s.bucket.take()) {
      this.stats.rateLimited++;
      return SessionReason.RATE_LIMITED;
    }
    if (s.backpressured) {
      this.stats.busy++;
      return SessionReason.BUSY;
    }
    return this.port === undefined ? SessionReason.SHARD_DOWN : 0;
  }

  /** Claims a slot in `shard`'s ring: the offset (>= 0) or a negative SessionReason. */
  private claim(port: OrderEntryPort, shard: number): number {
    const off = port.claimCommand(shard);
    if (off >= 0) return off;
    if (off === CLAIM_BACK_PRESSURED) {
      this.stats.busy++;
      this.metrics.counters.busyRejects++;
      return -SessionReason.BUSY;
    }
    return -SessionReason.SHARD_DOWN;
  }

  private newOrder(s: OrderEntrySession, bytes: Uint8Array, pos: number): void {
    const o = this.orderReader.wrap(bytes, pos);
    let reason = this.admit(s);
    if (reason === 0) {
      const port = this.port!;
      const shard = port.shardOf(o.symbolId);
      const off = this.claim(port, shard);
      if (off >= 0) {
        const f = this.fields;
        f.symbolId = o.symbolId;
        f.side = o.side;
        f.orderType = o.orderType;
        f.timeInForce = engineTimeInForce(o.timeInForce);
        f.flags = o.flags; // OrderFlags.PostOnly (bit 0) = engine POST_ONLY (1)
        f.stpMode = engineStpMode(o.stpMode);
        f.tradeGroup = 0;
        f.clientOrderId = o.clientOrderIdHi * 0x1_0000_0000 + o.clientOrderIdLo;
        f.price = o.price;
        f.quantity = o.quantity;
        f.stopPrice = o.stopPrice;
        f.displayQty = o.displayQuantity;
        f.minQty = 0;
        f.expireTime = o.expireTimeUs;
        this.writer.newOrder(port.commandView(shard), off, s.accountId, s.sessionId, f);
        port.commitCommand(shard);
        return;
      }
      reason = -off;
    }
    this.countRefusal(reason);
    const r = this.refusal(ExecType.Rejected, 0, o.symbolId, reason);
    r.clientOrderIdHi = o.clientOrderIdHi;
    r.clientOrderIdLo = o.clientOrderIdLo;
    r.side = o.side;
    r.orderType = o.orderType;
    r.timeInForce = o.timeInForce;
    r.price = o.price;
    r.quantity = o.quantity;
    this.send(s, this.out.executionReport(r));
  }

  private cancel(s: OrderEntrySession, bytes: Uint8Array, pos: number): void {
    const c = this.cancelReader.wrap(bytes, pos);
    const orderId = c.orderId;
    const symbolId = c.symbolId;
    const cid = c.clientOrderIdHi * 0x1_0000_0000 + c.clientOrderIdLo;
    let reason = this.admit(s);
    if (reason === 0) {
      const port = this.port!;
      const shard = this.shardOfTarget(port, symbolId);
      const off = this.claim(port, shard);
      if (off >= 0) {
        const view = port.commandView(shard);
        if (orderId !== 0) {
          this.writer.cancel(view, off, s.accountId, s.sessionId, symbolId, orderId);
          // Echoed by a REJECTED event, so a refusal names what the client sent.
          view.setFloat64(off + CLIENT_ORDER_ID, cid, true);
        } else {
          this.writer.cancelByClientId(view, off, s.accountId, s.sessionId, symbolId, cid);
        }
        port.commitCommand(shard);
        return;
      }
      reason = -off;
    }
    this.countRefusal(reason);
    const r = this.refusal(ExecType.CancelRejected, orderId, symbolId, reason);
    setClientOrderId(r, cid);
    this.send(s, this.out.executionReport(r));
  }

  private amend(s: OrderEntrySession, bytes: Uint8Array, pos: number): void {
    const a = this.amendReader.wrap(bytes, pos);
    const symbolId = a.symbolId;
    const cid = a.clientOrderIdHi * 0x1_0000_0000 + a.clientOrderIdLo;
    const orderId = a.orderId;
    let reason = this.admit(s);
    if (reason === 0) {
      const port = this.port!;
      const shard = this.shardOfTarget(port, symbolId);
      const off = this.claim(port, shard);
      if (off >= 0) {
        const view = port.commandView(shard);
        if (orderId === 0) {
          // By client order id: the engine resolves it (the session's own account only) and
          // "0 = unchanged" in command order, so an amend right behind the session's own NewOrder
          // finds it even before the gateway has seen it acknowledged.
          this.writer.amendByClientId(
            view,
            off,
            s.accountId,
            s.sessionId,
            symbolId,
            cid,
            a.newPrice,
            a.newQuantity,
          );
        } else {
          // By order id: the engine takes both values; the gateway fills "0 = unchanged" from its
          // order view. An order it does not know still goes to the engine (ORDER_NOT_FOUND), so the
          // answers of one session keep the order of its requests.
          const rec = this.store.getOwned(s.accountId, orderId);
          const price = a.newPrice !== 0 ? a.newPrice : (rec?.price ?? 0);
          const quantity = a.newQuantity !== 0 ? a.newQuantity : (rec?.quantity ?? 0);
          this.writer.amend(view, off, s.accountId, s.sessionId, symbolId, orderId, price, quantity);
          view.setFloat64(off + CLIENT_ORDER_ID, cid, true); // echoed by a REJECTED event
        }
        port.commitCommand(shard);
        return;
      }
      reason = -off;
    }
    this.countRefusal(reason);
    const r = this.refusal(ExecType.AmendRejected, orderId, symbolId, reason);
    setClientOrderId(r, cid);
    this.send(s, this.out.executionReport(r));
  }

  /**
   * The shard of a cancel/amend target: the symbol's (the engine's CANCEL/AMEND must name the order's
   * symbol anyway). A live order's id carries that same shard (engine/records/OrderId.ts:
   * shardOf(orderId) === shardOf(symbolId)); an id naming another shard cannot be open on this symbol,
   * and the symbol's shard answers ORDER_NOT_FOUND exactly as for any unknown id. No lookup table, and
   * the answer comes back through the engine, in request order.
   */
  private shardOfTarget(port: OrderEntryPort, symbolId: number): number {
    return port.shardOf(symbolId);
  }

  private massCancel(s: OrderEntrySession, bytes: Uint8Array, pos: number): void {
    const mc = this.massCancelReader.wrap(bytes, pos);
    const scope = mc.scope;
    const reason = this.admit(s);
    if (reason !== 0) {
      this.countRefusal(reason);
      this.sendError(s, reason, 0, 0);
      return;
    }
    if (
      (scope !== MassCancelScope.All && mc.symbolId === 0) ||
      (scope === MassCancelScope.SymbolSide && mc.side === 0)
    ) {
      this.sendError(
        s,
        SessionReason.INVALID_REQUEST,
        0,
        0,
        'MassCancel scope Symbol needs symbol_id, SymbolSide also side',
      );
      return;
    }
    const symbolId = scope === MassCancelScope.All ? 0 : mc.symbolId;
    const side = scope === MassCancelScope.SymbolSide ? mc.side : 0;
    this.sendMassCancel(s, s.accountId, symbolId, side);
  }

  /** MassCancel on the symbol's shard, or on every shard for symbol 0; completion goes to `s`. */
  private sendMassCancel(s: OrderEntrySession, accountId: number, symbolId: number, side: number): void {
    const port = this.port!;
    const wait: MassCancelWait = { session: s, remaining: 0, cancelled: 0, reason: 0 };
    const first = symbolId === 0 ? 0 : port.shardOf(symbolId);
    const last = symbolId === 0 ? port.shards - 1 : first;
    for (let k = first; k <= last; k++) {
      const off = this.claim(port, k);
      if (off < 0) {
        if (wait.reason === 0) wait.reason = -off;
        continue;
      }
      const id = this.writer.massCancel(port.commandView(k), off, accountId, s.sessionId, symbolId, side);
      this.massCancels.set(id, wait);
      wait.remaining++;
      port.commitCommand(k);
    }
    if (wait.remaining === 0) this.sendError(s, wait.reason, 0, 0);
  }

  private cancelOnDisconnect(s: OrderEntrySession, cancelAfterMs: number): void {
    // Protocol: > 0 arms both cancel-on-disconnect and the dead-man switch (no frame for that long
    // cancels everything; every verified frame re-arms it); 0 disarms both.
    s.cancelAfterMs = cancelAfterMs;
    s.cancelOnDisconnect = cancelAfterMs > 0;
    if (cancelAfterMs > 0) this.armed.add(s);
    else this.armed.delete(s);
  }

  /**
   * MassCancel of every open order of the account on every shard (cancel-on-disconnect, dead-man).
   * A shard whose ring is full is retried by the sweep: these cancels are safety nets, not requests
   * a client can repeat. `s` (a live session) gets the completion notice; null for a closed one.
   */
  private cancelAll(accountId: number, sessionId: number, s: OrderEntrySession | null): void {
    const port = this.port;
    if (port === undefined) {
      this.log.error({ account: accountId }, 'cancel-on-disconnect not sent: the engine is not attached');
      return;
    }
    if (s !== null) {
      this.sendMassCancel(s, accountId, 0, 0);
      return;
    }
    for (let k = 0; k < port.shards; k++) this.cancelOnShard(port, { accountId, sessionId, shard: k });
  }

  private cancelOnShard(port: OrderEntryPort, c: CancelRetry): void {
    const off = port.claimCommand(c.shard);
    if (off >= 0) {
      this.writer.massCancel(port.commandView(c.shard), off, c.accountId, c.sessionId, 0, 0);
      port.commitCommand(c.shard);
    } else if (off === CLAIM_BACK_PRESSURED) {
      this.retries.push(c);
    } else {
      this.log.error(
        { account: c.accountId, shard: c.shard, code: off },
        'cancel-on-disconnect not sent: shard down',
      );
    }
  }

  /** Dead-man switches, logon timeouts, cancel retries. */
  private sweep(): void {
    const now = performance.now();
    for (const s of this.armed) {
      if (now - s.lastFrameAt < s.cancelAfterMs) continue;
      this.armed.delete(s);
      this.stats.deadManFired++;
      this.log.warn(
        { session: s.sessionId, account: s.accountId, cancel_after_ms: s.cancelAfterMs },
        'dead-man switch: no frame in time, cancelling the account orders',
      );
      s.cancelAfterMs = 0; // one shot: the client re-arms with a new CancelOnDisconnect
      if (!s.closed && this.port !== undefined) this.cancelAll(s.accountId, s.sessionId, s);
    }
    for (const s of this.awaitingLogon) {
      if (now - s.lastFrameAt > this.logonTimeoutMs && s.logon === LogonState.NONE)
        s.ws?.end(CLOSE_LOGON_TIMEOUT, 'logon timeout');
    }
    const port = this.port;
    if (this.retries.length > 0 && port !== undefined) {
      const retries = this.retries;
      this.retries = [];
      for (const c of retries) this.cancelOnShard(port, c);
    }
  }

  // ------------------------------------------------------------------ events -> reports

  private event(v: DataView, o: number): void {
    const type = E.readType(v, o);
    switch (type) {
      case E.EventType.L2_UPDATE:
      case E.EventType.BBO:
      case E.EventType.SYMBOL_ADDED:
        return;
      case E.EventType.FILL:
      case E.EventType.SELF_TRADE_PREVENTED: {
        const fill = type === E.EventType.FILL;
        if (!fill && !isDecrement(v, o)) return; // the EXPIRE modes are followed by CANCELLED events
        if (this.byAccount.has(E.readU32(v, o, E.MAKER_ACCOUNT_ID))) {
          this.deliver(sideReport(this.er, v, o, fill, true, this.store));
        }
        if (this.byAccount.has(E.readU32(v, o, E.TAKER_ACCOUNT_ID))) {
          this.deliver(sideReport(this.er, v, o, fill, false, this.store));
        }
        return;
      }
      case E.EventType.MASS_CANCEL_DONE:
        this.massCancelAnswered(E.readCorrelationId(v, o), E.readF64(v, o, E.CANCELLED_COUNT), 0);
        return;
      case E.EventType.ACCEPTED:
        if (E.readSessionId(v, o) >= FIRST_WS_SESSION_ID) this.metrics.orderResult('accepted');
        break;
      case E.EventType.REJECTED:
        if (E.readSessionId(v, o) >= FIRST_WS_SESSION_ID) this.metrics.orderResult('rejected');
        if (E.readU8(v, o, E.COMMAND_TYPE) === CommandType.MASS_CANCEL) {
          this.massCancelAnswered(E.readCorrelationId(v, o), 0, E.readReason(v, o));
          return;
        }
        break;
      default:
        break;
    }
    if (!this.byAccount.has(E.readAccountId(v, o))) return;
    if (orderReport(this.er, v, o, type)) this.deliver(E.readAccountId(v, o));
  }

  /** Queues the report in `this.er` for every live session of `accountId`. */
  private deliver(accountId: number): void {
    const list = this.byAccount.get(accountId);
    if (list === undefined) return;
    const frame = this.out.executionReport(this.er);
    const seq = this.er.seq;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      s.lastSeq = seq;
      this.queue(s, frame);
    }
  }

  /** Queues `frame` (copied) behind the session's queued reports; flushed after the event batch. */
  private queue(s: OrderEntrySession, frame: Uint8Array): void {
    s.out.push(frame);
    if (!s.queued) {
      s.queued = true;
      this.dirty.push(s);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Writes each session's queued reports in one corked batch (after the dispatcher's event batch). */
  private flushReports(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const s = dirty[i];
      s.queued = false;
      const ws = s.ws;
      if (!s.closed && ws !== null) {
        const q = s.out;
        ws.cork(() => {
          // One message per frame; with batched reports, length-prefixed frames back to back up to
          // MAX_REPORT_BATCH bytes per message.
          const batched = s.batchReports;
          let start = 0;
          for (let j = 0; j < q.count && !s.closed; j++) {
            const end = q.ends[j];
            if (!batched || j + 1 === q.count || q.ends[j + 1] - start > MAX_REPORT_BATCH) {
              this.sendRaw(s, q.bytes.subarray(start, end));
              start = end;
            }
          }
        });
      }
      s.out.clear();
    }
    dirty.length = 0;
  }

  private massCancelAnswered(correlationId: number, cancelled: number, reason: number): void {
    const wait = this.massCancels.get(correlationId);
    if (wait === undefined) return;
    this.massCancels.delete(correlationId);
    wait.remaining--;
    wait.cancelled += cancelled;
    if (reason !== 0 && wait.reason === 0) wait.reason = reason;
    if (wait.remaining > 0 || wait.session.closed) return;
    // Note: queued, not sent: the mass cancel's Canceled reports from this event batch are still in
    // the session's queue, and the notice must follow them.
    const text = wait.reason !== 0 ? undefined : `mass cancel done: ${wait.cancelled} orders cancelled`;
    const code = wait.reason !== 0 ? wait.reason : SessionReason.MASS_CANCEL_DONE;
    this.queue(wait.session, this.out.error(code, text ?? sessionReasonText(code), 0, 0));
  }

  // ------------------------------------------------------------------ outbound helpers

  /** Sends one frame now (length-prefixed for a session with batched reports). */
  private send(s: OrderEntrySession, frame: Uint8Array): void {
    if (!s.batchReports) {
      this.sendRaw(s, frame);
      return;
    }
    const n = frame.length + 4;
    if (this.prefixScratch.length < n)
      this.prefixScratch = new Uint8Array(Math.max(n, 2 * this.prefixScratch.length));
    const b = this.prefixScratch;
    writeU32(b, 0, frame.length);
    b.set(frame, 4);
    this.sendRaw(s, b.subarray(0, n));
  }

  /** Sends one WebSocket message now, checking the result (1 sent, 0 backpressure, 2 dropped). */
  private sendRaw(s: OrderEntrySession, frame: Uint8Array): void {
    const ws = s.ws;
    if (s.closed || ws === null) return;
    const rc = ws.send(frame, true);
    if (rc === 1) return;
    s.backpressured = true;
    if (rc === 0) {
      this.stats.sendBackpressure++;
    } else {
      // Note: closeOnBackpressureLimit closes the connection: the client reconnects and resyncs.
      this.stats.sendDropped++;
      this.log.warn(
        { session: s.sessionId, account: s.accountId },
        'websocket send dropped: backpressure limit',
      );
    }
  }

  private sendError(s: OrderEntrySession, code: number, cidHi: number, cidLo: number, text?: string): void {
    this.send(s, this.out.error(code, text ?? sessionReasonText(code), cidHi, cidLo));
  }

  private countRefusal(reason: number): void {
    this.metrics.orderResult(
      reason === SessionReason.BUSY
        ? 'busy'
        : reason === SessionReason.SHARD_DOWN
          ? 'shard_down'
          : 'rejected',
    );
  }

  /** A gateway-side refusal of a request (not an engine event: seq 0). */
  private refusal(
    execType: number,
    orderId: number,
    symbolId: number,
    reason: number,
  ): ExecutionReportFields {
    const r = this.er;
    const now = nowMicros();
    r.seq = 0;
    r.execType = execType;
    r.orderStatus = OrderStatus.Rejected;
    r.orderId = orderId;
    r.clientOrderIdHi = 0;
    r.clientOrderIdLo = 0;
    r.symbolId = symbolId;
    r.side = 0;
    r.orderType = 0;
    r.timeInForce = 0;
    r.price = 0;
    r.quantity = 0;
    r.lastPrice = 0;
    r.lastQuantity = 0;
    r.leavesQuantity = 0;
    r.cumQuantity = 0;
    r.rejectReason = reason;
    r.tradeId = 0;
    r.liquidity = 0;
    r.transactTimeUs = now;
    r.receivedTimeUs = now;
    return r;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function checkSettings(s: OrderEntrySettings): OrderEntrySettings {
  const bad = (name: string, v: number, rule: string) =>
    new RangeError(`OrderEntryGateway ${name} must be ${rule}, got ${String(v)}`);
  if (!Number.isInteger(s.rateLimit) || s.rateLimit < 0)
    throw bad('rateLimit', s.rateLimit, 'an integer >= 0');
  if (!Number.isInteger(s.rateBurst) || s.rateBurst < 1)
    throw bad('rateBurst', s.rateBurst, 'an integer >= 1');
  if (!Number.isInteger(s.idleTimeoutS) || s.idleTimeoutS < 0)
    throw bad('idleTimeoutS', s.idleTimeoutS, 'an integer >= 0');
  if (!Number.isInteger(s.maxBackpressureBytes) || s.maxBackpressureBytes < MAX_PAYLOAD)
    throw bad('maxBackpressureBytes', s.maxBackpressureBytes, `an integer >= ${MAX_PAYLOAD}`);
  if (
    !Number.isInteger(s.heartbeatMs) ||
    s.heartbeatMs < MIN_HEARTBEAT_MS ||
    s.heartbeatMs > MAX_HEARTBEAT_MS
  )
    throw bad('heartbeatMs', s.heartbeatMs, `an integer ${MIN_HEARTBEAT_MS}..${MAX_HEARTBEAT_MS}`);
  return Object.freeze({ ...s });
}
