/**
 * Fills command records (engine/records/CommandRecord.ts) from validated integer fields, stamping
 * each with the gateway clock (microseconds since the epoch) and a fresh correlation id.
 *
 * One writer serves the whole gateway (REST and WebSocket sessions), so correlation ids are unique
 * per process: the events a command causes echo its correlation id and session id, which is how
 * `PendingRequests` finds the request waiting for them and how a session finds its reports.
 * The writer never allocates: fields come in a caller-owned `NewOrderFields` (a session can keep one
 * and refill it) or as positional numbers, and the record is written in place in the ring's view.
 * Validation is the caller's job (REST: gateway/rest/parseNewOrder.ts; WS: the frame verifier); the
 * engine re-checks everything and rejects with a reason code, so a bad value is never fatal.
 * Thread-safety: main thread only (it is the rings' producer).
 */
import * as C from '../../engine/records/CommandRecord.js';
import { nowMicros } from './clock.js';

/** The fields of a NEW_ORDER in engine units (ticks, lots, microseconds). Zero = not set. */
export interface NewOrderFields {
  symbolId: number;
  side: number;
  orderType: number;
  timeInForce: number;
  flags: number;
  stpMode: number;
  tradeGroup: number;
  clientOrderId: number;
  price: number;
  quantity: number;
  stopPrice: number;
  displayQty: number;
  minQty: number;
  expireTime: number;
}

/** A zeroed NewOrderFields, for callers that keep one and refill it per order. */
export function emptyNewOrder(): NewOrderFields {
  return {
    symbolId: 0,
    side: 0,
    orderType: 0,
    timeInForce: 0,
    flags: 0,
    stpMode: 0,
    tradeGroup: 0,
    clientOrderId: 0,
    price: 0,
    quantity: 0,
    stopPrice: 0,
    displayQty: 0,
    minQty: 0,
    expireTime: 0,
  };
}

export class CommandWriter {
  private correlation: number;
  /** Timestamp written into the latest record. */
  lastTimestamp: number;
  private readonly clock: () => number;

  constructor(clock: () => number = nowMicros) {
    this.clock = clock;
    this.correlation = 0;
    this.lastTimestamp = 0;
  }

  /** Writes a NEW_ORDER at `view[off]`; returns its correlation id. */
  newOrder(view: DataView, off: number, accountId: number, sessionId: number, f: NewOrderFields): number {
    const id = this.header(
      view,
      off,
      C.CommandType.NEW_ORDER,
      f.symbolId,
      accountId,
      sessionId,
      f.clientOrderId,
    );
    C.writeNewOrder(
      view,
      off,
      f.side,
      f.orderType,
      f.timeInForce,
      f.flags,
      f.stpMode,
      f.tradeGroup,
      f.price,
      f.quantity,
      f.stopPrice,
      f.displayQty,
      f.minQty,
      f.expireTime,
    );
    return id;
  }

  /** Writes a CANCEL of `orderId` (which must be on `symbolId` and belong to `accountId`). */
  cancel(
    view: DataView,
    off: number,
    accountId: number,
    sessionId: number,
    symbolId: number,
    orderId: number,
  ): number {
    const id = this.header(view, off, C.CommandType.CANCEL, symbolId, accountId, sessionId, 0);
    C.writeCancel(view, off, orderId);
    return id;
  }

  /** Writes a CANCEL_BY_CLIENT_ID of the open order with `clientOrderId` on `symbolId`. */
  cancelByClientId(
    view: DataView,
    off: number,
    accountId: number,
    sessionId: number,
    symbolId: number,
    clientOrderId: number,
  ): number {
    return this.header(
      view,
      off,
      C.CommandType.CANCEL_BY_CLIENT_ID,
      symbolId,
      accountId,
      sessionId,
      clientOrderId,
    );
  }

  /** Writes an AMEND: new price in ticks and new total quantity (filled included) in lots. */
  amend(
    view: DataView,
    off: number,
    accountId: number,
    sessionId: number,
    symbolId: number,
    orderId: number,
    newPrice: number,
    newQuantity: number,
  ): number {
    const id = this.header(view, off, C.CommandType.AMEND, symbolId, accountId, sessionId, 0);
    C.writeAmend(view, off, orderId, newPrice, newQuantity);
    return id;
  }

  /**
   * Writes an AMEND_BY_CLIENT_ID of the open order with `clientOrderId` on `symbolId`: new price and
   * new total quantity, each 0 for "unchanged" (resolved by the engine, in command order).
   */
  amendByClientId(
    view: DataView,
    off: number,
    accountId: number,
    sessionId: number,
    symbolId: number,
    clientOrderId: number,
    newPrice: number,
    newQuantity: number,
  ): number {
    const id = this.header(
      view,
      off,
      C.CommandType.AMEND_BY_CLIENT_ID,
      symbolId,
      accountId,
      sessionId,
      clientOrderId,
    );
    C.writeAmend(view, off, 0, newPrice, newQuantity);
    return id;
  }

  /** Writes a MASS_CANCEL of the account's open orders on `symbolId` (0 = all) and `side` (0 = both). */
  massCancel(
    view: DataView,
    off: number,
    accountId: number,
    sessionId: number,
    symbolId: number,
    side: number,
  ): number {
    const id = this.header(view, off, C.CommandType.MASS_CANCEL, symbolId, accountId, sessionId, 0);
    C.writeMassCancel(view, off, side);
    return id;
  }

  private header(
    view: DataView,
    off: number,
    type: number,
    symbolId: number,
    accountId: number,
    sessionId: number,
    clientOrderId: number,
  ): number {
    const id = ++this.correlation;
    const ts = this.clock();
    this.lastTimestamp = ts;
    C.writeHeader(view, off, type, symbolId, accountId, sessionId, ts, id, clientOrderId);
    return id;
  }
}
