/**
 * RFC 6455 framing constants and the client-side frame writer (header + masking key + masked payload).
 *
 * Callers: RawWebSocket (every frame it sends) and the WebSocket load generator, which pre-encodes
 * masked frames once and then only copies them. Pure functions over caller-owned buffers; the one
 * stateful helper, MaskSource, belongs to one connection (not thread-safe).
 *
 *   client frame:  [FIN|RSV|opcode][1|len7][len16 or len64, big-endian][mask key x4][payload ^ mask]
 *                   len7 < 126: header 2+4 bytes; len16 (126): 4+4; len64 (127): 10+4
 */
import { createHash, randomFillSync } from 'node:crypto';
import { ClientUsageError } from '../errors.js';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** Close status codes used by the client (RFC 6455 section 7.4.1). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  /** Never sent: reported when the close frame carried no code. */
  NO_STATUS: 1005,
  /** Never sent: reported when the TCP connection ended without a close frame. */
  ABNORMAL: 1006,
  MESSAGE_TOO_BIG: 1009,
} as const;

/** First header byte of a final (unfragmented) frame of each kind. */
export const FIN_BINARY = 0x80 | Opcode.BINARY;
export const FIN_TEXT = 0x80 | Opcode.TEXT;
export const FIN_CLOSE = 0x80 | Opcode.CLOSE;
export const FIN_PING = 0x80 | Opcode.PING;
export const FIN_PONG = 0x80 | Opcode.PONG;

/** Largest control frame payload. */
export const MAX_CONTROL_PAYLOAD = 125;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value a server must answer for `key`. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** Size of a masked client frame carrying `length` payload bytes (header, mask key and payload). */
export function maskedFrameSize(length: number): number {
  return (length < 126 ? 6 : length < 65536 ? 8 : 14) + length;
}

/**
 * Writes one masked client frame into `out` at `pos`: header byte `b0` (FIN and opcode), the length,
 * the 4-byte masking key `mask[maskPos .. maskPos+3]`, then `payload[start .. start+length)` XOR the
 * key. `out` must have maskedFrameSize(length) bytes free at `pos`. Returns the position after it.
 */
export function writeMaskedFrame(
  out: Uint8Array,
  pos: number,
  b0: number,
  payload: Uint8Array,
  start: number,
  length: number,
  mask: Uint8Array,
  maskPos: number,
): number {
  out[pos] = b0;
  if (length < 126) {
    out[pos + 1] = 0x80 | length;
    pos += 2;
  } else if (length < 65536) {
    out[pos + 1] = 0x80 | 126;
    out[pos + 2] = length >>> 8;
    out[pos + 3] = length & 0xff;
    pos += 4;
  } else {
    const hi = Math.floor(length / 0x1_0000_0000);
    const lo = length >>> 0;
    out[pos + 1] = 0x80 | 127;
    out[pos + 2] = 0;
    out[pos + 3] = 0;
    out[pos + 4] = hi >>> 8;
    out[pos + 5] = hi & 0xff;
    out[pos + 6] = lo >>> 24;
    out[pos + 7] = (lo >>> 16) & 0xff;
    out[pos + 8] = (lo >>> 8) & 0xff;
    out[pos + 9] = lo & 0xff;
    pos += 10;
  }
  const m0 = mask[maskPos];
  const m1 = mask[maskPos + 1];
  const m2 = mask[maskPos + 2];
  const m3 = mask[maskPos + 3];
  out[pos] = m0;
  out[pos + 1] = m1;
  out[pos + 2] = m2;
  out[pos + 3] = m3;
  pos += 4;
  let i = 0;
  const whole = length & ~3;
  for (; i < whole; i += 4) {
    out[pos + i] = payload[start + i] ^ m0;
    out[pos + i + 1] = payload[start + i + 1] ^ m1;
    out[pos + i + 2] = payload[start + i + 2] ^ m2;
    out[pos + i + 3] = payload[start + i + 3] ^ m3;
  }
  if (i < length) out[pos + i] = payload[start + i] ^ m0;
  if (i + 1 < length) out[pos + i + 1] = payload[start + i + 1] ^ m1;
  if (i + 2 < length) out[pos + i + 2] = payload[start + i + 2] ^ m2;
  return pos + length;
}

/**
 * Unpredictable masking keys without a crypto call per frame: a pool of random bytes from
 * crypto.randomFillSync, refilled when used up; each frame takes the next 4 bytes.
 */
export class MaskSource {
  readonly bytes: Uint8Array;
  private pos: number;

  constructor(poolBytes = 4096) {
    if (!Number.isInteger(poolBytes) || poolBytes < 4 || poolBytes % 4 !== 0) {
      throw new ClientUsageError(`MaskSource pool must be a positive multiple of 4 bytes, got ${poolBytes}`);
    }
    this.bytes = new Uint8Array(poolBytes);
    this.pos = poolBytes;
  }

  /** Position in `bytes` of 4 fresh random bytes (valid until the next call). */
  next(): number {
    if (this.pos === this.bytes.length) {
      randomFillSync(this.bytes);
      this.pos = 0;
    }
    const p = this.pos;
    this.pos = p + 4;
    return p;
  }
}
