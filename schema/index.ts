// Public entry of the protocol package: what the gateway and the client SDK import.
//
//   import { FrameVerifier, Direction, VerifyResult, MessageReader, NewOrderReader, Body } from '../schema/index.js';
//
// Everything here is documented in docs/protocol.md. Readers, encoders and verifiers are not
// thread-safe: create one set per thread.

export { BookChecksum, CHECKSUM_DEPTH, incrementMantissa } from './codec/book-checksum.js';
export { ClientEncoder, NewOrderFields } from './codec/client-encoder.js';
export * from './codec/client-readers.js';
export {
  BookOrderColumns,
  ChannelSeqColumns,
  ExecutionReportFields,
  GatewayEncoder,
  LevelColumns,
  OrderEventFields,
  type SymbolInfoFields,
} from './codec/gateway-encoder.js';
export * from './codec/gateway-readers.js';
export { FILE_IDENTIFIER, FIRST_GATEWAY_BODY, MAX_BATCH_ITEMS, SCHEMA_VERSION } from './codec/protocol.js';
export { TableView } from './codec/table-view.js';
export {
  formatUint64,
  isSafeWireInt,
  MAX_SAFE_INT64,
  readSafeInt64,
  readSafeUint64,
  UNSAFE_INT64,
} from './codec/wire.js';
export { BatchOp } from './generated/exchange/v1/batch-op.js';
export { Body } from './generated/exchange/v1/body.js';
export { Channel } from './generated/exchange/v1/channel.js';
export { ExecType } from './generated/exchange/v1/exec-type.js';
export { Liquidity } from './generated/exchange/v1/liquidity.js';
export { MassCancelScope } from './generated/exchange/v1/mass-cancel-scope.js';
export { OrderEventKind } from './generated/exchange/v1/order-event-kind.js';
export { OrderFlags } from './generated/exchange/v1/order-flags.js';
export { OrderStatus } from './generated/exchange/v1/order-status.js';
export { OrderType } from './generated/exchange/v1/order-type.js';
export { SchemaVersion } from './generated/exchange/v1/schema-version.js';
export { Side } from './generated/exchange/v1/side.js';
export { StpMode } from './generated/exchange/v1/stp-mode.js';
export { TimeInForce } from './generated/exchange/v1/time-in-force.js';
export { TradingStatus } from './generated/exchange/v1/trading-status.js';
export { SchemaError } from './schema-error.js';
export {
  CLIENT_FRAME_LIMITS,
  Direction,
  type DirectionValue,
  FrameVerifier,
  GATEWAY_FRAME_LIMITS,
  MIN_FRAME_BYTES,
  type VerifierLimits,
  type VerifyCode,
  VerifyResult,
  verifyReasonText,
  verifyReasonUtf8,
} from './verify.js';
