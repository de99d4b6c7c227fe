// Flyweight readers of the client -> gateway messages (plus Message, the root, and Heartbeat, which
// travels both ways). The gateway keeps one instance of each per thread and wraps it on every frame:
//
//   const rc = verifier.verify(bytes);            // FrameVerifier, schema/verify.ts — always first
//   if (rc !== VerifyResult.OK) return reject(rc);
//   message.wrap(bytes);
//   switch (message.bodyType) {
//     case Body.NewOrder: order.wrap(bytes, message.bodyPos); ... order.price ...; break;
//     case Body.Batch:
//       batch.wrap(bytes, message.bodyPos);
//       for (let i = 0; i < batch.length; i++) dispatch(batch.opType(i), batch.opPos(i));
//   }
//
// BatchOp values equal Body values, so one dispatch serves single messages and batch items.
// Getters read the bytes in place on every call and never allocate (except the Logon token string).
// int64/uint64 getters return a number in 0 .. 2^53-1 (after verification they cannot be out of
// range; unverified they would return -1). The opaque client order id is two uint32 halves.
// Only wrap verified frames (see TableView). Not thread-safe: one set of readers per thread.

import {
  AmendVt,
  BatchItemVt,
  BatchVt,
  CancelOnDisconnectVt,
  CancelVt,
  HeartbeatVt,
  LogonVt,
  MassCancelVt,
  MessageVt,
  NewOrderVt,
  SubscribeVt,
  UnsubscribeVt,
} from '../generated/layout.js';
import { SCHEMA_VERSION } from './protocol.js';
import { TableView } from './table-view.js';
import { readU32 } from './wire.js';

/** The root table of every frame. */
export class MessageReader {
  readonly view = new TableView();

  /** Wraps the root table of a verified frame. */
  wrap(bytes: Uint8Array): this {
    this.view.wrap(bytes, readU32(bytes, 0));
    return this;
  }

  /** A Body value (Body.NewOrder, ...). */
  get bodyType(): number {
    return this.view.u8(MessageVt.bodyType, 0);
  }

  /** Absolute position of the body table: pass it to the matching reader's wrap(). */
  get bodyPos(): number {
    return this.view.target(MessageVt.body);
  }
}

export class LogonReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  /** The bearer token, decoded (allocates; once per session). */
  get token(): string {
    return this.view.string(LogonVt.token) ?? '';
  }

  get protocolVersion(): number {
    return this.view.u16(LogonVt.protocolVersion, SCHEMA_VERSION);
  }

  get heartbeatIntervalMs(): number {
    return this.view.u32(LogonVt.heartbeatIntervalMs, 0);
  }
}

export class HeartbeatReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get lastSeq(): number {
    return this.view.int53(HeartbeatVt.lastSeq);
  }

  get timestampUs(): number {
    return this.view.int53(HeartbeatVt.timestampUs);
  }
}

export class NewOrderReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get clientOrderIdHi(): number {
    return this.view.hi32(NewOrderVt.clientOrderId);
  }

  get clientOrderIdLo(): number {
    return this.view.lo32(NewOrderVt.clientOrderId);
  }

  get symbolId(): number {
    return this.view.u32(NewOrderVt.symbolId, 0);
  }

  get side(): number {
    return this.view.u8(NewOrderVt.side, 0);
  }

  get orderType(): number {
    return this.view.u8(NewOrderVt.orderType, 0);
  }

  get timeInForce(): number {
    return this.view.u8(NewOrderVt.timeInForce, 0);
  }

  get stpMode(): number {
    return this.view.u8(NewOrderVt.stpMode, 0);
  }

  /** OrderFlags bits. */
  get flags(): number {
    return this.view.u16(NewOrderVt.flags, 0);
  }

  get price(): number {
    return this.view.int53(NewOrderVt.price);
  }

  get quantity(): number {
    return this.view.int53(NewOrderVt.quantity);
  }

  get stopPrice(): number {
    return this.view.int53(NewOrderVt.stopPrice);
  }

  get displayQuantity(): number {
    return this.view.int53(NewOrderVt.displayQuantity);
  }

  get expireTimeUs(): number {
    return this.view.int53(NewOrderVt.expireTimeUs);
  }
}

export class CancelReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get orderId(): number {
    return this.view.int53(CancelVt.orderId);
  }

  get clientOrderIdHi(): number {
    return this.view.hi32(CancelVt.clientOrderId);
  }

  get clientOrderIdLo(): number {
    return this.view.lo32(CancelVt.clientOrderId);
  }

  get symbolId(): number {
    return this.view.u32(CancelVt.symbolId, 0);
  }
}

export class AmendReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get orderId(): number {
    return this.view.int53(AmendVt.orderId);
  }

  get clientOrderIdHi(): number {
    return this.view.hi32(AmendVt.clientOrderId);
  }

  get clientOrderIdLo(): number {
    return this.view.lo32(AmendVt.clientOrderId);
  }

  get symbolId(): number {
    return this.view.u32(AmendVt.symbolId, 0);
  }

  /** 0 = unchanged. */
  get newPrice(): number {
    return this.view.int53(AmendVt.newPrice);
  }

  /** 0 = unchanged. */
  get newQuantity(): number {
    return this.view.int53(AmendVt.newQuantity);
  }
}

export class MassCancelReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  /** MassCancelScope value. */
  get scope(): number {
    return this.view.u8(MassCancelVt.scope, 0);
  }

  get symbolId(): number {
    return this.view.u32(MassCancelVt.symbolId, 0);
  }

  get side(): number {
    return this.view.u8(MassCancelVt.side, 0);
  }
}

export class BatchReader {
  readonly view = new TableView();
  private readonly item = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  /** Number of items (1 .. 256 once verified). */
  get length(): number {
    return this.view.vectorLength(BatchVt.items);
  }

  /** BatchOp value of item `index` (equal to the Body value of the same message). */
  opType(index: number): number {
    return this.selectItem(index).u8(BatchItemVt.opType, 0);
  }

  /** Absolute position of item `index`'s message table: pass it to the matching reader's wrap(). */
  opPos(index: number): number {
    return this.selectItem(index).target(BatchItemVt.op);
  }

  private selectItem(index: number): TableView {
    return this.item.wrap(this.view.bytes, this.view.vectorTable(BatchVt.items, index));
  }
}

export class SubscribeReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(SubscribeVt.symbolId, 0);
  }

  /** Channel bits. */
  get channels(): number {
    return this.view.u8(SubscribeVt.channels, 0);
  }

  /** 1 = resynchronise instead of disconnecting when slow. */
  get conflate(): number {
    return this.view.u8(SubscribeVt.conflate, 0);
  }

  /** Replay trades with seq above this from the recent history; 0 = none. */
  get tradesFromSeq(): number {
    return this.view.int53(SubscribeVt.tradesFromSeq);
  }
}

export class UnsubscribeReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  get symbolId(): number {
    return this.view.u32(UnsubscribeVt.symbolId, 0);
  }

  /** Channel bits; 0 = all. */
  get channels(): number {
    return this.view.u8(UnsubscribeVt.channels, 0);
  }
}

export class CancelOnDisconnectReader {
  readonly view = new TableView();

  wrap(bytes: Uint8Array, pos: number): this {
    this.view.wrap(bytes, pos);
    return this;
  }

  /** 0 = disarmed. */
  get cancelAfterMs(): number {
    return this.view.u32(CancelOnDisconnectVt.cancelAfterMs, 0);
  }
}
