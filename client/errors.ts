/**
 * Errors of the client SDK (RawWebSocket, ExchangeClient, RestClient), each with a stable `code`.
 *
 * Expected trading outcomes are never exceptions: a rejected order resolves to `{ ok: false, ... }`.
 * These classes mean the connection failed (handshake, closed, timed out), the gateway refused the
 * logon, an HTTP call failed, or the caller misused the SDK (a bad field, an unknown symbol name).
 * Every message names the offending value. Thread-safety: plain classes, usable on any thread.
 */
import { ExchangeError } from '../engine/errors.js';

export class ClientError extends ExchangeError {}

/** The caller passed something the SDK cannot send (unknown symbol, bad side, not an integer...). */
export class ClientUsageError extends ClientError {
  constructor(message: string) {
    super('EXC_ERR_CLIENT_USAGE', message);
  }
}

/** The WebSocket opening handshake failed: HTTP status other than 101, or bad upgrade headers. */
export class HandshakeError extends ClientError {
  /** HTTP status of the answer, or 0 when none arrived (timeout, connection closed). */
  readonly status: number;
  constructor(message: string, status = 0) {
    super('EXC_ERR_WS_HANDSHAKE', message);
    this.status = status;
  }
}

/** The connection is not open, or closed while the request was pending. */
export class ConnectionClosedError extends ClientError {
  constructor(message: string) {
    super('EXC_ERR_CLIENT_CLOSED', message);
  }
}

/** No answer within the deadline. */
export class RequestTimeoutError extends ClientError {
  constructor(message: string) {
    super('EXC_ERR_CLIENT_TIMEOUT', message);
  }
}

/** The gateway answered the logon with LogonReject. */
export class LogonRejectedError extends ClientError {
  /** LogonReject.code. */
  readonly rejectCode: number;
  constructor(rejectCode: number, text: string) {
    super('EXC_ERR_LOGON_REJECTED', `logon rejected (code ${rejectCode}): ${text}`);
    this.rejectCode = rejectCode;
  }
}

/** A REST call answered with a non-2xx status; carries the exchange's `{ error: { code, message } }`. */
export class RestError extends ClientError {
  readonly status: number;
  /** `error.code` of the JSON body, or `HTTP_<status>` when the body had none. */
  readonly errorCode: string;
  /** `error.message` of the JSON body (or the status text): what the server said, unprefixed. */
  readonly errorMessage: string;
  readonly body: unknown;
  constructor(status: number, errorCode: string, message: string, body: unknown) {
    super('EXC_ERR_HTTP', `HTTP ${status} ${errorCode}: ${message}`);
    this.status = status;
    this.errorCode = errorCode;
    this.errorMessage = message;
    this.body = body;
  }
}
