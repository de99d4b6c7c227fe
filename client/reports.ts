/**
 * The SDK's plain-object views of what the gateway sends: execution reports, gateway errors, symbols,
 * and the result type every order request resolves to. Objects are built once per received message
 * (the SDK allocates per message by design; the flyweight readers in schema/ are for hot paths).
 *
 * Numbers are the wire's: prices in ticks, quantities in lots, enums as their schema values (compare
 * with ExecType.New, OrderStatus.Filled, ... re-exported from client/index.ts). Pure functions.
 */
import { reasonName } from '../engine/ResultCodes.js';
import { sessionReasonName } from '../gateway/ws/SessionReason.js';
import {
  type ErrorReader,
  ExecType,
  type ExecutionReportReader,
  OrderStatus,
  type SymbolListReader,
  verifyReasonText,
} from '../schema/index.js';

export interface ExecutionReport {
  /** Sequence number of the event in its matching shard. */
  seq: number;
  /** ExecType value (New, Trade, Canceled, Amended, Rejected, ...). */
  execType: number;
  /** OrderStatus value after the event. */
  orderStatus: number;
  /** Exchange order id (0 when rejected before an id was assigned). */
  orderId: number;
  clientOrderId: number;
  symbolId: number;
  side: number;
  orderType: number;
  timeInForce: number;
  price: number;
  quantity: number;
  lastPrice: number;
  lastQuantity: number;
  leavesQuantity: number;
  cumQuantity: number;
  /** Reason code when execType is Rejected, CancelRejected or AmendRejected; 0 otherwise. */
  rejectReason: number;
  tradeId: number;
  liquidity: number;
  transactTimeUs: number;
  receivedTimeUs: number;
}

/** An `Error` frame: the gateway refused a request (or a whole frame) before it reached matching. */
export interface GatewayError {
  code: number;
  text: string;
  /** Client order id of the refused request, 0 when unknown. */
  clientOrderId: number;
}

export interface SymbolInfo {
  symbolId: number;
  name: string;
  /** Decimal strings, e.g. "0.01". */
  tickSize: string;
  lotSize: string;
  /** TradingStatus value. */
  status: number;
}

/** What placeOrder / cancel / amend resolve to. A reject is a result, not an exception. */
export type OrderResult = OrderAccepted | OrderRejected;

export interface OrderAccepted {
  ok: true;
  report: ExecutionReport;
}

export interface OrderRejected {
  ok: false;
  /** reject_reason of the report, or Error.code when the gateway refused the request itself. */
  code: number;
  /** Name of the code (e.g. "PRICE_OUTSIDE_BAND") or the gateway's text. */
  reason: string;
  /** The Rejected / CancelRejected / AmendRejected report; null when the gateway sent an Error. */
  report: ExecutionReport | null;
}

export function readExecutionReport(r: ExecutionReportReader): ExecutionReport {
  return {
    seq: r.seq,
    execType: r.execType,
    orderStatus: r.orderStatus,
    orderId: r.orderId,
    clientOrderId: r.clientOrderIdHi * 0x1_0000_0000 + r.clientOrderIdLo,
    symbolId: r.symbolId,
    side: r.side,
    orderType: r.orderType,
    timeInForce: r.timeInForce,
    price: r.price,
    quantity: r.quantity,
    lastPrice: r.lastPrice,
    lastQuantity: r.lastQuantity,
    leavesQuantity: r.leavesQuantity,
    cumQuantity: r.cumQuantity,
    rejectReason: r.rejectReason,
    tradeId: r.tradeId,
    liquidity: r.liquidity,
    transactTimeUs: r.transactTimeUs,
    receivedTimeUs: r.receivedTimeUs,
  };
}

export function readGatewayError(r: ErrorReader): GatewayError {
  const code = r.code;
  const text = r.text ?? (code >= 100 && code <= 199 ? verifyReasonText(code) : '');
  return { code, text, clientOrderId: r.clientOrderIdHi * 0x1_0000_0000 + r.clientOrderIdLo };
}

export function readSymbolList(r: SymbolListReader): SymbolInfo[] {
  const out: SymbolInfo[] = [];
  for (let i = 0; i < r.length; i++) {
    const s = r.symbol(i);
    out.push({
      symbolId: s.symbolId,
      name: s.name,
      tickSize: s.tickSize,
      lotSize: s.lotSize,
      status: s.status,
    });
  }
  return out;
}

/** True for the report types that refuse a request. */
export function isRejection(execType: number): boolean {
  return (
    execType === ExecType.Rejected ||
    execType === ExecType.CancelRejected ||
    execType === ExecType.AmendRejected
  );
}

/** True when the order is closed after this report (no further reports expected for it). */
export function isTerminal(orderStatus: number): boolean {
  return (
    orderStatus === OrderStatus.Filled ||
    orderStatus === OrderStatus.Canceled ||
    orderStatus === OrderStatus.Rejected ||
    orderStatus === OrderStatus.Expired
  );
}

export function accepted(report: ExecutionReport): OrderAccepted {
  return { ok: true, report };
}

export function rejected(report: ExecutionReport): OrderRejected {
  // Note: 600-699 are the gateway's own reasons (gateway/ws/SessionReason.ts), the rest the engine's.
  const code = report.rejectReason;
  return { ok: false, code, reason: sessionReasonName(code) ?? reasonName(code), report };
}

export function refused(error: GatewayError): OrderRejected {
  return { ok: false, code: error.code, reason: error.text, report: null };
}

/** "New", "Trade", ... for logs and the CLI. */
export function execTypeName(execType: number): string {
  return ExecType[execType] ?? `ExecType(${execType})`;
}

export function orderStatusName(orderStatus: number): string {
  return OrderStatus[orderStatus] ?? `OrderStatus(${orderStatus})`;
}
