/**
 * ExchangeClient: the typed TypeScript SDK for binary order entry (`ws://host:port/api/v1/ws`).
 *
 *   const client = await ExchangeClient.connect({ url: 'ws://localhost:8080/api/v1/ws', token });
 *   const r = await client.placeOrder({ symbol: 'BTC/USD', side: 'buy', price: '50000.00', quantity: '0.5' });
 *   if (r.ok) await client.cancel({ orderId: r.report.orderId });
 *   else console.log('rejected', r.code, r.reason);
 *   client.on('report', (er) => ...);   // or: for await (const er of client.reports()) ...
 *   await client.close();
 *
 * - Requests resolve with the matching execution report (PendingRequests explains the matching): a
 *   reject resolves `{ ok: false, code, reason }`; only a timeout or a disconnect rejects the promise.
 * - Client order ids are assigned in increasing order when not given (starting from the time in
 *   microseconds, so a restarted client does not reuse the ids of its open orders).
 * - Prices and quantities: numbers are ticks and lots as on the wire; decimal strings ("50000.00") are
 *   converted exactly with the symbol's tick and lot size from the gateway's SymbolList.
 * - batch() sends many requests in Batch frames (up to 256 per frame).
 * - Heartbeats at the interval the LogonAck grants; the connection is dropped when nothing arrived for
 *   three intervals. On an unexpected disconnect every pending request is rejected
 *   (ConnectionClosedError) and the client reconnects with exponential backoff and logs on again.
 *
 * Frames are encoded with the schema's ClientEncoder, sent with RawWebSocket, and every received frame
 * is checked with FrameVerifier before it is read. Not thread-safe: use a client from one thread.
 */
import { EventEmitter } from 'node:events';
import { decimalToUnits } from '../gateway/symbols/decimal.js';
import {
  Body,
  ClientEncoder,
  Direction,
  ErrorReader,
  ExecType,
  ExecutionReportReader,
  FrameVerifier,
  HeartbeatReader,
  LogonAckReader,
  LogonRejectReader,
  MassCancelScope,
  MessageReader,
  NewOrderFields,
  OrderFlags,
  OrderType,
  Side,
  StpMode,
  SymbolListReader,
  TimeInForce,
  VerifyResult,
  verifyReasonText,
} from '../schema/index.js';
import {
  ClientUsageError,
  ConnectionClosedError,
  LogonRejectedError,
  RequestTimeoutError,
} from './errors.js';
import { PendingRequests, RequestKind } from './PendingRequests.js';
import {
  accepted,
  type ExecutionReport,
  type GatewayError,
  isTerminal,
  type OrderResult,
  readExecutionReport,
  readGatewayError,
  readSymbolList,
  refused,
  rejected,
  type SymbolInfo,
} from './reports.js';
import { splitPrefixed } from './ws/prefixedFrames.js';
import { RawWebSocket } from './ws/RawWebSocket.js';

export type SideName = 'buy' | 'sell';
export type OrderTypeName = 'limit' | 'market' | 'stop' | 'stop_limit';
export type TimeInForceName = 'gtc' | 'ioc' | 'fok' | 'gtd';
export type StpName = 'none' | 'expire_taker' | 'expire_maker' | 'expire_both' | 'decrement';
/** A symbol name from the SymbolList ("BTC/USD") or a symbol id. */
export type SymbolRef = string | number;
/** An integer number of ticks/lots, or a decimal string converted with the symbol's tick/lot size. */
export type Amount = number | string;

export interface PlaceOrder {
  symbol: SymbolRef;
  side: SideName;
  /** Default 'limit'. */
  type?: OrderTypeName;
  /** Default 'gtc'. */
  timeInForce?: TimeInForceName;
  /** Limit price (limit, stop_limit). */
  price?: Amount;
  quantity: Amount;
  /** Trigger price (stop, stop_limit). */
  stopPrice?: Amount;
  /** Iceberg: the visible part. */
  displayQuantity?: Amount;
  /** GTD expiry, microseconds since the Unix epoch. */
  expireTimeUs?: number;
  postOnly?: boolean;
  /** Self-trade prevention; default 'none'. */
  stp?: StpName;
  /** 1 .. 2^53-1; assigned by the client when absent. */
  clientOrderId?: number;
}

/** Identifies an order by exchange order id, or by client order id. */
export interface OrderRef {
  orderId?: number;
  clientOrderId?: number;
  /** Needed unless the order was placed through this client (the client remembers its symbol). */
  symbol?: SymbolRef;
}

export interface AmendOrder extends OrderRef {
  /** New limit price; absent = unchanged. */
  price?: Amount;
  /** New total quantity; absent = unchanged. */
  quantity?: Amount;
}

/** No symbol: every open order of the account; a symbol: its orders; symbol and side: that side. */
export interface MassCancelFilter {
  symbol?: SymbolRef;
  side?: SideName;
}

export interface MassCancelResult {
  /** The Canceled reports that arrived for the filter before the quiet period ended. */
  canceled: ExecutionReport[];
}

export interface RequestOptions {
  /** Overrides ConnectOptions.requestTimeoutMs for this request. */
  timeoutMs?: number;
}

export interface ReconnectOptions {
  /** First delay; doubles on every failed attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** Largest delay. Default 5 000 ms. */
  maxDelayMs?: number;
  /** Give up (emit 'close') after this many failed attempts in a row. Default unlimited. */
  maxAttempts?: number;
}

export interface ConnectOptions {
  /** ws://host:port/api/v1/ws; http(s)://host:port is accepted and mapped to ws(s)://host:port/api/v1/ws. */
  url: string;
  /** Bearer token (JWT). */
  token: string;
  /** 'logon' (default): a Logon frame first; 'header': `Authorization: Bearer` on the upgrade request. */
  auth?: 'logon' | 'header';
  /** Requested heartbeat interval; 0 (default) = the gateway's. */
  heartbeatIntervalMs?: number;
  /** Default timeout of placeOrder/cancel/amend. Default 5 000 ms. */
  requestTimeoutMs?: number;
  /** Wait for LogonAck (and the SymbolList after it) this long. Default 5 000 ms. */
  logonTimeoutMs?: number;
  /** Reconnect after an unexpected disconnect. Default true (with the defaults of ReconnectOptions). */
  reconnect?: boolean | ReconnectOptions;
  /** First client order id to assign. Default: Date.now() * 1000. */
  firstClientOrderId?: number;
  /** massCancel resolves once no Canceled report came for this long. Default 100 ms. */
  massCancelQuietMs?: number;
  /** Largest message accepted from the gateway. Default 16 MiB. */
  maxMessageBytes?: number;
  /**
   * Ask for batched reports (`?batch_reports=1`): the gateway sends each event-loop turn's reports
   * for this session as one WebSocket message of length-prefixed frames. Default false.
   */
  batchReports?: boolean;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
}

export interface ClientEvents {
  /** Every execution report, in arrival order. */
  report: [ExecutionReport];
  /** Every Error frame. */
  gatewayError: [GatewayError];
  symbols: [SymbolInfo[]];
  heartbeat: [lastSeq: number];
  disconnect: [DisconnectInfo];
  /** Connected and logged on again after a disconnect. */
  reconnect: [{ attempts: number; sessionId: number }];
  /** The client stopped for good: close() (null) or reconnecting gave up (the last error). */
  close: [Error | null];
  /** A verified frame of another kind (market data, ...): `bytes` is valid during the call only. */
  message: [bodyType: number, bytes: Uint8Array];
  /** A frame that failed verification (code from VerifyResult): dropped. */
  invalidFrame: [code: number, text: string];
}

const SIDES: Record<SideName, number> = { buy: Side.Buy, sell: Side.Sell };
const ORDER_TYPES: Record<OrderTypeName, number> = {
  limit: OrderType.Limit,
  market: OrderType.Market,
  stop: OrderType.Stop,
  stop_limit: OrderType.StopLimit,
};
const TIME_IN_FORCE: Record<TimeInForceName, number> = {
  gtc: TimeInForce.GTC,
  ioc: TimeInForce.IOC,
  fok: TimeInForce.FOK,
  gtd: TimeInForce.GTD,
};
const STP: Record<StpName, number> = {
  none: StpMode.None,
  expire_taker: StpMode.ExpireTaker,
  expire_maker: StpMode.ExpireMaker,
  expire_both: StpMode.ExpireBoth,
  decrement: StpMode.Decrement,
};
const DEFAULT_HEARTBEAT_MS = 10_000;
const MAX_BATCH = 256;
const TWO_32 = 0x1_0000_0000;

type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

interface LogonWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface MassCancelCollector {
  symbolId: number;
  side: number;
  canceled: ExecutionReport[];
  timer: NodeJS.Timeout | null;
  resolve: (r: MassCancelResult) => void;
  reject: (e: Error) => void;
}

/** A request checked and converted, ready to encode (into a single frame or a Batch item). */
type Op =
  | { kind: typeof RequestKind.NEW; fields: NewOrderFields; clientOrderId: number; symbolId: number }
  | {
      kind: typeof RequestKind.CANCEL | typeof RequestKind.AMEND;
      symbolId: number;
      orderId: number;
      clientOrderId: number;
      price: number;
      quantity: number;
    };

export class ExchangeClient extends EventEmitter<ClientEvents> {
  readonly url: string;
  private readonly token: string;
  private readonly auth: 'logon' | 'header';
  private readonly requestedHeartbeatMs: number;
  private readonly requestTimeoutMs: number;
  private readonly logonTimeoutMs: number;
  private readonly reconnectOptions: Required<ReconnectOptions> | null;
  private readonly massCancelQuietMs: number;
  private readonly maxMessageBytes: number;

  private state: State = 'connecting';
  private ws: RawWebSocket | null = null;
  private nextClientOrderId: number;
  private sessionIdValue = 0;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private lastReceivedMs = 0;
  private lastSeq = 0;
  private failedAttempts = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly sweepTimer: NodeJS.Timeout;
  private logonWaiter: LogonWaiter | null = null;
  private symbolWaiter: (() => void) | null = null;
  private closeWaiter: (() => void) | null = null;

  private readonly pending = new PendingRequests();
  private readonly massCancels: MassCancelCollector[] = [];
  private readonly symbolsByName = new Map<string, SymbolInfo>();
  private readonly symbolsById = new Map<number, SymbolInfo>();
  /** Symbol of each open order placed through this client, by order id and by client order id. */
  private readonly orderSymbols = new Map<number, number>();
  private readonly clientOrderSymbols = new Map<number, number>();

  private readonly encoder = new ClientEncoder();
  private readonly verifier = new FrameVerifier(Direction.GatewayToClient);
  private readonly messageReader = new MessageReader();
  private readonly batchReports: boolean;
  private readonly reportReader = new ExecutionReportReader();
  private readonly errorReader = new ErrorReader();
  private readonly logonAckReader = new LogonAckReader();
  private readonly logonRejectReader = new LogonRejectReader();
  private readonly heartbeatReader = new HeartbeatReader();
  private readonly symbolListReader = new SymbolListReader();

  private constructor(options: ConnectOptions) {
    super();
    this.batchReports = options.batchReports === true;
    this.url = this.batchReports ? withQuery(wsUrl(options.url), 'batch_reports', '1') : wsUrl(options.url);
    if (typeof options.token !== 'string' || options.token.length === 0) {
      throw new ClientUsageError('ConnectOptions.token must be a non-empty string');
    }
    this.token = options.token;
    this.auth = options.auth ?? 'logon';
    if (this.auth !== 'logon' && this.auth !== 'header') {
      throw new ClientUsageError(`ConnectOptions.auth must be 'logon' or 'header', got ${String(this.auth)}`);
    }
    this.requestedHeartbeatMs = nonNegativeInt(options.heartbeatIntervalMs ?? 0, 'heartbeatIntervalMs');
    this.requestTimeoutMs = positiveInt(options.requestTimeoutMs ?? 5000, 'requestTimeoutMs');
    this.logonTimeoutMs = positiveInt(options.logonTimeoutMs ?? 5000, 'logonTimeoutMs');
    this.massCancelQuietMs = positiveInt(options.massCancelQuietMs ?? 100, 'massCancelQuietMs');
    this.maxMessageBytes = positiveInt(options.maxMessageBytes ?? 16 * 1024 * 1024, 'maxMessageBytes');
    if (this.batchReports && this.maxMessageBytes < MIN_BATCHED_MESSAGE_BYTES) {
      throw new ClientUsageError(
        `batchReports needs maxMessageBytes >= ${MIN_BATCHED_MESSAGE_BYTES} (the gateway batches up to 64 KiB), got ${this.maxMessageBytes}`,
      );
    }
    const rc = options.reconnect ?? true;
    this.reconnectOptions =
      rc === false
        ? null
        : {
            initialDelayMs: positiveInt(
              (rc === true ? undefined : rc.initialDelayMs) ?? 100,
              'initialDelayMs',
            ),
            maxDelayMs: positiveInt((rc === true ? undefined : rc.maxDelayMs) ?? 5000, 'maxDelayMs'),
            maxAttempts: (rc === true ? undefined : rc.maxAttempts) ?? Number.POSITIVE_INFINITY,
          };
    this.nextClientOrderId = clientOrderIdOf(options.firstClientOrderId ?? Date.now() * 1000);
    const sweepMs = Math.max(5, Math.min(100, Math.floor(this.requestTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.pending.sweep(Date.now()), sweepMs);
    this.sweepTimer.unref();
  }

  /** Connects and logs on; rejects with HandshakeError, LogonRejectedError, RequestTimeoutError, ... */
  static async connect(options: ConnectOptions): Promise<ExchangeClient> {
    const client = new ExchangeClient(options);
    try {
      await client.open();
    } catch (err) {
      client.state = 'closed';
      clearInterval(client.sweepTimer);
      client.ws?.terminate();
      client.ws = null;
      throw err;
    }
    client.state = 'open';
    return client;
  }

  /** True while connected and logged on. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** Session id from the last LogonAck (0 when the gateway sent none). */
  get sessionId(): number {
    return this.sessionIdValue;
  }

  /** Heartbeat interval in force (ms). */
  get heartbeatIntervalMs(): number {
    return this.heartbeatMs;
  }

  /** Symbols from the gateway's SymbolList (empty until it arrives). */
  get symbols(): SymbolInfo[] {
    return [...this.symbolsById.values()];
  }

  /** Requests waiting for their report. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Bytes queued on the connection and not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  /** Looks a symbol up by name or id (undefined before the SymbolList arrived). */
  symbol(ref: SymbolRef): SymbolInfo | undefined {
    return typeof ref === 'number' ? this.symbolsById.get(ref) : this.symbolsByName.get(ref);
  }

  /** Enters an order; resolves with its first report (New, or Rejected / the gateway's Error). */
  async placeOrder(order: PlaceOrder, options: RequestOptions = {}): Promise<OrderResult> {
    const op = this.newOrderOp(order);
    const ws = this.openSocket();
    const result = this.pending.add(RequestKind.NEW, 0, op.clientOrderId, this.deadline(options));
    this.clientOrderSymbols.set(op.clientOrderId, op.symbolId);
    ws.send(this.encoder.newOrder(op.fields));
    return result;
  }

  /** Cancels one order; resolves with its Canceled report, or CancelRejected as `{ ok: false }`. */
  async cancel(ref: OrderRef, options: RequestOptions = {}): Promise<OrderResult> {
    const op = this.changeOp(RequestKind.CANCEL, ref, undefined, undefined);
    const ws = this.openSocket();
    const result = this.pending.add(RequestKind.CANCEL, op.orderId, op.clientOrderId, this.deadline(options));
    const cid = op.clientOrderId;
    ws.send(this.encoder.cancel(op.symbolId, op.orderId, Math.floor(cid / TWO_32), cid >>> 0));
    return result;
  }

  /** Changes price and/or quantity; resolves with the Amended report, or AmendRejected as `{ ok: false }`. */
  async amend(ref: AmendOrder, options: RequestOptions = {}): Promise<OrderResult> {
    const op = this.changeOp(RequestKind.AMEND, ref, ref.price, ref.quantity);
    const ws = this.openSocket();
    const result = this.pending.add(RequestKind.AMEND, op.orderId, op.clientOrderId, this.deadline(options));
    const cid = op.clientOrderId;
    ws.send(
      this.encoder.amend(op.symbolId, op.orderId, Math.floor(cid / TWO_32), cid >>> 0, op.price, op.quantity),
    );
    return result;
  }

  /**
   * Cancels every open order of the account (optionally of one symbol, and one side of it). The
   * protocol sends one Canceled report per order and no completion message, so this resolves with the
   * reports that arrived until none came for `massCancelQuietMs`.
   */
  async massCancel(filter: MassCancelFilter = {}): Promise<MassCancelResult> {
    const symbolId = filter.symbol === undefined ? 0 : this.symbolId(filter.symbol);
    const side = filter.side === undefined ? 0 : sideOf(filter.side);
    if (side !== 0 && symbolId === 0) throw new ClientUsageError('massCancel: a side needs a symbol');
    const scope =
      symbolId === 0 ? MassCancelScope.All : side === 0 ? MassCancelScope.Symbol : MassCancelScope.SymbolSide;
    const ws = this.openSocket();
    ws.send(this.encoder.massCancel(scope, symbolId, side));
    return new Promise<MassCancelResult>((resolve, reject) => {
      const c: MassCancelCollector = { symbolId, side, canceled: [], timer: null, resolve, reject };
      this.massCancels.push(c);
      this.armMassCancel(c);
    });
  }

  /** Collects requests and sends them in Batch frames (256 per frame) with send(). */
  batch(): OrderBatch {
    return new OrderBatch(this);
  }

  /** Every execution report from now on, until the client closes. */
  reports(): AsyncIterableIterator<ExecutionReport> {
    const queue: ExecutionReport[] = [];
    let wake: ((r: IteratorResult<ExecutionReport>) => void) | null = null;
    let done = false;
    const onReport = (r: ExecutionReport) => {
      if (wake !== null) {
        const w = wake;
        wake = null;
        w({ value: r, done: false });
      } else queue.push(r);
    };
    const stop = () => {
      done = true;
      this.off('report', onReport);
      this.off('close', stop);
      if (wake !== null) {
        const w = wake;
        wake = null;
        w({ value: undefined, done: true });
      }
    };
    this.on('report', onReport);
    this.on('close', stop);
    if (this.state === 'closed') stop();
    return {
      next: () => {
        const r = queue.shift();
        if (r !== undefined) return Promise.resolve({ value: r, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          wake = resolve;
        });
      },
      return: () => {
        stop();
        queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Closes the connection (close handshake) and stops reconnecting; pending requests are rejected. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    if (ws === null) {
      this.stopped(null);
      return;
    }
    await new Promise<void>((resolve) => {
      this.closeWaiter = resolve;
      ws.close(1000, 'client close');
    });
  }

  // --- used by OrderBatch ---

  /** @internal */
  sendBatch(ops: readonly Op[], options: RequestOptions): Promise<OrderResult[]> {
    const ws = this.openSocket();
    const deadline = this.deadline(options);
    const results: Promise<OrderResult>[] = [];
    const enc = this.encoder;
    for (let start = 0; start < ops.length; start += MAX_BATCH) {
      const end = Math.min(ops.length, start + MAX_BATCH);
      enc.beginBatch();
      for (let i = start; i < end; i++) {
        const op = ops[i];
        const cid = op.clientOrderId;
        if (op.kind === RequestKind.NEW) {
          enc.addNewOrder(op.fields);
          this.clientOrderSymbols.set(cid, op.symbolId);
          results.push(this.pending.add(RequestKind.NEW, 0, cid, deadline));
        } else {
          const hi = Math.floor(cid / TWO_32);
          if (op.kind === RequestKind.CANCEL) enc.addCancel(op.symbolId, op.orderId, hi, cid >>> 0);
          else enc.addAmend(op.symbolId, op.orderId, hi, cid >>> 0, op.price, op.quantity);
          results.push(this.pending.add(op.kind, op.orderId, cid, deadline));
        }
      }
      ws.send(enc.endBatch());
    }
    return Promise.all(results);
  }

  /** @internal Checks and converts a new order. */
  newOrderOp(order: PlaceOrder): Op & { kind: typeof RequestKind.NEW } {
    const sym = this.symbolId(order.symbol);
    const info = this.symbolsById.get(sym);
    const f = new NewOrderFields();
    const cid =
      order.clientOrderId === undefined ? this.nextClientOrderId++ : clientOrderIdOf(order.clientOrderId);
    f.clientOrderIdHi = Math.floor(cid / TWO_32);
    f.clientOrderIdLo = cid >>> 0;
    f.symbolId = sym;
    f.side = sideOf(order.side);
    f.orderType = pick(ORDER_TYPES, order.type ?? 'limit', 'type');
    f.timeInForce = pick(TIME_IN_FORCE, order.timeInForce ?? 'gtc', 'timeInForce');
    f.stpMode = pick(STP, order.stp ?? 'none', 'stp');
    f.flags = order.postOnly === true ? OrderFlags.PostOnly : 0;
    f.price = units(order.price, info?.tickSize, 'price');
    f.quantity = units(order.quantity, info?.lotSize, 'quantity');
    f.stopPrice = units(order.stopPrice, info?.tickSize, 'stopPrice');
    f.displayQuantity = units(order.displayQuantity, info?.lotSize, 'displayQuantity');
    f.expireTimeUs = nonNegativeInt(order.expireTimeUs ?? 0, 'expireTimeUs');
    return { kind: RequestKind.NEW, fields: f, clientOrderId: cid, symbolId: sym };
  }

  /** @internal Checks and converts a cancel or amend. */
  changeOp(
    kind: typeof RequestKind.CANCEL | typeof RequestKind.AMEND,
    ref: OrderRef,
    price: Amount | undefined,
    quantity: Amount | undefined,
  ): Op & { kind: typeof RequestKind.CANCEL | typeof RequestKind.AMEND } {
    const orderId = nonNegativeInt(ref.orderId ?? 0, 'orderId');
    const cid = ref.clientOrderId === undefined ? 0 : clientOrderIdOf(ref.clientOrderId);
    if (orderId === 0 && cid === 0)
      throw new ClientUsageError('an order needs an orderId or a clientOrderId');
    const known = orderId !== 0 ? this.orderSymbols.get(orderId) : this.clientOrderSymbols.get(cid);
    let symbolId: number;
    if (ref.symbol !== undefined) symbolId = this.symbolId(ref.symbol);
    else if (known !== undefined) symbolId = known;
    else {
      throw new ClientUsageError(
        `the symbol of order ${orderId !== 0 ? orderId : `with client order id ${cid}`} is unknown: pass symbol`,
      );
    }
    const info = this.symbolsById.get(symbolId);
    return {
      kind,
      symbolId,
      orderId,
      clientOrderId: cid,
      price: units(price, info?.tickSize, 'price'),
      quantity: units(quantity, info?.lotSize, 'quantity'),
    };
  }

  // --- connection ---

  private async open(): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.auth === 'header') headers.authorization = `Bearer ${this.token}`;
    const ws = await RawWebSocket.connect(this.url, {
      headers,
      handshakeTimeoutMs: this.logonTimeoutMs,
      maxMessageBytes: this.maxMessageBytes,
    });
    this.ws = ws;
    this.lastReceivedMs = Date.now();
    ws.onMessage = (bytes, start, end, isBinary) => {
      if (ws === this.ws) this.received(ws, bytes, start, end, isBinary);
    };
    ws.onClose = (code, reason) => {
      if (ws === this.ws) this.disconnected(code, reason);
    };
    if (this.auth === 'logon') {
      const logon = new Promise<void>((resolve, reject) => {
        this.logonWaiter = { resolve, reject };
      });
      const symbols = new Promise<void>((resolve) => {
        this.symbolWaiter = resolve;
      });
      ws.send(this.encoder.logon(this.token, this.requestedHeartbeatMs));
      const timer = setTimeout(() => {
        this.failLogon(
          new RequestTimeoutError(`no LogonAck from ${this.url} within ${this.logonTimeoutMs} ms`),
        );
        ws.terminate();
      }, this.logonTimeoutMs);
      try {
        await logon;
        // The SymbolList follows the LogonAck; wait for it briefly so symbol names work at once.
        await Promise.race([symbols, new Promise((r) => setTimeout(r, Math.min(1000, this.logonTimeoutMs)))]);
      } finally {
        clearTimeout(timer);
        this.symbolWaiter = null;
      }
    } else {
      this.heartbeatMs = this.requestedHeartbeatMs > 0 ? this.requestedHeartbeatMs : DEFAULT_HEARTBEAT_MS;
    }
    if (this.ws !== ws) throw new ConnectionClosedError(`connection to ${this.url} closed during logon`);
    this.startHeartbeat();
  }

  private failLogon(err: Error): void {
    const w = this.logonWaiter;
    this.logonWaiter = null;
    w?.reject(err);
  }

  private openSocket(): RawWebSocket {
    if (this.state !== 'open' || this.ws === null) {
      throw new ConnectionClosedError(`not connected to ${this.url} (${this.state})`);
    }
    return this.ws;
  }

  private deadline(options: RequestOptions): number {
    return Date.now() + positiveInt(options.timeoutMs ?? this.requestTimeoutMs, 'timeoutMs');
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const interval = this.heartbeatMs;
    this.heartbeatTimer = setInterval(() => {
      const ws = this.ws;
      if (ws === null) return;
      if (Date.now() - this.lastReceivedMs > 3 * interval) {
        // Note: terminate() leads to onClose, which rejects pending requests and reconnects.
        ws.terminate();
        return;
      }
      ws.send(this.encoder.heartbeat(this.lastSeq, Date.now() * 1000));
    }, interval);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private disconnected(code: number, reason: string): void {
    this.ws = null;
    this.stopHeartbeat();
    this.failLogon(
      new ConnectionClosedError(`connection to ${this.url} closed during logon (${code} ${reason})`),
    );
    this.pending.rejectAll(
      new ConnectionClosedError(
        `connection to ${this.url} closed (${code} ${reason}) before the report arrived`,
      ),
    );
    for (const c of this.massCancels.splice(0)) {
      if (c.timer !== null) clearTimeout(c.timer);
      c.reject(new ConnectionClosedError(`connection to ${this.url} closed during a mass cancel`));
    }
    if (this.state === 'closed') {
      this.stopped(null);
      return;
    }
    if (this.state !== 'open') return; // connect() or a reconnect attempt failed: its caller handles it
    const willReconnect = this.reconnectOptions !== null;
    this.emit('disconnect', { code, reason, willReconnect });
    if (willReconnect) {
      this.state = 'reconnecting';
      this.scheduleReconnect();
    } else {
      this.state = 'closed';
      this.stopped(null);
    }
  }

  private scheduleReconnect(): void {
    const o = this.reconnectOptions as Required<ReconnectOptions>;
    const base = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** this.failedAttempts);
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.reconnectOnce().catch(() => {});
    }, delay);
  }

  private async reconnectOnce(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      this.ws?.terminate();
      this.ws = null;
      if (this.state === 'closed') return;
      this.failedAttempts++;
      const o = this.reconnectOptions as Required<ReconnectOptions>;
      if (err instanceof LogonRejectedError || this.failedAttempts >= o.maxAttempts) {
        this.state = 'closed';
        this.stopped(err as Error);
      } else this.scheduleReconnect();
      return;
    }
    if (this.state === 'closed') {
      this.ws?.close(1000, 'client close');
      return;
    }
    this.state = 'open';
    const attempts = this.failedAttempts + 1;
    this.failedAttempts = 0;
    this.emit('reconnect', { attempts, sessionId: this.sessionIdValue });
  }

  private stopped(err: Error | null): void {
    this.stopHeartbeat();
    clearInterval(this.sweepTimer);
    this.pending.rejectAll(new ConnectionClosedError(`client of ${this.url} closed`));
    const w = this.closeWaiter;
    this.closeWaiter = null;
    this.emit('close', err);
    w?.();
  }

  // --- inbound ---

  private received(ws: RawWebSocket, bytes: Uint8Array, start: number, end: number, isBinary: boolean): void {
    this.lastReceivedMs = Date.now();
    if (!isBinary) return;
    if (this.batchReports) {
      // Note: a listener may close or reconnect the client mid-message: the rest is then dropped.
      const each = (s: number, e: number) => {
        if (ws === this.ws) this.receivedFrame(bytes, s, e);
      };
      if (!splitPrefixed(bytes, start, end, each)) {
        this.emit(
          'invalidFrame',
          VerifyResult.FRAME_TOO_SMALL,
          'batched message: a length runs past its end',
        );
      }
      return;
    }
    this.receivedFrame(bytes, start, end);
  }

  private receivedFrame(bytes: Uint8Array, start: number, end: number): void {
    const frame = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
    const rc = this.verifier.verify(frame);
    if (rc !== VerifyResult.OK) {
      this.emit('invalidFrame', rc, verifyReasonText(rc));
      return;
    }
    const m = this.messageReader.wrap(frame);
    const pos = m.bodyPos;
    switch (m.bodyType) {
      case Body.ExecutionReport:
        this.executionReport(readExecutionReport(this.reportReader.wrap(frame, pos)));
        break;
      case Body.Error:
        this.gatewayError(readGatewayError(this.errorReader.wrap(frame, pos)));
        break;
      case Body.Heartbeat:
        this.emit('heartbeat', this.heartbeatReader.wrap(frame, pos).lastSeq);
        break;
      case Body.LogonAck: {
        const ack = this.logonAckReader.wrap(frame, pos);
        this.sessionIdValue = ack.sessionId;
        const granted = ack.heartbeatIntervalMs;
        this.heartbeatMs = granted > 0 ? granted : this.requestedHeartbeatMs || DEFAULT_HEARTBEAT_MS;
        const w = this.logonWaiter;
        this.logonWaiter = null;
        if (w !== null) w.resolve();
        else if (this.heartbeatTimer !== null) this.startHeartbeat();
        break;
      }
      case Body.LogonReject: {
        const r = this.logonRejectReader.wrap(frame, pos);
        this.failLogon(new LogonRejectedError(r.code, r.text ?? ''));
        break;
      }
      case Body.SymbolList: {
        const list = readSymbolList(this.symbolListReader.wrap(frame, pos));
        for (const s of list) {
          this.symbolsById.set(s.symbolId, s);
          this.symbolsByName.set(s.name, s);
        }
        this.symbolWaiter?.();
        this.emit('symbols', list);
        break;
      }
      default:
        this.emit('message', m.bodyType, frame);
    }
  }

  private executionReport(r: ExecutionReport): void {
    if (r.seq > this.lastSeq) this.lastSeq = r.seq;
    const p = this.pending;
    switch (r.execType) {
      case ExecType.Canceled:
        if (!p.settle(RequestKind.CANCEL, r.orderId, r.clientOrderId, accepted(r))) {
          p.settle(RequestKind.NEW, 0, r.clientOrderId, accepted(r));
        }
        this.collectMassCancel(r);
        break;
      case ExecType.CancelRejected:
        p.settle(RequestKind.CANCEL, r.orderId, r.clientOrderId, rejected(r));
        break;
      case ExecType.Amended:
        p.settle(RequestKind.AMEND, r.orderId, r.clientOrderId, accepted(r));
        break;
      case ExecType.AmendRejected:
        p.settle(RequestKind.AMEND, r.orderId, r.clientOrderId, rejected(r));
        break;
      case ExecType.Rejected:
        p.settle(RequestKind.NEW, 0, r.clientOrderId, rejected(r));
        break;
      default:
        p.settle(RequestKind.NEW, 0, r.clientOrderId, accepted(r));
    }
    // Note: a refused cancel or amend says nothing about the order's own state.
    if (r.execType !== ExecType.CancelRejected && r.execType !== ExecType.AmendRejected) {
      if (isTerminal(r.orderStatus)) {
        this.orderSymbols.delete(r.orderId);
        this.clientOrderSymbols.delete(r.clientOrderId);
      } else if (r.orderId !== 0) {
        this.orderSymbols.set(r.orderId, r.symbolId);
      }
    }
    this.emit('report', r);
  }

  private gatewayError(e: GatewayError): void {
    if (e.clientOrderId !== 0) this.pending.settleAny(e.clientOrderId, refused(e));
    this.emit('gatewayError', e);
  }

  private collectMassCancel(r: ExecutionReport): void {
    for (const c of this.massCancels) {
      if ((c.symbolId === 0 || c.symbolId === r.symbolId) && (c.side === 0 || c.side === r.side)) {
        c.canceled.push(r);
        this.armMassCancel(c);
      }
    }
  }

  private armMassCancel(c: MassCancelCollector): void {
    if (c.timer !== null) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      const i = this.massCancels.indexOf(c);
      if (i >= 0) this.massCancels.splice(i, 1);
      c.resolve({ canceled: c.canceled });
    }, this.massCancelQuietMs);
  }

  private symbolId(ref: SymbolRef): number {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 1 || ref > 0xffffffff) {
        throw new ClientUsageError(`symbol id must be an integer 1..2^32-1, got ${ref}`);
      }
      return ref;
    }
    const s = this.symbolsByName.get(ref);
    if (s === undefined) {
      const known = [...this.symbolsByName.keys()].join(', ') || 'none: no SymbolList received';
      throw new ClientUsageError(`unknown symbol ${JSON.stringify(ref)} (known: ${known})`);
    }
    return s.symbolId;
  }
}

/** Requests collected by ExchangeClient.batch(); send() encodes them into Batch frames. */
export class OrderBatch {
  private readonly client: ExchangeClient;
  private readonly ops: Op[] = [];

  /** @internal */
  constructor(client: ExchangeClient) {
    this.client = client;
  }

  get length(): number {
    return this.ops.length;
  }

  /** Adds a new order (checked now: a bad field throws ClientUsageError here). */
  placeOrder(order: PlaceOrder): this {
    this.ops.push(this.client.newOrderOp(order));
    return this;
  }

  cancel(ref: OrderRef): this {
    this.ops.push(this.client.changeOp(RequestKind.CANCEL, ref, undefined, undefined));
    return this;
  }

  amend(ref: AmendOrder): this {
    this.ops.push(this.client.changeOp(RequestKind.AMEND, ref, ref.price, ref.quantity));
    return this;
  }

  /** Sends everything (ceil(length / 256) frames); resolves with one result per request, in order. */
  async send(options: RequestOptions = {}): Promise<OrderResult[]> {
    if (this.ops.length === 0) throw new ClientUsageError('an empty batch cannot be sent');
    const ops = this.ops.splice(0);
    return this.client.sendBatch(ops, options);
  }
}

/** Batched reports come in messages of up to 64 KiB of frames (plus one frame's length prefix). */
const MIN_BATCHED_MESSAGE_BYTES = 64 * 1024 + 4;

/** `url` with query parameter `name=value` set. */
function withQuery(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}

/** Maps http(s)://host:port to ws(s)://host:port/api/v1/ws; ws(s) URLs are kept as given. */
export function wsUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClientUsageError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
    if (u.pathname === '/') u.pathname = '/api/v1/ws';
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new ClientUsageError(
      `the URL must be ws://, wss://, http:// or https://, got ${JSON.stringify(url)}`,
    );
  }
  return u.href;
}

function sideOf(side: SideName): number {
  return pick(SIDES, side, 'side');
}

function pick<K extends string>(table: Record<K, number>, value: K, field: string): number {
  const v = Object.hasOwn(table, value) ? table[value] : undefined;
  if (v === undefined) {
    throw new ClientUsageError(
      `${field} must be one of ${Object.keys(table).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return v;
}

/** An amount as integer units: a number must already be an integer; a string is converted exactly. */
function units(value: Amount | undefined, increment: string | undefined, field: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return nonNegativeInt(value, field);
  if (increment === undefined) {
    throw new ClientUsageError(
      `${field} ${JSON.stringify(value)} is a decimal string but the symbol's increments are unknown ` +
        '(no SymbolList for it): pass integer ticks/lots',
    );
  }
  return nonNegativeInt(decimalToUnits(value, increment), field);
}

function clientOrderIdOf(v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ClientUsageError(`clientOrderId must be an integer 1..2^53-1, got ${v}`);
  }
  return v;
}

function nonNegativeInt(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new ClientUsageError(`${field} must be an integer 0..2^53-1, got ${v}`);
  }
  return v;
}

function positiveInt(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 1)
    throw new ClientUsageError(`${field} must be a positive integer, got ${v}`);
  return v;
}
