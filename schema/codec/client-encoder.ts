// ClientEncoder: builds client -> gateway frames. Used by the client SDK, tests and benches (the
// gateway only reads these). One instance per connection/thread; every method returns a view of the
// encoder's buffer that is valid until the next call (copy it if you keep it). Not thread-safe.
//
//   const enc = new ClientEncoder();
//   ws.send(enc.logon(token));
//   const o = new NewOrderFields(); o.symbolId = 1; o.side = Side.Buy; ...; ws.send(enc.newOrder(o));
//   enc.beginBatch(); enc.addNewOrder(a); enc.addCancel(...); ws.send(enc.endBatch());
//
// Values are numbers: int64/uint64 fields must be integers in 0 .. 2^53-1 (else SchemaError, never a
// rounded frame); the client order id is passed as two uint32 halves (hi, lo). Enum values are
// written as given: the gateway's verifier is the judge of validity. Field order follows
// FrameWriter's rule (flatc-compatible bytes).

import { Body } from '../generated/exchange/v1/body.js';
import {
  AmendFieldCount,
  AmendVt,
  BatchFieldCount,
  BatchItemFieldCount,
  BatchItemVt,
  BatchVt,
  CancelFieldCount,
  CancelOnDisconnectFieldCount,
  CancelOnDisconnectVt,
  CancelVt,
  HeartbeatFieldCount,
  HeartbeatVt,
  LogonFieldCount,
  LogonVt,
  MassCancelFieldCount,
  MassCancelVt,
  NewOrderFieldCount,
  NewOrderVt,
  SubscribeFieldCount,
  SubscribeVt,
  UnsubscribeFieldCount,
  UnsubscribeVt,
} from '../generated/layout.js';
import { SchemaError } from '../schema-error.js';
import { FrameWriter } from './frame-writer.js';
import { MAX_BATCH_ITEMS, SCHEMA_VERSION } from './protocol.js';

/** Mutable, reusable field set of a NewOrder (fill it, pass it, fill it again). */
export class NewOrderFields {
  clientOrderIdHi = 0;
  clientOrderIdLo = 0;
  symbolId = 0;
  side = 0;
  orderType = 0;
  timeInForce = 0;
  stpMode = 0;
  flags = 0;
  price = 0;
  quantity = 0;
  stopPrice = 0;
  displayQuantity = 0;
  expireTimeUs = 0;
}

export class ClientEncoder {
  private readonly w: FrameWriter;
  private readonly items = new Int32Array(MAX_BATCH_ITEMS);
  private itemCount = 0;
  private inBatch = false;

  constructor(initialCapacity = 1024) {
    this.w = new FrameWriter(initialCapacity);
  }

  logon(token: string, heartbeatIntervalMs = 0, protocolVersion = SCHEMA_VERSION): Uint8Array {
    this.single();
    const b = this.w.builder;
    const t = b.createString(token);
    b.startObject(LogonFieldCount);
    this.w.u32(LogonVt.heartbeatIntervalMs, heartbeatIntervalMs);
    this.w.offset(LogonVt.token, t);
    this.w.u16(LogonVt.protocolVersion, protocolVersion, SCHEMA_VERSION);
    return this.w.finish(Body.Logon, b.endObject());
  }

  heartbeat(lastSeq: number, timestampUs: number): Uint8Array {
    this.single();
    const b = this.w.builder;
    b.startObject(HeartbeatFieldCount);
    this.w.int53(HeartbeatVt.timestampUs, timestampUs, 'Heartbeat.timestamp_us');
    this.w.int53(HeartbeatVt.lastSeq, lastSeq, 'Heartbeat.last_seq');
    return this.w.finish(Body.Heartbeat, b.endObject());
  }

  newOrder(o: NewOrderFields): Uint8Array {
    this.single();
    return this.w.finish(Body.NewOrder, this.writeNewOrder(o));
  }

  /** Cancel by orderId when non-zero, else by client order id (hi, lo). */
  cancel(symbolId: number, orderId: number, clientOrderIdHi = 0, clientOrderIdLo = 0): Uint8Array {
    this.single();
    return this.w.finish(Body.Cancel, this.writeCancel(symbolId, orderId, clientOrderIdHi, clientOrderIdLo));
  }

  /** newPrice / newQuantity 0 = unchanged. */
  amend(
    symbolId: number,
    orderId: number,
    clientOrderIdHi: number,
    clientOrderIdLo: number,
    newPrice: number,
    newQuantity: number,
  ): Uint8Array {
    this.single();
    const off = this.writeAmend(symbolId, orderId, clientOrderIdHi, clientOrderIdLo, newPrice, newQuantity);
    return this.w.finish(Body.Amend, off);
  }

  massCancel(scope: number, symbolId = 0, side = 0): Uint8Array {
    this.single();
    return this.w.finish(Body.MassCancel, this.writeMassCancel(scope, symbolId, side));
  }

  /** `conflate` 1 = resync instead of disconnect when slow; `tradesFromSeq` > 0 replays recent trades. */
  subscribe(symbolId: number, channels: number, conflate = 0, tradesFromSeq = 0): Uint8Array {
    this.single();
    return this.w.finish(
      Body.Subscribe,
      this.writeSubscription(symbolId, channels, true, conflate, tradesFromSeq),
    );
  }

  unsubscribe(symbolId: number, channels: number): Uint8Array {
    this.single();
    return this.w.finish(Body.Unsubscribe, this.writeSubscription(symbolId, channels, false));
  }

  /** 0 disarms. */
  cancelOnDisconnect(cancelAfterMs: number): Uint8Array {
    this.single();
    const b = this.w.builder;
    b.startObject(CancelOnDisconnectFieldCount);
    this.w.u32(CancelOnDisconnectVt.cancelAfterMs, cancelAfterMs);
    return this.w.finish(Body.CancelOnDisconnect, b.endObject());
  }

  // --- Batch: beginBatch(), add*() up to MAX_BATCH_ITEMS times, endBatch() ---

  /** Starts a batch; also discards an unfinished one (e.g. after an add*() threw). */
  beginBatch(): void {
    this.w.begin();
    this.inBatch = true;
    this.itemCount = 0;
  }

  addNewOrder(o: NewOrderFields): void {
    this.addItem(Body.NewOrder, this.writeNewOrder(this.checkBatch(o)));
  }

  addCancel(symbolId: number, orderId: number, clientOrderIdHi = 0, clientOrderIdLo = 0): void {
    this.checkBatch(null);
    this.addItem(Body.Cancel, this.writeCancel(symbolId, orderId, clientOrderIdHi, clientOrderIdLo));
  }

  addAmend(
    symbolId: number,
    orderId: number,
    clientOrderIdHi: number,
    clientOrderIdLo: number,
    newPrice: number,
    newQuantity: number,
  ): void {
    this.checkBatch(null);
    const off = this.writeAmend(symbolId, orderId, clientOrderIdHi, clientOrderIdLo, newPrice, newQuantity);
    this.addItem(Body.Amend, off);
  }

  addMassCancel(scope: number, symbolId = 0, side = 0): void {
    this.checkBatch(null);
    this.addItem(Body.MassCancel, this.writeMassCancel(scope, symbolId, side));
  }

  addSubscribe(symbolId: number, channels: number, conflate = 0, tradesFromSeq = 0): void {
    this.checkBatch(null);
    this.addItem(Body.Subscribe, this.writeSubscription(symbolId, channels, true, conflate, tradesFromSeq));
  }

  addUnsubscribe(symbolId: number, channels: number): void {
    this.checkBatch(null);
    this.addItem(Body.Unsubscribe, this.writeSubscription(symbolId, channels, false));
  }

  /** Number of items added since beginBatch(). */
  get batchLength(): number {
    return this.itemCount;
  }

  endBatch(): Uint8Array {
    if (!this.inBatch) throw new SchemaError('endBatch() without beginBatch()');
    this.inBatch = false;
    const n = this.itemCount;
    if (n === 0) throw new SchemaError('a Batch needs at least one item');
    const b = this.w.builder;
    b.startVector(4, n, 4);
    for (let i = n - 1; i >= 0; i--) b.addOffset(this.items[i]);
    const vec = b.endVector();
    b.startObject(BatchFieldCount);
    this.w.offset(BatchVt.items, vec);
    return this.w.finish(Body.Batch, b.endObject());
  }

  // --- internals ---

  private single(): void {
    if (this.inBatch) throw new SchemaError('single-message encode inside beginBatch()/endBatch()');
    this.w.begin();
  }

  private checkBatch<T>(value: T): T {
    if (!this.inBatch) throw new SchemaError('add*() outside beginBatch()/endBatch()');
    if (this.itemCount >= MAX_BATCH_ITEMS) {
      throw new SchemaError(`a Batch holds at most ${MAX_BATCH_ITEMS} items`);
    }
    return value;
  }

  private addItem(opType: number, op: number): void {
    const b = this.w.builder;
    b.startObject(BatchItemFieldCount);
    this.w.offset(BatchItemVt.op, op);
    this.w.u8(BatchItemVt.opType, opType);
    this.items[this.itemCount++] = b.endObject();
  }

  private writeNewOrder(o: NewOrderFields): number {
    const w = this.w;
    w.builder.startObject(NewOrderFieldCount);
    w.int53(NewOrderVt.expireTimeUs, o.expireTimeUs, 'NewOrder.expire_time_us');
    w.int53(NewOrderVt.displayQuantity, o.displayQuantity, 'NewOrder.display_quantity');
    w.int53(NewOrderVt.stopPrice, o.stopPrice, 'NewOrder.stop_price');
    w.int53(NewOrderVt.quantity, o.quantity, 'NewOrder.quantity');
    w.int53(NewOrderVt.price, o.price, 'NewOrder.price');
    w.raw64(NewOrderVt.clientOrderId, o.clientOrderIdHi, o.clientOrderIdLo);
    w.u32(NewOrderVt.symbolId, o.symbolId);
    w.u16(NewOrderVt.flags, o.flags, 0);
    w.u8(NewOrderVt.stpMode, o.stpMode);
    w.u8(NewOrderVt.timeInForce, o.timeInForce);
    w.u8(NewOrderVt.orderType, o.orderType);
    w.u8(NewOrderVt.side, o.side);
    return w.builder.endObject();
  }

  private writeCancel(symbolId: number, orderId: number, cidHi: number, cidLo: number): number {
    const w = this.w;
    w.builder.startObject(CancelFieldCount);
    w.raw64(CancelVt.clientOrderId, cidHi, cidLo);
    w.int53(CancelVt.orderId, orderId, 'Cancel.order_id');
    w.u32(CancelVt.symbolId, symbolId);
    return w.builder.endObject();
  }

  private writeAmend(
    symbolId: number,
    orderId: number,
    cidHi: number,
    cidLo: number,
    newPrice: number,
    newQuantity: number,
  ): number {
    const w = this.w;
    w.builder.startObject(AmendFieldCount);
    w.int53(AmendVt.newQuantity, newQuantity, 'Amend.new_quantity');
    w.int53(AmendVt.newPrice, newPrice, 'Amend.new_price');
    w.raw64(AmendVt.clientOrderId, cidHi, cidLo);
    w.int53(AmendVt.orderId, orderId, 'Amend.order_id');
    w.u32(AmendVt.symbolId, symbolId);
    return w.builder.endObject();
  }

  private writeMassCancel(scope: number, symbolId: number, side: number): number {
    const w = this.w;
    w.builder.startObject(MassCancelFieldCount);
    w.u32(MassCancelVt.symbolId, symbolId);
    w.u8(MassCancelVt.side, side);
    w.u8(MassCancelVt.scope, scope);
    return w.builder.endObject();
  }

  private writeSubscription(
    symbolId: number,
    channels: number,
    subscribe: boolean,
    conflate = 0,
    tradesFromSeq = 0,
  ): number {
    const w = this.w;
    if (subscribe) {
      w.builder.startObject(SubscribeFieldCount);
      w.int53(SubscribeVt.tradesFromSeq, tradesFromSeq, 'Subscribe.trades_from_seq');
      w.u32(SubscribeVt.symbolId, symbolId);
      w.u8(SubscribeVt.conflate, conflate);
      w.u8(SubscribeVt.channels, channels);
    } else {
      w.builder.startObject(UnsubscribeFieldCount);
      w.u32(UnsubscribeVt.symbolId, symbolId);
      w.u8(UnsubscribeVt.channels, channels);
    }
    return w.builder.endObject();
  }
}
