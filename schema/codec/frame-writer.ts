// FrameWriter: the one flatbuffers Builder an encoder reuses for every frame, plus the field writers
// the protocol needs that the stock Builder lacks (int64 without BigInt, uint64 as two uint32 halves).
//
// Callers: ClientEncoder and GatewayEncoder (one FrameWriter each). Each frame starts with begin()
// (Builder.clear(): the buffer is kept, so steady state does not allocate except the Builder's small
// vtable list) and ends with finish(), which writes the root Message and returns a Uint8Array VIEW of
// the builder's buffer: valid until the next begin(); copy it if you keep it. Not thread-safe.
//
// Byte-compatibility: encoders add a table's fields in the order flatc's JSON compiler does (largest
// size first; within a size, the last declared first), so for the same values our bytes equal
// flatc's. test/schema/vectors.test.ts holds every message to that.

import { Builder } from 'flatbuffers';
import { FILE_IDENTIFIER, MessageFieldCount, MessageVt } from '../generated/layout.js';
import { SchemaError } from '../schema-error.js';
import { hiWord, isSafeWireInt } from './wire.js';

/** Builder field id of a vtable offset. */
export function fieldId(vtOffset: number): number {
  return (vtOffset - 4) >> 1;
}

export class FrameWriter {
  readonly builder: Builder;

  constructor(initialCapacity = 1024) {
    this.builder = new Builder(initialCapacity);
  }

  begin(): void {
    this.builder.clear();
  }

  /**
   * Adds an int64/uint64 field under the 2^53 rule (0 is the default and is not stored). Throws
   * SchemaError naming `field` for a value that is not an integer in 0 .. 2^53-1: never rounds.
   */
  int53(vtOffset: number, value: number, field: string): void {
    if (value === 0) return;
    if (!isSafeWireInt(value)) {
      throw new SchemaError(`${field} must be an integer in 0..2^53-1, got ${value}`);
    }
    const b = this.builder;
    b.prep(8, 0);
    b.writeInt32(hiWord(value));
    b.writeInt32(value >>> 0);
    b.slot(fieldId(vtOffset));
  }

  /** Adds a uint64 field given as two uint32 halves (0 is the default and is not stored). */
  raw64(vtOffset: number, hi: number, lo: number): void {
    if (hi === 0 && lo === 0) return;
    const b = this.builder;
    b.prep(8, 0);
    b.writeInt32(hi);
    b.writeInt32(lo);
    b.slot(fieldId(vtOffset));
  }

  u32(vtOffset: number, value: number): void {
    this.builder.addFieldInt32(fieldId(vtOffset), value, 0);
  }

  u16(vtOffset: number, value: number, defaultValue: number): void {
    this.builder.addFieldInt16(fieldId(vtOffset), value, defaultValue);
  }

  u8(vtOffset: number, value: number): void {
    this.builder.addFieldInt8(fieldId(vtOffset), value, 0);
  }

  offset(vtOffset: number, offset: number): void {
    if (offset !== 0) this.builder.addFieldOffset(fieldId(vtOffset), offset, 0);
  }

  /** Writes a struct field of 8 bytes under the 2^53 rule, inside a struct being written backwards. */
  structInt53(value: number, field: string): void {
    if (!isSafeWireInt(value)) {
      throw new SchemaError(`${field} must be an integer in 0..2^53-1, got ${value}`);
    }
    this.builder.writeInt32(hiWord(value));
    this.builder.writeInt32(value >>> 0);
  }

  /** Writes the root Message { body_type, body } and returns the frame (a view, see header). */
  finish(bodyType: number, body: number): Uint8Array {
    const b = this.builder;
    b.startObject(MessageFieldCount);
    b.addFieldOffset(fieldId(MessageVt.body), body, 0);
    b.addFieldInt8(fieldId(MessageVt.bodyType), bodyType, 0);
    b.finish(b.endObject(), FILE_IDENTIFIER);
    return b.asUint8Array();
  }
}
