/**
 * One WebSocket order-entry session: the uWebSockets.js user data of a connection, from upgrade to
 * close. Holds who the session is (account, session id), whether it is logged on, its rate limiter,
 * its cancel-on-disconnect / dead-man settings, and the execution reports queued for it during the
 * current event batch.
 *
 * Created in the upgrade handler (before the socket exists); `ws` is set in `open` and cleared in
 * `close`. `closed` is the one flag every asynchronous path checks before touching the socket: after
 * close nothing may call the ws (uWS would crash the process). Thread-safety: main thread only.
 */
import type { WebSocket } from 'uWebSockets.js';
import { writeU32 } from '../../schema/codec/wire.js';
import { TokenBucket } from './TokenBucket.js';

export const LogonState = {
  /** No token yet: only a Logon frame is accepted. */
  NONE: 0,
  /** A Logon's token is being verified (asynchronously). */
  PENDING: 1,
  LOGGED_ON: 2,
} as const;

/**
 * Queued outgoing frames of one session: bytes back to back, with their ends. `prefixed` (a session
 * that asked for batched reports): each frame is preceded by its length, u32 little-endian, so a run
 * of them is sent as one WebSocket message (docs/protocol.md, "Batched reports").
 */
export class OutQueue {
  bytes: Uint8Array;
  ends: Int32Array;
  count = 0;
  used = 0;
  prefixed = false;

  constructor() {
    this.bytes = new Uint8Array(4096);
    this.ends = new Int32Array(64);
  }

  push(frame: Uint8Array): void {
    const prefix = this.prefixed ? 4 : 0;
    const need = this.used + prefix + frame.length;
    if (need > this.bytes.length) {
      const b = new Uint8Array(Math.max(need, this.bytes.length * 2));
      b.set(this.bytes.subarray(0, this.used));
      this.bytes = b;
    }
    if (this.count === this.ends.length) {
      const e = new Int32Array(this.ends.length * 2);
      e.set(this.ends);
      this.ends = e;
    }
    const at = this.used;
    if (prefix !== 0) writeU32(this.bytes, at, frame.length);
    this.bytes.set(frame, at + prefix);
    this.used = need;
    this.ends[this.count++] = need;
  }

  clear(): void {
    this.count = 0;
    this.used = 0;
  }
}

export class OrderEntrySession {
  ws: WebSocket<OrderEntrySession> | null;
  /** Set in `close`; after that the socket must not be touched. */
  closed: boolean;
  logon: number;
  /** 0 until logged on. */
  accountId: number;
  /** The u32 session id stamped on this session's commands (echoed by their events). */
  readonly sessionId: number;
  readonly remote: string;
  readonly bucket: TokenBucket;
  /**
   * ?batch_reports: every message to the client carries length-prefixed frames (see OutQueue, whose
   * `prefixed` is set with it). A plain field, not a getter over `out`: with this uWS.js build a getter
   * on the class is not seen through `getUserData()` (tried: the batched-reports test failed), so the
   * user data keeps to plain own properties.
   */
  batchReports: boolean;
  /** Cancel the account's orders when this session closes (CancelOnDisconnect > 0 or ?cancel_on_disconnect). */
  cancelOnDisconnect: boolean;
  /** Dead-man switch: cancel everything when no frame arrived for this long (0 = off). */
  cancelAfterMs: number;
  /** performance.now() of the last verified frame from the client. */
  lastFrameAt: number;
  /** Heartbeat interval granted in the LogonAck. */
  heartbeatMs: number;
  /** Seq of the last ExecutionReport sent (Heartbeat.last_seq). */
  lastSeq: number;
  /** Set when a send reported backpressure; cleared on drain once the buffer is low again. */
  backpressured: boolean;
  /** Reports queued during the current event batch (flushed in one corked write). */
  readonly out: OutQueue;
  queued: boolean;

  constructor(sessionId: number, remote: string, rate: number, burst: number, now: number) {
    this.ws = null;
    this.closed = false;
    this.logon = LogonState.NONE;
    this.accountId = 0;
    this.sessionId = sessionId;
    this.remote = remote;
    this.bucket = new TokenBucket(rate, burst, now);
    this.batchReports = false;
    this.cancelOnDisconnect = false;
    this.cancelAfterMs = 0;
    this.lastFrameAt = now;
    this.heartbeatMs = 0;
    this.lastSeq = 0;
    this.backpressured = false;
    this.out = new OutQueue();
    this.queued = false;
  }
}
