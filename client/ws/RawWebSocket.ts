/**
 * RawWebSocket: a small, fast RFC 6455 client on node:net (node:tls for wss:), built for millions of
 * small binary frames per second. Used by ExchangeClient and the WebSocket load generator.
 *
 * Design (docs/client.md, "The raw WebSocket client"):
 * - Output is coalesced: send() masks the frame straight into a preallocated output chunk (64 KiB by
 *   default) and one socket.write per chunk goes out at the end of the current tick (a microtask), or
 *   at once when the chunk is full. Chunks return to a small free list when their write completes, so
 *   the steady state allocates nothing per frame. Masking keys come from a pool of random bytes
 *   (MaskSource), a fresh key per frame, no crypto call per frame.
 * - writeRaw() copies frames the caller masked in advance (the load generator's pre-encoded frames).
 * - Input is parsed in place (FrameParser): onMessage gets (bytes, start, end, isBinary), a view valid
 *   during the call only: copy what you keep.
 * - Backpressure: send() returns SendResult.BACK_PRESSURED once socket.write has returned false (the
 *   frame is still queued); onDrain fires when the socket drained. Nothing is ever dropped silently.
 * - setNoDelay(true): Nagle would hold small frames back for up to 40 ms behind delayed ACKs.
 * - Pings are answered with pongs automatically; close is the RFC handshake (echo the server's code,
 *   or send ours and wait up to closeTimeoutMs for the server's), then the TCP connection ends.
 *
 * Callbacks are plain fields (set them right after `await RawWebSocket.connect()`: bytes that arrived
 * with the handshake answer are delivered on the next event-loop turn). Not thread-safe: one
 * connection belongs to the thread that created it.
 */
import { randomBytes } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ClientUsageError, ConnectionClosedError, HandshakeError } from '../errors.js';
import { FrameParser, type FrameSink } from './FrameParser.js';
import {
  acceptKey,
  CloseCode,
  FIN_BINARY,
  FIN_CLOSE,
  FIN_PING,
  FIN_PONG,
  FIN_TEXT,
  MAX_CONTROL_PAYLOAD,
  MaskSource,
  maskedFrameSize,
  Opcode,
  writeMaskedFrame,
} from './frame.js';

/** Results of send()/writeRaw()/ping(): numeric codes, never exceptions, on the hot path. */
export const SendResult = {
  /** Queued; the socket is not back-pressured. */
  OK: 0,
  /** Queued, but the socket's buffer is over its high-water mark: wait for onDrain. */
  BACK_PRESSURED: -2,
  /** Not sent: the connection is not open. */
  CLOSED: -3,
} as const;

export const ReadyState = { OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

export interface RawWebSocketOptions {
  /** Extra request headers for the upgrade, e.g. `{ authorization: 'Bearer <jwt>' }`. */
  headers?: Readonly<Record<string, string>>;
  /** Give up the opening handshake after this long. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** After close() (or the server's close frame), destroy the socket if it is not closed by then. Default 2 000 ms. */
  closeTimeoutMs?: number;
  /** Largest message accepted from the server (1009 above). Default 16 MiB. */
  maxMessageBytes?: number;
  /** Size of an output chunk: frames are coalesced into writes of up to this size. Default 64 KiB. */
  chunkBytes?: number;
  /** TLS options for wss: (`rejectUnauthorized`, `ca`, ...). */
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer };
}

const MAX_HANDSHAKE_BYTES = 16 * 1024;
const FREE_CHUNKS = 8;
const EMPTY = new Uint8Array(0);
const UTF8 = new TextDecoder('utf-8');
const noop = (): void => {};

export class RawWebSocket implements FrameSink {
  /** A data message: `bytes[start .. end)`, valid during the call only. */
  onMessage: (bytes: Uint8Array, start: number, end: number, isBinary: boolean) => void = noop;
  /** A ping from the server (already answered with a pong). */
  onPing: (bytes: Uint8Array, start: number, end: number) => void = noop;
  onPong: (bytes: Uint8Array, start: number, end: number) => void = noop;
  /** The socket drained after send() returned BACK_PRESSURED. */
  onDrain: () => void = noop;
  /**
   * Called once when the connection is gone, with the code and reason of the server's close frame;
   * after a protocol error of the server, the code the client sent (1002, 1009); 1006 when the TCP
   * connection ended without a close frame.
   */
  onClose: (code: number, reason: string) => void = noop;
  /** A socket error or a protocol error of the server (onClose follows). */
  onError: (err: Error) => void = noop;

  readonly url: string;
  private readonly socket: Socket;
  private readonly parser: FrameParser;
  private readonly masks = new MaskSource();
  private readonly chunkBytes: number;
  private readonly closeTimeoutMs: number;
  private state: number = ReadyState.OPEN;
  private out: Buffer;
  private outLen = 0;
  private readonly free: Buffer[] = [];
  private readonly inFlight: Buffer[] = [];
  private flushScheduled = false;
  private needDrain = false;
  private closeCode: number = CloseCode.ABNORMAL;
  private closeReason = '';
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly flushTask: () => void;
  private readonly onWritten: (err?: Error | null) => void;

  private constructor(url: string, socket: Socket, options: RawWebSocketOptions) {
    this.url = url;
    this.socket = socket;
    this.chunkBytes = positiveInt(options.chunkBytes ?? 64 * 1024, 'chunkBytes');
    this.closeTimeoutMs = positiveInt(options.closeTimeoutMs ?? 2000, 'closeTimeoutMs');
    this.parser = new FrameParser(this, options.maxMessageBytes);
    this.out = Buffer.allocUnsafe(this.chunkBytes);
    this.flushTask = () => {
      this.flushScheduled = false;
      this.flush();
    };
    this.onWritten = () => {
      const chunk = this.inFlight.shift();
      if (chunk !== undefined && chunk.length === this.chunkBytes && this.free.length < FREE_CHUNKS) {
        this.free.push(chunk);
      }
    };
    socket.on('data', (chunk: Buffer) => this.parser.push(chunk));
    socket.on('drain', () => {
      this.needDrain = false;
      if (this.state === ReadyState.OPEN) this.onDrain();
    });
    socket.on('error', (err: Error) => this.onError(err));
    socket.on('close', () => this.closed());
  }

  /**
   * Opens a connection: TCP (or TLS for wss:), the HTTP/1.1 upgrade, and the Sec-WebSocket-Accept
   * check. Rejects with HandshakeError (status, or 0), or the socket error (e.g. ECONNREFUSED).
   */
  static connect(url: string | URL, options: RawWebSocketOptions = {}): Promise<RawWebSocket> {
    const u = typeof url === 'string' ? new URL(url) : url;
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
      return Promise.reject(new HandshakeError(`not a ws:// or wss:// URL: ${u.href}`));
    }
    const secure = u.protocol === 'wss:';
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
    const key = randomBytes(16).toString('base64');
    const timeoutMs = positiveInt(options.handshakeTimeoutMs ?? 10_000, 'handshakeTimeoutMs');
    const socket: Socket = secure
      ? tlsConnect({ host, port, servername: isIP(host) === 0 ? host : undefined, ...options.tls })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    const lines = [
      `GET ${u.pathname}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
    ];
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
        socket.destroy();
        return Promise.reject(new HandshakeError(`header ${JSON.stringify(name)} contains CR or LF`));
      }
      lines.push(`${name}: ${value}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);

    return new Promise<RawWebSocket>((resolve, reject) => {
      let head: Buffer = Buffer.alloc(0);
      const timer = setTimeout(
        () => fail(new HandshakeError(`no handshake answer from ${u.href} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        socket.off('close', onClose);
      };
      function fail(err: Error): void {
        cleanup();
        socket.destroy();
        reject(err);
      }
      const onClose = () => fail(new HandshakeError(`connection to ${u.href} closed during the handshake`));
      const onData = (chunk: Buffer) => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const endOfHead = head.indexOf('\r\n\r\n');
        if (endOfHead < 0) {
          if (head.length > MAX_HANDSHAKE_BYTES) fail(new HandshakeError('handshake answer too long'));
          return;
        }
        const problem = checkUpgrade(head.subarray(0, endOfHead).toString('latin1'), key, u.href);
        if (problem !== null) {
          fail(problem);
          return;
        }
        cleanup();
        socket.pause();
        const ws = new RawWebSocket(u.href, socket, options);
        const rest = head.subarray(endOfHead + 4);
        // Note: frames that came with the answer wait one turn, so the caller can set its callbacks.
        setImmediate(() => {
          if (rest.length > 0) ws.parser.push(rest);
          socket.resume();
        });
        resolve(ws);
      };
      socket.on('data', onData);
      socket.on('error', fail);
      socket.on('close', onClose);
    });
  }

  get readyState(): number {
    return this.state;
  }

  /** Bytes queued but not yet handed to the kernel. */
  /** Stops reading from the socket (the peer's sends back up); resume() reads again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  get bufferedAmount(): number {
    return this.outLen + this.socket.writableLength;
  }

  /** Sends one message (binary by default; text frames carry UTF-8 the caller encoded). */
  send(payload: Uint8Array, isBinary = true): number {
    if (this.state !== ReadyState.OPEN) return SendResult.CLOSED;
    this.frame(isBinary ? FIN_BINARY : FIN_TEXT, payload, 0, payload.length);
    return this.needDrain ? SendResult.BACK_PRESSURED : SendResult.OK;
  }

  /**
   * Sends bytes that already are complete, masked client frames (see writeMaskedFrame):
   * `bytes[start .. end)` is copied as is.
   */
  writeRaw(bytes: Uint8Array, start: number, end: number): number {
    if (this.state !== ReadyState.OPEN) return SendResult.CLOSED;
    const n = end - start;
    if (this.outLen + n > this.out.length) {
      this.flush();
      if (n > this.out.length) {
        this.writeChunk(Buffer.from(bytes.subarray(start, end)), n);
        return this.needDrain ? SendResult.BACK_PRESSURED : SendResult.OK;
      }
    }
    this.out.set(bytes.subarray(start, end), this.outLen);
    this.outLen += n;
    this.scheduleFlush();
    return this.needDrain ? SendResult.BACK_PRESSURED : SendResult.OK;
  }

  ping(payload: Uint8Array = EMPTY): number {
    if (this.state !== ReadyState.OPEN) return SendResult.CLOSED;
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new ClientUsageError(`a ping payload is at most 125 bytes, got ${payload.length}`);
    }
    this.frame(FIN_PING, payload, 0, payload.length);
    return this.needDrain ? SendResult.BACK_PRESSURED : SendResult.OK;
  }

  /** Starts the close handshake (code 1000 by default); onClose fires when the connection is gone. */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.state !== ReadyState.OPEN) return;
    const text = Buffer.from(reason, 'utf8');
    if (text.length > MAX_CONTROL_PAYLOAD - 2) {
      throw new ClientUsageError(`a close reason is at most 123 bytes, got ${text.length}`);
    }
    if (!Number.isInteger(code) || code < 1000 || code > 4999 || code === 1005 || code === 1006) {
      throw new ClientUsageError(`close code must be 1000..4999 (not 1005/1006), got ${code}`);
    }
    this.sendClose(code, text);
  }

  /** Drops the connection at once, without the close handshake. */
  terminate(): void {
    this.parser.stop();
    this.socket.destroy();
  }

  /** Hands the queued frames to the socket now (send() does this by itself at the end of the tick). */
  flush(): void {
    const n = this.outLen;
    if (n === 0 || this.state === ReadyState.CLOSED) return;
    const chunk = this.out;
    this.outLen = 0;
    this.out = this.free.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.writeChunk(chunk, n);
  }

  // --- FrameSink (called by the parser) ---

  /** @internal */
  message(bytes: Uint8Array, start: number, end: number, isBinary: boolean): void {
    if (this.state === ReadyState.OPEN) this.onMessage(bytes, start, end, isBinary);
  }

  /** @internal */
  control(opcode: number, bytes: Uint8Array, start: number, end: number): void {
    if (opcode === Opcode.PING) {
      if (this.state === ReadyState.OPEN) this.frame(FIN_PONG, bytes, start, end - start);
      this.onPing(bytes, start, end);
    } else if (opcode === Opcode.PONG) {
      this.onPong(bytes, start, end);
    } else {
      this.serverClose(bytes, start, end);
    }
  }

  /** @internal */
  fail(code: number, reason: string): void {
    this.onError(new ConnectionClosedError(`WebSocket protocol error from ${this.url}: ${reason}`));
    if (this.state === ReadyState.OPEN) this.sendClose(code, Buffer.from(reason.slice(0, 100), 'utf8'));
    this.closeCode = code;
    this.closeReason = reason;
    this.socket.end();
  }

  // --- internals ---

  private frame(b0: number, payload: Uint8Array, start: number, length: number): void {
    const size = maskedFrameSize(length);
    if (this.outLen + size > this.out.length) {
      this.flush();
      if (size > this.out.length) {
        const big = Buffer.allocUnsafe(size);
        const m = this.masks.next();
        writeMaskedFrame(big, 0, b0, payload, start, length, this.masks.bytes, m);
        this.writeChunk(big, size);
        return;
      }
    }
    const m = this.masks.next();
    this.outLen = writeMaskedFrame(this.out, this.outLen, b0, payload, start, length, this.masks.bytes, m);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushTask);
  }

  private writeChunk(chunk: Buffer, n: number): void {
    this.inFlight.push(chunk);
    if (!this.socket.write(n === chunk.length ? chunk : chunk.subarray(0, n), this.onWritten)) {
      this.needDrain = true;
    }
  }

  private sendClose(code: number, reason: Uint8Array): void {
    const payload = new Uint8Array(2 + reason.length);
    payload[0] = code >>> 8;
    payload[1] = code & 0xff;
    payload.set(reason, 2);
    this.frame(FIN_CLOSE, payload, 0, payload.length);
    this.flush();
    this.state = ReadyState.CLOSING;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private serverClose(bytes: Uint8Array, start: number, end: number): void {
    const hasCode = end - start >= 2;
    this.closeCode = hasCode ? (bytes[start] << 8) | bytes[start + 1] : CloseCode.NO_STATUS;
    this.closeReason = hasCode ? UTF8.decode(bytes.subarray(start + 2, end)) : '';
    this.parser.stop();
    if (this.state === ReadyState.OPEN) {
      // Echo the server's code (RFC 6455 5.5.1); a close frame without a code is answered without one.
      if (hasCode) this.sendClose(this.closeCode, EMPTY);
      else {
        this.frame(FIN_CLOSE, EMPTY, 0, 0);
        this.flush();
        this.state = ReadyState.CLOSING;
      }
    }
    this.socket.end();
  }

  private closed(): void {
    if (this.state === ReadyState.CLOSED) return;
    this.state = ReadyState.CLOSED;
    this.parser.stop();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.outLen = 0;
    this.onClose(this.closeCode, this.closeReason);
  }
}

/** Checks the status line and the upgrade headers; returns the error to fail with, or null. */
function checkUpgrade(head: string, key: string, href: string): HandshakeError | null {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0]);
  if (status === null) return new HandshakeError(`not an HTTP/1.1 answer from ${href}: ${lines[0]}`);
  const code = Number(status[1]);
  if (code !== 101) return new HandshakeError(`${href} answered ${lines[0].slice(9)} instead of 101`, code);
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon > 0)
      headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim());
  }
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    return new HandshakeError(`${href}: 101 without "Upgrade: websocket"`, code);
  }
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.get('connection') ?? '')) {
    return new HandshakeError(`${href}: 101 without "Connection: Upgrade"`, code);
  }
  if (headers.get('sec-websocket-accept') !== acceptKey(key)) {
    return new HandshakeError(`${href}: wrong Sec-WebSocket-Accept`, code);
  }
  if (headers.has('sec-websocket-extensions')) {
    return new HandshakeError(`${href}: server chose an extension the client did not offer`, code);
  }
  return null;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ClientUsageError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
