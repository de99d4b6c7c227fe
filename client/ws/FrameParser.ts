/**
 * FrameParser: turns the bytes a WebSocket server sends (TCP chunks of any size) into messages and
 * control frames, for RawWebSocket.
 *
 * Zero-copy on the common path: a frame that lies entirely inside a chunk is handed to the sink as
 * (chunk, start, end) without copying. Only a frame split across chunks is copied, into `carry`
 * (grown to the frame's size, reused), and only a fragmented message is copied into `fragments`.
 * The bytes passed to the sink are valid during the call only.
 *
 *   frame from a server:  [FIN|RSV(3)|opcode(4)][0|len7][len16|len64 big-endian][payload]
 *
 * Checks (a failure calls sink.fail(closeCode, reason) once and stops the parser for good):
 * masked server frame, RSV bits (no extension is negotiated), unknown opcode, control frame longer
 * than 125 bytes or fragmented, continuation without a start, a new data frame inside a fragmented
 * message (1002); a message longer than maxMessageBytes or a 64-bit length above 2^53-1 (1009).
 * Text messages are delivered as bytes with isBinary = false; UTF-8 is not validated (the exchange
 * sends binary frames only). Not thread-safe: one parser per connection.
 */
import { ClientUsageError } from '../errors.js';
import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode } from './frame.js';

export interface FrameSink {
  /** A complete data message (unfragmented, or reassembled). */
  message(bytes: Uint8Array, start: number, end: number, isBinary: boolean): void;
  /** A close, ping or pong frame. */
  control(opcode: number, bytes: Uint8Array, start: number, end: number): void;
  /** The stream broke the protocol; `code` is the close code to send (1002 or 1009). */
  fail(code: number, reason: string): void;
}

const EMPTY = new Uint8Array(0);

export class FrameParser {
  readonly maxMessageBytes: number;
  private readonly sink: FrameSink;
  /** Bytes of one frame that arrived split across chunks. */
  private carry: Uint8Array = EMPTY;
  private carryLen = 0;
  /** Reassembly of a fragmented message. */
  private fragments: Uint8Array = EMPTY;
  private fragmentsLen = 0;
  /** Opcode of the fragmented message being reassembled, -1 when none. */
  private fragmentOpcode = -1;
  private stopped = false;

  constructor(sink: FrameSink, maxMessageBytes = 16 * 1024 * 1024) {
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < MAX_CONTROL_PAYLOAD) {
      throw new ClientUsageError(`maxMessageBytes must be an integer >= 125, got ${maxMessageBytes}`);
    }
    this.sink = sink;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** True after a protocol error or stop(): further chunks are ignored. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Ignore everything from now on (after a close frame, or when the connection is torn down). */
  stop(): void {
    this.stopped = true;
    this.carry = EMPTY;
    this.fragments = EMPTY;
  }

  push(chunk: Uint8Array): void {
    if (this.stopped) return;
    const end = chunk.length;
    let pos = 0;
    if (this.carryLen > 0) {
      pos = this.completeCarry(chunk);
      if (pos < 0 || this.stopped) return;
    }
    while (pos < end) {
      const avail = end - pos;
      if (avail < 2) break;
      const b1 = chunk[pos + 1];
      const hdr = headerSize(b1);
      if (avail < hdr) break;
      const len = this.payloadLength(chunk, pos, b1);
      if (len < 0) return;
      if (avail < hdr + len) break;
      this.frame(chunk[pos], chunk, pos + hdr, pos + hdr + len);
      if (this.stopped) return;
      pos += hdr + len;
    }
    if (pos < end) {
      this.ensureCarry(end - pos);
      this.carry.set(chunk.subarray(pos, end), 0);
      this.carryLen = end - pos;
    }
  }

  /**
   * Adds bytes from `chunk` to the frame held in `carry` until it is complete, then dispatches it.
   * Returns the position in `chunk` after the bytes used, chunk.length when the frame is still
   * incomplete (all used), or -1 after a protocol error.
   */
  private completeCarry(chunk: Uint8Array): number {
    let pos = 0;
    for (;;) {
      let need = this.carryLen < 2 ? 2 : headerSize(this.carry[1]);
      if (this.carryLen >= need) {
        const len = this.payloadLength(this.carry, 0, this.carry[1]);
        if (len < 0) return -1;
        need += len;
        if (this.carryLen >= need) break;
      }
      const take = Math.min(need - this.carryLen, chunk.length - pos);
      this.ensureCarry(need);
      this.carry.set(chunk.subarray(pos, pos + take), this.carryLen);
      this.carryLen += take;
      pos += take;
      if (this.carryLen < need) return pos;
    }
    const hdr = headerSize(this.carry[1]);
    const total = this.carryLen;
    this.carryLen = 0;
    this.frame(this.carry[0], this.carry, hdr, total);
    return pos;
  }

  /** Payload length of the frame whose header (complete) is at `pos`; -1 after failing. */
  private payloadLength(bytes: Uint8Array, pos: number, b1: number): number {
    if ((b1 & 0x80) !== 0) return this.failWith(CloseCode.PROTOCOL_ERROR, 'masked frame from the server');
    let len = b1 & 0x7f;
    if (len === 126) {
      len = (bytes[pos + 2] << 8) | bytes[pos + 3];
    } else if (len === 127) {
      const hi =
        ((bytes[pos + 2] << 24) | (bytes[pos + 3] << 16) | (bytes[pos + 4] << 8) | bytes[pos + 5]) >>> 0;
      const lo =
        ((bytes[pos + 6] << 24) | (bytes[pos + 7] << 16) | (bytes[pos + 8] << 8) | bytes[pos + 9]) >>> 0;
      if (hi > 0x1fffff) return this.failWith(CloseCode.MESSAGE_TOO_BIG, 'frame length above 2^53-1');
      len = hi * 0x1_0000_0000 + lo;
    }
    if (len > this.maxMessageBytes) {
      return this.failWith(
        CloseCode.MESSAGE_TOO_BIG,
        `frame of ${len} bytes > limit ${this.maxMessageBytes}`,
      );
    }
    return len;
  }

  private frame(b0: number, bytes: Uint8Array, start: number, end: number): void {
    if ((b0 & 0x70) !== 0) {
      this.failWith(CloseCode.PROTOCOL_ERROR, 'RSV bits set without a negotiated extension');
      return;
    }
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (opcode >= Opcode.CLOSE) {
      if (opcode > Opcode.PONG) {
        this.failWith(CloseCode.PROTOCOL_ERROR, `unknown opcode ${opcode}`);
      } else if (!fin || end - start > MAX_CONTROL_PAYLOAD) {
        this.failWith(CloseCode.PROTOCOL_ERROR, 'control frame fragmented or longer than 125 bytes');
      } else {
        this.sink.control(opcode, bytes, start, end);
      }
      return;
    }
    if (opcode === Opcode.CONTINUATION) {
      if (this.fragmentOpcode < 0) {
        this.failWith(CloseCode.PROTOCOL_ERROR, 'continuation frame without a message to continue');
        return;
      }
      if (!this.appendFragment(bytes, start, end) || !fin) return;
      const isBinary = this.fragmentOpcode === Opcode.BINARY;
      const len = this.fragmentsLen;
      this.fragmentOpcode = -1;
      this.fragmentsLen = 0;
      this.sink.message(this.fragments, 0, len, isBinary);
      return;
    }
    if (opcode !== Opcode.BINARY && opcode !== Opcode.TEXT) {
      this.failWith(CloseCode.PROTOCOL_ERROR, `unknown opcode ${opcode}`);
      return;
    }
    if (this.fragmentOpcode >= 0) {
      this.failWith(CloseCode.PROTOCOL_ERROR, 'new message inside a fragmented message');
      return;
    }
    if (fin) {
      this.sink.message(bytes, start, end, opcode === Opcode.BINARY);
      return;
    }
    this.fragmentOpcode = opcode;
    this.fragmentsLen = 0;
    this.appendFragment(bytes, start, end);
  }

  private appendFragment(bytes: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    const total = this.fragmentsLen + n;
    if (total > this.maxMessageBytes) {
      this.failWith(CloseCode.MESSAGE_TOO_BIG, `fragmented message > limit ${this.maxMessageBytes}`);
      return false;
    }
    if (total > this.fragments.length) {
      const grown = new Uint8Array(
        Math.min(this.maxMessageBytes, Math.max(total, this.fragments.length * 2)),
      );
      grown.set(this.fragments.subarray(0, this.fragmentsLen), 0);
      this.fragments = grown;
    }
    this.fragments.set(bytes.subarray(start, end), this.fragmentsLen);
    this.fragmentsLen = total;
    return true;
  }

  private ensureCarry(size: number): void {
    if (size <= this.carry.length) return;
    const grown = new Uint8Array(Math.max(size, this.carry.length * 2, 1024));
    grown.set(this.carry.subarray(0, this.carryLen), 0);
    this.carry = grown;
  }

  private failWith(code: number, reason: string): -1 {
    this.stop();
    this.sink.fail(code, reason);
    return -1;
  }
}

/** Header size (2, 4 or 10 bytes) given the second header byte. */
function headerSize(b1: number): number {
  const len = b1 & 0x7f;
  return len < 126 ? 2 : len === 126 ? 4 : 10;
}
