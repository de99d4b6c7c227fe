// TableView: an in-place view of one FlatBuffers table — the single flyweight class every message
// reader in schema/codec/ is built from.
//
// Callers: the message readers (client-readers.ts, gateway-readers.ts), which hold one TableView each
// and are reused for every message (`wrap` moves the view; nothing is allocated). Having one class for
// every table keeps the field accessors monomorphic in V8 whatever message is being read.
//
// Contract: only wrap frames that FrameVerifier (schema/verify.ts) accepted. The accessors do no bounds
// checks of their own: the verifier has proved that every field, string and vector they can reach lies
// inside the frame. Not thread-safe: one instance per thread (the gateway's main thread).
//
//   table at `pos`:   [soffset int32 -> vtable = pos - soffset][field bytes ...]
//   vtable at `vt`:   [vtable size u16][table size u16][field offset u16 ...]   (0 = field absent)

import { readI32, readSafeUint64, readU16, readU32 } from './wire.js';

const EMPTY = new Uint8Array(0);
const UTF8 = new TextDecoder('utf-8');

export class TableView {
  bytes: Uint8Array = EMPTY;
  /** Absolute position of the table in `bytes`. */
  pos = 0;
  private vt = 0;
  private vtSize = 0;

  wrap(bytes: Uint8Array, pos: number): this {
    this.bytes = bytes;
    this.pos = pos;
    const vt = pos - readI32(bytes, pos);
    this.vt = vt;
    this.vtSize = readU16(bytes, vt);
    return this;
  }

  /** Absolute position of a field's bytes, or 0 when the field is absent. */
  field(vtOffset: number): number {
    if (vtOffset >= this.vtSize) return 0;
    const o = readU16(this.bytes, this.vt + vtOffset);
    return o === 0 ? 0 : this.pos + o;
  }

  has(vtOffset: number): boolean {
    return this.field(vtOffset) !== 0;
  }

  u8(vtOffset: number, defaultValue: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? defaultValue : this.bytes[p];
  }

  u16(vtOffset: number, defaultValue: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? defaultValue : readU16(this.bytes, p);
  }

  u32(vtOffset: number, defaultValue: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? defaultValue : readU32(this.bytes, p);
  }

  /** An int64/uint64 field under the 2^53 rule: 0 when absent, -1 (UNSAFE_INT64) when out of range. */
  int53(vtOffset: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? 0 : readSafeUint64(this.bytes, p);
  }

  /** Low 32 bits of a uint64 field (client order id); 0 when absent. */
  lo32(vtOffset: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? 0 : readU32(this.bytes, p);
  }

  /** High 32 bits of a uint64 field; 0 when absent. */
  hi32(vtOffset: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? 0 : readU32(this.bytes, p + 4);
  }

  /** Absolute position of the string, vector or table a field points to, or 0 when absent. */
  target(vtOffset: number): number {
    const p = this.field(vtOffset);
    return p === 0 ? 0 : p + readU32(this.bytes, p);
  }

  /** Element count of a vector field (0 when absent). */
  vectorLength(vtOffset: number): number {
    const t = this.target(vtOffset);
    return t === 0 ? 0 : readU32(this.bytes, t);
  }

  /** Absolute position of element 0 of a vector field (0 when absent). */
  vectorStart(vtOffset: number): number {
    const t = this.target(vtOffset);
    return t === 0 ? 0 : t + 4;
  }

  /** Absolute position of the table that element `index` of a vector of tables points to. */
  vectorTable(vtOffset: number, index: number): number {
    const e = this.vectorStart(vtOffset) + 4 * index;
    return e + readU32(this.bytes, e);
  }

  /** A string field decoded as UTF-8 (allocates: keep it off the per-order path), or null when absent. */
  string(vtOffset: number): string | null {
    const t = this.target(vtOffset);
    if (t === 0) return null;
    const start = t + 4;
    return UTF8.decode(this.bytes.subarray(start, start + readU32(this.bytes, t)));
  }
}
