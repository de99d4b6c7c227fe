/**
 * Appends one shard's commands to its write-ahead log (layout: WalFormat.ts) with group commit: the
 * journal copies every command it can see into a bounded batch buffer (`append`), then `commit()`
 * writes the batch with one write and one fdatasync. Segments roll after a commit once the file has
 * reached `segmentBytes` (so a segment exceeds it by at most one batch); a new segment's header is
 * fsynced with the file and its directory entry before any record goes into it.
 *
 * A new writer never appends to an existing file: it starts the segment named by its first seq (the
 * last seq on disk + 1; recovery has truncated any torn tail, so a file of that name can only be an
 * empty segment left by a crash, and it is re-created).
 *
 * Buffer policy: `capacity` records (default 4096, ~450 KiB); `append` returns false when the batch
 * is full, and the journal reads no more than `room()` records before committing, so it never is.
 * Thread-safety: one writer per shard directory, used by the journal worker thread only.
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { WalFormatError, WalIoError } from './WalError.js';
import {
  checkSegmentBytes,
  DEFAULT_SEGMENT_BYTES,
  MAX_SEQ,
  PAYLOAD_LENGTH,
  R_PAYLOAD,
  RECORD_LENGTH,
  SEGMENT_HEADER_LENGTH,
  sealRecord,
  segmentName,
  writeSegmentHeader,
} from './WalFormat.js';

export interface WalWriterOptions {
  /** Roll to a new segment after a commit once the file has this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Records per batch buffer. Default 4096. */
  readonly capacity?: number;
}

export class WalWriter {
  readonly dir: string;
  readonly shardId: number;
  readonly segmentBytes: number;
  /** Records the batch buffer holds. */
  readonly capacity: number;
  /** Bytes written and fsynced so far by this writer (all segments). */
  bytesWritten: number;
  /** Commits (fsyncs) so far. */
  commits: number;
  /** Segments this writer opened. */
  segmentsOpened: number;

  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private fd: number;
  private file: string;
  private fileBytes: number;
  /** Seq of the next record appended. */
  private nextSeq: number;
  /** Seq of the last record made durable (0: none yet, or the seq before this writer's first). */
  private durable: number;
  private pending: number;

  /** Opens a new segment for `nextSeq` (the last seq on disk + 1) under `dir`. */
  constructor(dir: string, shardId: number, nextSeq: number, options: WalWriterOptions = {}) {
    if (!Number.isInteger(nextSeq) || nextSeq < 1 || nextSeq > MAX_SEQ) {
      throw new WalFormatError(`WAL next seq must be an integer >= 1, got ${String(nextSeq)}`);
    }
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    checkSegmentBytes(this.segmentBytes);
    const capacity = options.capacity ?? 4096;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 20) {
      throw new WalFormatError(
        `WAL batch capacity must be an integer 1..2^20 records, got ${String(capacity)}`,
      );
    }
    this.dir = dir;
    this.shardId = shardId;
    this.capacity = capacity;
    this.buf = new Uint8Array(capacity * RECORD_LENGTH);
    this.view = new DataView(this.buf.buffer);
    this.bytesWritten = 0;
    this.commits = 0;
    this.segmentsOpened = 0;
    this.fd = -1;
    this.file = '';
    this.fileBytes = 0;
    this.nextSeq = nextSeq;
    this.durable = nextSeq - 1;
    this.pending = 0;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new WalIoError(`cannot create the WAL directory ${dir}`, err);
    }
    this.openSegment();
  }

  /** Records that can still be appended before `commit()`. */
  room(): number {
    return this.capacity - this.pending;
  }

  /** Seq of the last record made durable by `commit()`. */
  get durableSeq(): number {
    return this.durable;
  }

  /**
   * Copies the 96-byte command at `src[offset ..]` into the batch with the next seq. Returns false
   * (nothing copied) when the batch is full.
   */
  append(src: DataView, offset: number): boolean {
    if (this.pending === this.capacity) return false;
    const view = this.view;
    const at = this.pending * RECORD_LENGTH;
    const to = at + R_PAYLOAD;
    // Note: int32 moves through DataViews: no subarray allocation, every bit kept.
    for (let i = 0; i < PAYLOAD_LENGTH; i += 4) view.setInt32(to + i, src.getInt32(offset + i, true), true);
    sealRecord(this.buf, view, at, this.nextSeq);
    this.nextSeq++;
    this.pending++;
    return true;
  }

  /**
   * Writes the batch and fdatasyncs it (group commit); returns the seq now durable. Rolls the segment
   * afterwards if it reached `segmentBytes`. With nothing pending it does nothing.
   */
  commit(): number {
    const n = this.pending;
    if (n === 0) return this.durable;
    const length = n * RECORD_LENGTH;
    try {
      let done = 0;
      while (done < length) done += writeSync(this.fd, this.buf, done, length - done);
      fdatasyncSync(this.fd);
    } catch (err) {
      throw new WalIoError(`cannot write or fsync WAL segment ${this.file} (${length} bytes)`, err);
    }
    this.fileBytes += length;
    this.bytesWritten += length;
    this.commits++;
    this.pending = 0;
    this.durable = this.nextSeq - 1;
    if (this.fileBytes >= this.segmentBytes) this.openSegment();
    return this.durable;
  }

  /** Commits what is pending and closes the file. */
  close(): void {
    this.commit();
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private openSegment(): void {
    if (this.fd >= 0) closeSync(this.fd);
    const file = join(this.dir, segmentName(this.nextSeq));
    try {
      this.fd = openSync(file, 'w');
      const head = new Uint8Array(SEGMENT_HEADER_LENGTH);
      writeSegmentHeader(head, this.shardId, this.nextSeq);
      writeSync(this.fd, head, 0, head.length);
      fsyncSync(this.fd);
      // Note: the directory entry must be durable too, or a crash could lose the whole new file.
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (err) {
      throw new WalIoError(`cannot create WAL segment ${file}`, err);
    }
    this.file = file;
    this.fileBytes = SEGMENT_HEADER_LENGTH;
    this.segmentsOpened++;
  }
}
