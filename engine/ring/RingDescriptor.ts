/**
 * Memory layout of a ring (`Ring`, `RingReader`): one producer, N consumers (fixed at creation), all
 * wrapping the same SharedArrayBuffer. Offsets here are the single source of truth; nothing else
 * computes a position in the buffer.
 *
 * ```
 * byte 0                                                                      capacity
 * +------------------------------------------------------------------------------+
 * | records, each 8-byte aligned; a padding record fills the tail end at a wrap   |  capacity = 2^k
 * +------------------------------------------------------------------------------+
 * | trailer, one LINE (128 B = two 64-byte cache lines) per field:               |
 * |   capacity + 0 * LINE   META: magic, version, capacity, consumer count       |  set at create
 * |   capacity + 1 * LINE   PRODUCER POSITION (int32, diagnostics only)          |  producer writes
 * |   capacity + 2 * LINE   PRODUCER PARK word (RUNNING / PARKED)                |  producer announces
 * |   capacity + (3 + 2i) * LINE   CONSUMER i POSITION (int32)                   |  consumer i writes
 * |   capacity + (4 + 2i) * LINE   CONSUMER i PARK word                          |  consumer i announces
 * +------------------------------------------------------------------------------+
 *
 * record at an 8-aligned index:
 *  0        4        8
 *  +--------+--------+-------------------------------+---------+
 *  | length | type   | payload (length - 8 bytes)    | pad to 8|
 *  +--------+--------+-------------------------------+---------+
 *  length: int32 = header + payload, unaligned. 0 = not published yet. Written LAST, with
 *          Atomics.store, so a consumer that reads length > 0 (Atomics.load) sees type and payload.
 *  type:   int32 >= 1 for user records; PADDING_TYPE (-1) for the filler at the end of the buffer.
 * ```
 *
 * Positions are byte counters modulo 2^32 kept in int32 words (`(a - b) | 0` is the distance); the
 * index in the buffer is `position & (capacity - 1)`. Capacity is at most 2^30 so a distance always
 * fits a signed int32.
 *
 * Note: the producer keeps the header slot after its newest record zeroed ("zero ahead") and never
 * fills the last 8 bytes of free space, so a consumer reading the header at its position sees either
 * 0 or a record published in this lap, never a stale one from the previous lap. Consumers therefore
 * never write the record area, which is what lets N of them share one copy of every record.
 *
 * Thread-safety: constants and pure functions, usable on any thread.
 */
import { RingError } from './RingError.js';

/** Bytes of the record header (length + type). */
export const HEADER_LENGTH = 8;
/** Records start on 8-byte boundaries (a DataView over the payload can read float64/int64 aligned). */
export const RECORD_ALIGNMENT = 8;
/** Type of the filler record at the end of the buffer; consumers skip it. */
export const PADDING_TYPE = -1;

/** Offset of the length word inside a record header. */
export const LENGTH_OFFSET = 0;
/** Offset of the type word inside a record header. */
export const TYPE_OFFSET = 4;

/** Spacing of shared fields: two 64-byte cache lines, so the adjacent-line prefetcher cannot pair them. */
export const LINE = 128;

export const MIN_CAPACITY = 128;
/** 2^30: a distance between two positions must fit a signed int32. */
export const MAX_CAPACITY = 2 ** 30;
export const MAX_CONSUMERS = 16;

/** "RING" */
export const MAGIC = 0x52494e47;
export const VERSION = 1;

/** Word offsets (int32 index) inside the META line. */
export const META_MAGIC = 0;
export const META_VERSION = 1;
export const META_CAPACITY = 2;
export const META_CONSUMERS = 3;

export const META_OFFSET = 0;
export const PRODUCER_POSITION_OFFSET = 1 * LINE;
export const PRODUCER_PARK_OFFSET = 2 * LINE;

/** Byte offset, from the start of the trailer, of consumer `i`'s position word. */
export function consumerPositionOffset(i: number): number {
  return (3 + 2 * i) * LINE;
}

/** Byte offset, from the start of the trailer, of consumer `i`'s park word. */
export function consumerParkOffset(i: number): number {
  return (4 + 2 * i) * LINE;
}

/** Bytes of the trailer for `consumers` consumers. */
export function trailerLength(consumers: number): number {
  return (3 + 2 * consumers) * LINE;
}

/** Total SharedArrayBuffer size for a ring. */
export function ringByteLength(capacity: number, consumers: number): number {
  return capacity + trailerLength(consumers);
}

/**
 * Largest payload a ring accepts: an eighth of the capacity minus the header (as Agrona does), so a
 * record plus the padding in front of it always fits once the ring drains, and a wrap wastes little.
 */
export function maxPayloadLength(capacity: number): number {
  return capacity / 8 - HEADER_LENGTH;
}

/** Rounds a record length up to the record alignment. */
export function alignRecord(length: number): number {
  return (length + (RECORD_ALIGNMENT - 1)) & ~(RECORD_ALIGNMENT - 1);
}

/** Throws a RingError naming the value unless `capacity` is a power of two in [MIN_CAPACITY, MAX_CAPACITY]. */
export function checkCapacity(capacity: number): void {
  if (
    typeof capacity !== 'number' ||
    !Number.isInteger(capacity) ||
    capacity < MIN_CAPACITY ||
    capacity > MAX_CAPACITY ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new RingError(
      `ring capacity must be a power of two between ${MIN_CAPACITY} and ${MAX_CAPACITY} bytes, got ${String(capacity)}`,
    );
  }
}

/** Throws a RingError naming the value unless `consumers` is an integer in [1, MAX_CONSUMERS]. */
export function checkConsumers(consumers: number): void {
  if (
    typeof consumers !== 'number' ||
    !Number.isInteger(consumers) ||
    consumers < 1 ||
    consumers > MAX_CONSUMERS
  ) {
    throw new RingError(
      `ring consumer count must be an integer between 1 and ${MAX_CONSUMERS}, got ${String(consumers)}`,
    );
  }
}
