/**
 * The snapshot file format: a 72-byte header, then the compressed engine state
 * (`MatchingEngine.exportState()`, layout in engine/book/EngineState.ts). Little-endian.
 *
 * ```
 *  0 magic u32 "EXSN"        4 version u16 (1)       6 compression u8 (1 = raw deflate)
 *  7 level u8 (zlib level)   8 shardId u32          12 reserved u32 (0)
 * 16 cmdSeq f64  (WAL seq of the last command included)
 * 24 eventSeq f64 (engine event seq after that command)
 * 32 stateHash 16 bytes (ASCII hex of MatchingEngine.stateHash())
 * 48 rawLength f64 (engine state bytes)      56 payloadLength f64 (compressed bytes that follow)
 * 64 payloadCrc u32 (CRC-32C of the payload) 68 headerCrc u32 (CRC-32C of bytes 0..67)
 * 72 payload
 * ```
 *
 * File name `snap-<cmdSeq, 16 decimal digits>.snap` (names sort by cmdSeq); written as
 * `<name>.<unique>.tmp`, fsynced, renamed, directory fsynced. docs/snapshots.md has the full story.
 *
 * Callers: SnapshotStore (read, verify), snapshotTask (write, on a piscina thread), tests.
 * Thread-safety: pure functions and constants; any thread.
 */
import { inflateRawSync } from 'node:zlib';
import { ExchangeError } from '../../engine/errors.js';
import { crc32c } from '../wal/Crc32c.js';

/** "EXSN" as a little-endian u32. */
export const SNAPSHOT_MAGIC = 0x4e535845;
export const SNAPSHOT_VERSION = 1;
export const COMPRESSION_NONE = 0;
export const COMPRESSION_DEFLATE_RAW = 1;

export const F_MAGIC = 0;
export const F_VERSION = 4;
export const F_COMPRESSION = 6;
export const F_LEVEL = 7;
export const F_SHARD_ID = 8;
export const F_CMD_SEQ = 16;
export const F_EVENT_SEQ = 24;
export const F_STATE_HASH = 32;
export const STATE_HASH_BYTES = 16;
export const F_RAW_LENGTH = 48;
export const F_PAYLOAD_LENGTH = 56;
export const F_PAYLOAD_CRC = 64;
export const F_HEADER_CRC = 68;
export const SNAPSHOT_HEADER_BYTES = 72;

const NAME = /^snap-(\d{16})\.snap$/;

/** What a snapshot records about itself. */
export interface SnapshotMeta {
  readonly shardId: number;
  /** WAL seq of the last command the state includes (0 = none). */
  readonly cmdSeq: number;
  /** The engine's event seq after that command. */
  readonly eventSeq: number;
  /** `MatchingEngine.stateHash()` of the state (16 hex digits). */
  readonly stateHash: string;
}

/** What a writer passes: the stateHash may be left to the writer task (computed from the state). */
export type SnapshotWriteMeta = Omit<SnapshotMeta, 'stateHash'> & { readonly stateHash?: string };

/** A snapshot file is malformed, truncated or fails its checksum. */
export class SnapshotFormatError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_SNAPSHOT_FORMAT', message);
  }
}

export function checkMeta(meta: SnapshotMeta): void {
  const { shardId, cmdSeq, eventSeq, stateHash } = meta;
  if (!Number.isInteger(shardId) || shardId < 0 || shardId > 0xffffffff) {
    throw new SnapshotFormatError(`snapshot shardId must be a u32, got ${shardId}`);
  }
  if (!Number.isSafeInteger(cmdSeq) || cmdSeq < 0 || cmdSeq >= 1e16) {
    throw new SnapshotFormatError(`snapshot cmdSeq must be an integer in 0..1e16-1, got ${cmdSeq}`);
  }
  if (!Number.isSafeInteger(eventSeq) || eventSeq < 0) {
    throw new SnapshotFormatError(`snapshot eventSeq must be an integer >= 0, got ${eventSeq}`);
  }
  if (!/^[0-9a-f]{16}$/.test(stateHash)) {
    throw new SnapshotFormatError(
      `snapshot stateHash must be 16 hex digits, got ${JSON.stringify(stateHash)}`,
    );
  }
}

/** The file name of the snapshot at `cmdSeq`. */
export function snapshotFileName(cmdSeq: number): string {
  return `snap-${String(cmdSeq).padStart(16, '0')}.snap`;
}

/** The cmdSeq a snapshot file name stands for, or -1 when it is not a snapshot file name. */
export function cmdSeqOfFileName(name: string): number {
  const m = NAME.exec(name);
  return m === null ? -1 : Number(m[1]);
}

/** The header for `payload` (already compressed with `compression` at `level`). */
export function encodeHeader(
  meta: SnapshotMeta,
  compression: number,
  level: number,
  rawLength: number,
  payload: Uint8Array,
): Uint8Array {
  checkMeta(meta);
  const h = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  const v = new DataView(h.buffer);
  v.setUint32(F_MAGIC, SNAPSHOT_MAGIC, true);
  v.setUint16(F_VERSION, SNAPSHOT_VERSION, true);
  v.setUint8(F_COMPRESSION, compression);
  v.setUint8(F_LEVEL, level & 0xff);
  v.setUint32(F_SHARD_ID, meta.shardId, true);
  v.setFloat64(F_CMD_SEQ, meta.cmdSeq, true);
  v.setFloat64(F_EVENT_SEQ, meta.eventSeq, true);
  for (let i = 0; i < STATE_HASH_BYTES; i++) h[F_STATE_HASH + i] = meta.stateHash.charCodeAt(i);
  v.setFloat64(F_RAW_LENGTH, rawLength, true);
  v.setFloat64(F_PAYLOAD_LENGTH, payload.byteLength, true);
  v.setUint32(F_PAYLOAD_CRC, crc32c(payload, 0, payload.byteLength), true);
  v.setUint32(F_HEADER_CRC, crc32c(h, 0, F_HEADER_CRC), true);
  return h;
}

/** A verified snapshot: its meta and the decompressed engine state. */
export interface DecodedSnapshot {
  readonly meta: SnapshotMeta;
  readonly state: Uint8Array;
}

/**
 * Verifies a whole snapshot file (header checksum, magic, version, lengths, payload checksum),
 * decompresses it and checks the decompressed length. Throws SnapshotFormatError naming the fault.
 */
export function decodeSnapshot(file: Uint8Array): DecodedSnapshot {
  if (file.byteLength < SNAPSHOT_HEADER_BYTES) {
    throw new SnapshotFormatError(
      `snapshot truncated: ${file.byteLength} bytes, the header needs ${SNAPSHOT_HEADER_BYTES}`,
    );
  }
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerCrc = crc32c(file, 0, F_HEADER_CRC);
  if (v.getUint32(F_HEADER_CRC, true) !== headerCrc)
    throw new SnapshotFormatError('snapshot header checksum mismatch');
  if (v.getUint32(F_MAGIC, true) !== SNAPSHOT_MAGIC)
    throw new SnapshotFormatError('snapshot magic is not "EXSN"');
  const version = v.getUint16(F_VERSION, true);
  if (version !== SNAPSHOT_VERSION)
    throw new SnapshotFormatError(`snapshot version ${version} is not supported`);
  const compression = v.getUint8(F_COMPRESSION);
  const rawLength = v.getFloat64(F_RAW_LENGTH, true);
  const payloadLength = v.getFloat64(F_PAYLOAD_LENGTH, true);
  if (!Number.isSafeInteger(rawLength) || !Number.isSafeInteger(payloadLength) || payloadLength < 0) {
    throw new SnapshotFormatError(`snapshot lengths are invalid (${rawLength}, ${payloadLength})`);
  }
  if (file.byteLength !== SNAPSHOT_HEADER_BYTES + payloadLength) {
    throw new SnapshotFormatError(
      `snapshot is ${file.byteLength} bytes, its header says ${SNAPSHOT_HEADER_BYTES + payloadLength}`,
    );
  }
  const payload = file.subarray(SNAPSHOT_HEADER_BYTES);
  if (crc32c(payload, 0, payload.byteLength) !== v.getUint32(F_PAYLOAD_CRC, true)) {
    throw new SnapshotFormatError('snapshot payload checksum mismatch');
  }
  let state: Uint8Array;
  if (compression === COMPRESSION_DEFLATE_RAW) {
    try {
      state = inflateRawSync(payload);
    } catch (err) {
      throw new SnapshotFormatError(`snapshot payload does not inflate: ${(err as Error).message}`);
    }
  } else if (compression === COMPRESSION_NONE) {
    state = payload;
  } else {
    throw new SnapshotFormatError(`snapshot compression ${compression} is unknown`);
  }
  if (state.byteLength !== rawLength) {
    throw new SnapshotFormatError(
      `snapshot state is ${state.byteLength} bytes, its header says ${rawLength}`,
    );
  }
  let stateHash = '';
  for (let i = 0; i < STATE_HASH_BYTES; i++) stateHash += String.fromCharCode(file[F_STATE_HASH + i]);
  const meta: SnapshotMeta = {
    shardId: v.getUint32(F_SHARD_ID, true),
    cmdSeq: v.getFloat64(F_CMD_SEQ, true),
    eventSeq: v.getFloat64(F_EVENT_SEQ, true),
    stateHash,
  };
  checkMeta(meta);
  return { meta, state };
}
