/**
 * Engine event records -> ExecutionReport fields (protocol values), and the code mappings between the
 * protocol's enums (schema/exchange.fbs) and the engine's (engine/records/OrderCodes.ts).
 *
 *   ACCEPTED  -> New (PendingTrigger for stops)      FILL -> Trade, one per side (maker, taker)
 *   CANCELLED -> Canceled                            EXPIRED -> Expired
 *   AMENDED   -> Amended ("replaced")                TRIGGERED -> Triggered
 *   REJECTED  -> Rejected / CancelRejected / AmendRejected by the rejected command's type
 *   SELF_TRADE_PREVENTED (DECREMENT) -> Restated, one per side
 * Fills take the order's own fields (limit price, quantity, type, tif, cumulative quantity) from the
 * OrderStore, which has applied the event before any listener sees it.
 * Called by OrderEntryGateway for every event. Thread-safety: main thread only (fills a caller-owned
 * ExecutionReportFields in place; no allocation).
 */
import * as C from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { OrderType as EOrderType, StpMode as EStp } from '../../engine/records/OrderCodes.js';
import {
  ExecType,
  type ExecutionReportFields,
  Liquidity,
  OrderStatus,
  StpMode,
  TimeInForce,
} from '../../schema/index.js';
import type { OrderStore } from '../orders/OrderStore.js';

const TWO_32 = 0x1_0000_0000;

/** Protocol TimeInForce (GTC 0 .. GTD 3) -> engine (GTC 1 .. GTD 4). */
export function engineTimeInForce(protocolTif: number): number {
  return protocolTif + 1;
}

/** Engine TimeInForce -> protocol; 0 (no order) stays GTC. */
export function protocolTimeInForce(engineTif: number): number {
  return engineTif > 0 ? engineTif - 1 : TimeInForce.GTC;
}

/**
 * Protocol StpMode -> engine. The engine always prevents self-trades (it has no "None"), so protocol
 * None (0, also the default of an absent field) means the engine default EXPIRE_TAKER; the others
 * shift by one (ExpireTaker 1 -> 0, ExpireMaker 2 -> 1, ExpireBoth 3 -> 2, Decrement 4 -> 3).
 */
export function engineStpMode(protocolStp: number): number {
  return protocolStp === StpMode.None ? EStp.EXPIRE_TAKER : protocolStp - 1;
}

/** Splits a client order id (0 .. 2^53-1) into the two uint32 halves the encoder takes. */
export function setClientOrderId(r: ExecutionReportFields, cid: number): void {
  const hi = Math.floor(cid / TWO_32);
  r.clientOrderIdHi = hi;
  r.clientOrderIdLo = cid - hi * TWO_32;
}

/** Sanitises an engine float64 for the wire (an integer 0 .. 2^53-1; anything else becomes 0). */
function n(v: number): number {
  return Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

function openStatus(filled: number): number {
  return filled > 0 ? OrderStatus.PartiallyFilled : OrderStatus.New;
}

/** Fills `r` from an ORDER-body event (ACCEPTED, CANCELLED, EXPIRED, AMENDED, TRIGGERED). */
export function orderEventReport(
  r: ExecutionReportFields,
  v: DataView,
  o: number,
  execType: number,
  status: number,
): void {
  const filled = n(E.readF64(v, o, E.FILLED_QTY));
  r.seq = n(E.readSeq(v, o));
  r.execType = execType;
  r.orderStatus = status;
  r.orderId = n(E.readF64(v, o, E.ORDER_ID));
  setClientOrderId(r, n(E.readF64(v, o, E.CLIENT_ORDER_ID)));
  r.symbolId = E.readSymbolId(v, o);
  r.side = E.readSide(v, o);
  r.orderType = E.readU8(v, o, E.ORDER_TYPE);
  r.timeInForce = protocolTimeInForce(E.readU8(v, o, E.TIME_IN_FORCE));
  r.price = n(E.readF64(v, o, E.PRICE));
  r.quantity = n(E.readF64(v, o, E.QUANTITY));
  r.lastPrice = 0;
  r.lastQuantity = 0;
  r.leavesQuantity = n(E.readF64(v, o, E.LEAVES_QTY));
  r.cumQuantity = filled;
  r.rejectReason = 0;
  r.tradeId = 0;
  r.liquidity = Liquidity.None;
  r.transactTimeUs = n(E.readTimestamp(v, o));
  r.receivedTimeUs = r.transactTimeUs;
}

/**
 * Fills `r` for an ORDER-body event; returns false for event types that are not reported per order
 * (FILL and STP are two-sided: see sideReport; market data and set-up events are not reports).
 */
export function orderReport(r: ExecutionReportFields, v: DataView, o: number, type: number): boolean {
  switch (type) {
    case E.EventType.ACCEPTED: {
      const t = E.readU8(v, o, E.ORDER_TYPE);
      const stop = t === EOrderType.STOP || t === EOrderType.STOP_LIMIT;
      orderEventReport(r, v, o, ExecType.New, stop ? OrderStatus.PendingTrigger : OrderStatus.New);
      return true;
    }
    case E.EventType.CANCELLED:
      orderEventReport(r, v, o, ExecType.Canceled, OrderStatus.Canceled);
      return true;
    case E.EventType.EXPIRED:
      orderEventReport(r, v, o, ExecType.Expired, OrderStatus.Expired);
      return true;
    case E.EventType.AMENDED:
      orderEventReport(r, v, o, ExecType.Amended, openStatus(E.readF64(v, o, E.FILLED_QTY)));
      return true;
    case E.EventType.TRIGGERED:
      orderEventReport(r, v, o, ExecType.Triggered, openStatus(E.readF64(v, o, E.FILLED_QTY)));
      return true;
    case E.EventType.REJECTED: {
      const cmd = E.readU8(v, o, E.COMMAND_TYPE);
      const exec =
        cmd === C.CommandType.CANCEL || cmd === C.CommandType.CANCEL_BY_CLIENT_ID
          ? ExecType.CancelRejected
          : cmd === C.CommandType.AMEND || cmd === C.CommandType.AMEND_BY_CLIENT_ID
            ? ExecType.AmendRejected
            : ExecType.Rejected;
      orderEventReport(r, v, o, exec, OrderStatus.Rejected);
      r.rejectReason = E.readReason(v, o);
      // Note: REJECTED copies the command's bytes verbatim; out-of-domain enum bytes are not echoed.
      if (r.side > 2) r.side = 0;
      if (r.orderType > 4) r.orderType = 0;
      if (r.timeInForce > TimeInForce.GTD) r.timeInForce = TimeInForce.GTC;
      r.leavesQuantity = 0;
      r.cumQuantity = 0;
      return true;
    }
    default:
      return false;
  }
}

/**
 * Fills `r` with one side of a FILL (exec Trade) or a DECREMENT self-trade prevention (exec Restated):
 * `maker` selects the side. Returns the account the report belongs to.
 */
export function sideReport(
  r: ExecutionReportFields,
  v: DataView,
  o: number,
  isFill: boolean,
  maker: boolean,
  store: OrderStore,
): number {
  const orderId = n(E.readF64(v, o, maker ? E.MAKER_ORDER_ID : E.TAKER_ORDER_ID));
  const leaves = n(E.readF64(v, o, maker ? E.MAKER_LEAVES_QTY : E.TAKER_LEAVES_QTY));
  const takerSide = E.readSide(v, o);
  const rec = store.get(orderId);
  r.seq = n(E.readSeq(v, o));
  r.orderId = orderId;
  setClientOrderId(r, n(E.readF64(v, o, maker ? E.MAKER_CLIENT_ORDER_ID : E.TAKER_CLIENT_ORDER_ID)));
  r.symbolId = E.readSymbolId(v, o);
  r.side = maker ? 3 - takerSide : takerSide;
  r.orderType = rec === undefined ? 0 : rec.orderType;
  r.timeInForce = rec === undefined ? TimeInForce.GTC : protocolTimeInForce(rec.timeInForce);
  r.price = rec === undefined ? 0 : n(rec.price);
  r.cumQuantity = rec === undefined ? 0 : n(rec.filledQty);
  r.quantity = rec === undefined ? leaves + r.cumQuantity : n(rec.quantity);
  r.leavesQuantity = leaves;
  r.rejectReason = 0;
  r.liquidity = maker ? Liquidity.Maker : Liquidity.Taker;
  r.transactTimeUs = n(E.readTimestamp(v, o));
  r.receivedTimeUs = r.transactTimeUs;
  if (isFill) {
    r.execType = ExecType.Trade;
    r.orderStatus = leaves === 0 ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
    r.lastPrice = n(E.readF64(v, o, E.MATCH_PRICE));
    r.lastQuantity = n(E.readF64(v, o, E.MATCH_QTY));
    r.tradeId = n(E.readF64(v, o, E.TRADE_ID));
  } else {
    r.execType = ExecType.Restated;
    r.orderStatus = openStatus(r.cumQuantity);
    r.lastPrice = 0;
    r.lastQuantity = 0;
    r.tradeId = 0;
  }
  return E.readU32(v, o, maker ? E.MAKER_ACCOUNT_ID : E.TAKER_ACCOUNT_ID);
}

/** True for a SELF_TRADE_PREVENTED event that changed both orders' quantities (DECREMENT). */
export function isDecrement(v: DataView, o: number): boolean {
  return E.readU8(v, o, E.STP_EVENT_MODE) === EStp.DECREMENT;
}
