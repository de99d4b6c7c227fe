/**
 * Encodes rows in PostgreSQL's binary COPY format (`COPY t FROM STDIN (FORMAT binary)`): no number
 * is turned into text on our side nor parsed back on the server's, which is most of the cost of a
 * text COPY of rows made of integers.
 *
 * Layout (PostgreSQL docs, "COPY ... Binary Format"): the 11-byte signature `PGCOPY\n\377\r\n\0`, a
 * 32-bit flags field (0) and a 32-bit header-extension length (0); then per row a 16-bit field count
 * and per field a 32-bit byte length followed by the value in the type's binary send format
 * (big-endian); then the trailer, a 16-bit -1. Values used here: int2, int4, int8, bool and numeric
 * (integers only). Every number is a JS number holding an integer (the engine's ticks, lots, ids
 * and microseconds stay below 2^53), so int8 is written as two 32-bit halves, exactly.
 *
 * Usage: `const w = new CopyBinaryWriter(); w.row(n); w.int8(x) ...; const buf = w.finish();`.
 * `finish()` returns a copy and resets the writer for the next batch; its buffer grows as needed
 * (doubling) and is kept for the next batch.
 * Thread-safety: single-threaded.
 */
import { Buffer } from 'node:buffer';

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const HEADER_SIZE = SIGNATURE.length + 8;
const TWO_32 = 2 ** 32;
/** numeric sign words. */
const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;

export class CopyBinaryWriter {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  /** numeric digits (base 10000), least significant first, reused. */
  private readonly digits: number[] = [];

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.header();
  }

  /** Bytes written so far (header included). */
  get length(): number {
    return this.pos;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.reserve(2);
    this.view.setInt16(this.pos, fields);
    this.pos += 2;
  }

  int2(x: number): void {
    this.reserve(6);
    this.view.setInt32(this.pos, 2);
    this.view.setInt16(this.pos + 4, x);
    this.pos += 6;
  }

  int4(x: number): void {
    this.reserve(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, x);
    this.pos += 8;
  }

  /** An integer with |x| < 2^53. */
  int8(x: number): void {
    this.reserve(12);
    const hi = Math.floor(x / TWO_32);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, hi);
    this.view.setUint32(this.pos + 8, x - hi * TWO_32);
    this.pos += 12;
  }

  bool(x: boolean): void {
    this.reserve(5);
    this.view.setInt32(this.pos, 1);
    this.view.setUint8(this.pos + 4, x ? 1 : 0);
    this.pos += 5;
  }

  /** A numeric holding the integer x (|x| < 2^53): base-10000 digits, scale 0. */
  numericInt(x: number): void {
    const d = this.digits;
    d.length = 0;
    let v = Math.abs(x);
    while (v > 0) {
      const q = Math.floor(v / 10000);
      d.push(v - q * 10000);
      v = q;
    }
    // Trailing zero digits (the least significant) are left out; the weight keeps the magnitude.
    let low = 0;
    while (low < d.length && d[low] === 0) low++;
    const n = d.length - low;
    this.reserve(12 + 2 * n);
    const view = this.view;
    let p = this.pos;
    view.setInt32(p, 8 + 2 * n);
    view.setInt16(p + 4, n);
    view.setInt16(p + 6, n === 0 ? 0 : d.length - 1);
    view.setUint16(p + 8, x < 0 ? NUMERIC_NEG : NUMERIC_POS);
    view.setInt16(p + 10, 0);
    p += 12;
    for (let i = d.length - 1; i >= low; i--, p += 2) view.setInt16(p, d[i]);
    this.pos = p;
  }

  /** Drops what was written; the writer starts over. */
  reset(): void {
    this.header();
  }

  /** The COPY data (header, rows, trailer) as a new Buffer; the writer starts over. */
  finish(): Buffer {
    this.reserve(2);
    this.view.setInt16(this.pos, -1);
    this.pos += 2;
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.header();
    return out;
  }

  private header(): void {
    for (let i = 0; i < SIGNATURE.length; i++) this.buf[i] = SIGNATURE[i];
    this.view.setInt32(SIGNATURE.length, 0);
    this.view.setInt32(SIGNATURE.length + 4, 0);
    this.pos = HEADER_SIZE;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}
