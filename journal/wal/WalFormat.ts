/**
 * Byte layout of the write-ahead log: a directory per shard (`DATA_DIR/wal/shard-<k>/`) holding
 * segment files named by the sequence of their first record, zero-padded to 20 digits
 * (`00000000000000000001.wal`), so the lexical order of the names is the log order. Offsets here are
 * the single source of truth; the writer (`WalWriter`) and the reader (`WalReader`) import them.
 *
 * ```
 * segment file
 * +-----------------------------+----------+----------+-----+----------+
 * | segment header (32 bytes)   | record 1 | record 2 | ... | record n |   rolled once >= segmentBytes
 * +-----------------------------+----------+----------+-----+----------+
 *
 * segment header, little-endian:
 *  0          4      6      8          12         16                  24         28         32
 *  +----------+------+------+----------+----------+-------------------+----------+----------+
 *  | magic    | ver  | hlen | shard id | reserved | first seq (u64)   | crc32c   | reserved |
 *  | "WAL1"   | 1    | 32   | u32      | 0        | lo u32, hi u32    | of 0..24 | must be 0|
 *  +----------+------+------+----------+----------+-------------------+----------+----------+
 *
 * record (112 bytes, 8-aligned), little-endian:
 *  0          4          8                     16                                   112
 *  +----------+----------+---------------------+------------------------------------+
 *  | length   | crc32c   | seq (u64)           | payload: one 96-byte command        |
 *  | u32 = 96 | of 8..112| lo u32, hi u32      | record (engine/records/CommandRecord)|
 *  +----------+----------+---------------------+------------------------------------+
 *  length: payload bytes; a record whose length is not 96 is corrupt.
 *  crc32c: CRC-32C (Crc32c.ts) over the seq bytes and the payload, i.e. bytes 8 .. 16 + length.
 *  seq:    per shard, 1 for the first command ever, +1 per command, continuing across restarts;
 *          at most 2^53 - 1 (a JavaScript number), so the high word is < 2^21.
 * ```
 *
 * A record is valid when its length is 96, all 112 bytes are in the file and the CRC matches. A
 * segment ends where the next one starts (its first seq = this one's last + 1); only the newest
 * segment may end in a torn record (what a crash mid-write leaves). Commands only, never events: the
 * engine is deterministic, so replaying the commands rebuilds the state and the event sequence.
 * Thread-safety: constants and pure functions, any thread.
 */
import { join } from 'node:path';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { crc32c } from './Crc32c.js';
import { WalFormatError } from './WalError.js';

/** "WAL1" read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x314c4157;
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_LENGTH = 32;
export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_HEADER_LENGTH = 6;
export const H_SHARD = 8;
export const H_FIRST_SEQ = 16;
export const H_CRC = 24;

export const RECORD_HEADER_LENGTH = 16;
export const R_LENGTH = 0;
export const R_CRC = 4;
export const R_SEQ = 8;
export const R_PAYLOAD = 16;
export const PAYLOAD_LENGTH = COMMAND_SIZE;
export const RECORD_LENGTH = RECORD_HEADER_LENGTH + PAYLOAD_LENGTH;

export const SEGMENT_SUFFIX = '.wal';
const NAME_RE = /^(\d{20})\.wal$/;
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
/** Default size at which the writer rolls to a new segment: 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const MIN_SEGMENT_BYTES = SEGMENT_HEADER_LENGTH + RECORD_LENGTH;

/** The WAL directory of shard `shardId` under the data directory. */
export function walDir(dataDir: string, shardId: number): string {
  return join(dataDir, 'wal', `shard-${shardId}`);
}

/** The file name of the segment whose first record has `firstSeq`. */
export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** The first seq a segment file name encodes, or -1 when the name is not a segment's. */
export function parseSegmentName(name: string): number {
  const m = NAME_RE.exec(name);
  if (m === null) return -1;
  const v = Number(m[1]);
  return v >= 1 && v <= MAX_SEQ ? v : -1;
}

export function writeSeq(view: DataView, at: number, seq: number): void {
  view.setUint32(at, seq >>> 0, true);
  view.setUint32(at + 4, Math.floor(seq / 2 ** 32), true);
}

export function readSeq(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
}

/** Writes a segment header for `shardId` / `firstSeq` into `bytes[0, 32)`. */
export function writeSegmentHeader(bytes: Uint8Array, shardId: number, firstSeq: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_LENGTH);
  bytes.fill(0, 0, SEGMENT_HEADER_LENGTH);
  v.setUint32(H_MAGIC, SEGMENT_MAGIC, true);
  v.setUint16(H_VERSION, SEGMENT_VERSION, true);
  v.setUint16(H_HEADER_LENGTH, SEGMENT_HEADER_LENGTH, true);
  v.setUint32(H_SHARD, shardId, true);
  writeSeq(v, H_FIRST_SEQ, firstSeq);
  v.setUint32(H_CRC, crc32c(bytes, 0, H_CRC), true);
}

/**
 * Checks a segment header read from `file`: returns its first seq, or throws a WalFormatError that
 * names the file and what is wrong.
 */
export function checkSegmentHeader(bytes: Uint8Array, file: string, shardId: number | undefined): number {
  if (bytes.length < SEGMENT_HEADER_LENGTH) {
    throw new WalFormatError(
      `WAL segment ${file}: header is ${bytes.length} bytes, want ${SEGMENT_HEADER_LENGTH}`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_LENGTH);
  const magic = v.getUint32(H_MAGIC, true);
  if (magic !== SEGMENT_MAGIC) {
    throw new WalFormatError(`WAL segment ${file}: bad magic 0x${magic.toString(16)} (want "WAL1")`);
  }
  const crc = v.getUint32(H_CRC, true);
  if (crc !== crc32c(bytes, 0, H_CRC) || v.getUint32(H_CRC + 4, true) !== 0) {
    throw new WalFormatError(`WAL segment ${file}: header checksum mismatch`);
  }
  const version = v.getUint16(H_VERSION, true);
  if (version !== SEGMENT_VERSION) {
    throw new WalFormatError(
      `WAL segment ${file}: version ${version} is not supported (want ${SEGMENT_VERSION})`,
    );
  }
  const shard = v.getUint32(H_SHARD, true);
  if (shardId !== undefined && shard !== shardId) {
    throw new WalFormatError(`WAL segment ${file}: belongs to shard ${shard}, found under shard ${shardId}`);
  }
  return readSeq(v, H_FIRST_SEQ);
}

/** Frames one record at `view[at ..]`: length, seq, then the CRC over seq + payload (payload written already). */
export function sealRecord(bytes: Uint8Array, view: DataView, at: number, seq: number): void {
  view.setUint32(at + R_LENGTH, PAYLOAD_LENGTH, true);
  writeSeq(view, at + R_SEQ, seq);
  view.setUint32(at + R_CRC, crc32c(bytes, at + R_SEQ, 8 + PAYLOAD_LENGTH), true);
}

/** Whether the 112 bytes at `at` form a valid record (length 96, CRC matches). */
export function isValidRecord(bytes: Uint8Array, view: DataView, at: number): boolean {
  if (view.getUint32(at + R_LENGTH, true) !== PAYLOAD_LENGTH) return false;
  return view.getUint32(at + R_CRC, true) === crc32c(bytes, at + R_SEQ, 8 + PAYLOAD_LENGTH);
}

/** Throws a WalFormatError naming the value unless `bytes` is an integer in [MIN_SEGMENT_BYTES, 2^40]. */
export function checkSegmentBytes(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < MIN_SEGMENT_BYTES || bytes > 2 ** 40) {
    throw new WalFormatError(
      `WAL segment size must be an integer between ${MIN_SEGMENT_BYTES} and 2^40 bytes, got ${String(bytes)}`,
    );
  }
}
