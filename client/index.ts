// Public entry of the client SDK (docs/client.md):
//
//   import { ExchangeClient, RestClient, ExecType, OrderStatus } from './client/index.js';
//
// ExchangeClient (binary WebSocket order entry), RestClient (JSON REST), RawWebSocket (the fast
// WebSocket client underneath, for load generators), the report types, and the schema enums a caller
// compares report fields with. Not thread-safe: one client per thread.

export {
  ExecType,
  Liquidity,
  OrderStatus,
  OrderType,
  Side,
  StpMode,
  TimeInForce,
  TradingStatus,
} from '../schema/index.js';
export {
  type AmendOrder,
  type Amount,
  type ClientEvents,
  type ConnectOptions,
  type DisconnectInfo,
  ExchangeClient,
  type MassCancelFilter,
  type MassCancelResult,
  OrderBatch,
  type OrderRef,
  type OrderTypeName,
  type PlaceOrder,
  type ReconnectOptions,
  type RequestOptions,
  type SideName,
  type StpName,
  type SymbolRef,
  type TimeInForceName,
  wsUrl,
} from './ExchangeClient.js';
export {
  ClientError,
  ClientUsageError,
  ConnectionClosedError,
  HandshakeError,
  LogonRejectedError,
  RequestTimeoutError,
  RestError,
} from './errors.js';
export {
  type Bbo,
  type ChannelName,
  LocalBook,
  MarketDataClient,
  type MarketDataConnectOptions,
  type MdSymbol,
  type PublicTrade,
} from './MarketDataClient.js';
export { type JsonValue, RestClient, type RestClientOptions, type RestOrderRequest } from './RestClient.js';
export {
  type ExecutionReport,
  execTypeName,
  type GatewayError,
  type OrderAccepted,
  type OrderRejected,
  type OrderResult,
  orderStatusName,
  type SymbolInfo,
} from './reports.js';
export { CloseCode, MaskSource, maskedFrameSize, Opcode, writeMaskedFrame } from './ws/frame.js';
export { RawWebSocket, type RawWebSocketOptions, ReadyState, SendResult } from './ws/RawWebSocket.js';
