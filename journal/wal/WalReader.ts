/**
 * Reads one shard's write-ahead log (layout: WalFormat.ts) in sequence order, validating every
 * record: start-up recovery replays it into the engine, and followers (the PostgreSQL writer inside
 * the journal worker) tail it as it grows.
 *
 *   const reader = new WalReader(walDir(dataDir, k), { log, allowGaps });
 *   let last = 0;
 *   last = reader.readFrom(last, durableSeq, (seq, view, offset) => { ... 96-byte command at offset });
 *   reader.lastSeq();                                  // last valid seq on disk (0: empty log)
 *   reader.truncateTail();                             // recovery only: cut a torn tail
 *
 * `readFrom(afterSeq, uptoSeq, handler, limit)` delivers complete valid records with
 * afterSeq < seq <= uptoSeq, in order, at most `limit`, and returns the last seq delivered (afterSeq
 * if none). Calling it again with that value continues where it stopped without re-reading (a
 * different afterSeq repositions: a jump inside a segment, records are fixed-size). It stops quietly
 * at the end of the data: a record not yet complete, or one whose CRC does not match in the newest
 * segment (a torn tail after a crash; a writer mid-write while tailing). It throws WalGapError on a
 * sequence that is not previous + 1 (gap, duplicate, reorder), on a segment that does not continue the
 * previous one, on a start position the log no longer holds, and on a corrupt record followed by more
 * segments; with `allowGaps` it logs a warning instead and goes on (a duplicate is skipped, a gap is
 * accepted, a corrupt middle segment is left at its last good record). WalFormatError for a segment
 * whose header is not valid (except the newest one's, when shorter than a header: a crash while the
 * segment was being created, treated as an empty tail that `truncateTail` empties).
 *
 * The handler gets a DataView over the reader's own buffer (~900 KiB, bounded, reused): the bytes
 * are valid during the call only. No allocation per record.
 * Thread-safety: one instance per thread; several readers (other threads, other instances) may read
 * the same files while the journal appends to them.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { WalFormatError, WalGapError, WalIoError } from './WalError.js';
import {
  checkSegmentHeader,
  isValidRecord,
  MAX_SEQ,
  parseSegmentName,
  R_PAYLOAD,
  R_SEQ,
  RECORD_LENGTH,
  readSeq,
  SEGMENT_HEADER_LENGTH,
  walDir,
} from './WalFormat.js';

export { walDir };

/** Receives one record: its seq, a view of the reader's buffer and the offset of the 96-byte command. */
export type WalRecordHandler = (seq: number, view: DataView, offset: number) => void;

/** The part of a pino logger the reader uses. */
export interface WalLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface WalReaderOptions {
  readonly log?: WalLog;
  /** Log gaps, duplicates and corrupt middle segments instead of throwing (RECOVERY_ALLOW_GAPS=1). */
  readonly allowGaps?: boolean;
  /** When set, every segment header must name this shard. */
  readonly shardId?: number;
}

/** What `truncateTail` cut. */
export interface TruncatedTail {
  /** The last good record's seq (the log now ends there). */
  readonly lastGoodSeq: number;
  /** The seq field of the first bad record, if its 8 bytes were there (not trustworthy: bad CRC). */
  readonly claimedSeq: number | undefined;
  readonly file: string;
  /** File offset the file was cut at. */
  readonly offset: number;
  readonly droppedBytes: number;
}

interface Segment {
  readonly firstSeq: number;
  readonly file: string;
}

/** Records read per file read: ~900 KiB. */
const CHUNK_RECORDS = 8192;
const NO_FD = -1;

export class WalReader {
  readonly dir: string;
  private readonly log: WalLog | undefined;
  private readonly allowGaps: boolean;
  private readonly shardId: number | undefined;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private segments: Segment[];
  /** Index in `segments` of the open segment; -1 when none is open. */
  private segIdx: number;
  private fd: number;
  /** File offset of the next record to read in the open segment. */
  private offset: number;
  /** Seq of the last record read (delivered or skipped); the next must be prevSeq + 1. */
  private prevSeq: number;
  /** Buffer holds file bytes [bufFileOffset, bufFileOffset + bufLen); pos is the next record in it. */
  private bufFileOffset: number;
  private bufLen: number;
  private positioned: boolean;

  constructor(dir: string, options: WalReaderOptions = {}) {
    this.dir = dir;
    this.log = options.log;
    this.allowGaps = options.allowGaps === true;
    this.shardId = options.shardId;
    this.buf = new Uint8Array(CHUNK_RECORDS * RECORD_LENGTH);
    this.view = new DataView(this.buf.buffer);
    this.segments = [];
    this.segIdx = -1;
    this.fd = NO_FD;
    this.offset = 0;
    this.prevSeq = 0;
    this.bufFileOffset = 0;
    this.bufLen = 0;
    this.positioned = false;
  }

  /**
   * Delivers the valid records with afterSeq < seq <= uptoSeq in order (at most `limit`) and returns
   * the last seq delivered, or afterSeq if none.
   */
  readFrom(afterSeq: number, uptoSeq: number, handler: WalRecordHandler, limit = Infinity): number {
    if (!Number.isInteger(afterSeq) || afterSeq < 0 || afterSeq > MAX_SEQ) {
      throw new WalFormatError(`readFrom afterSeq must be an integer seq >= 0, got ${String(afterSeq)}`);
    }
    if (!this.positioned || afterSeq !== this.prevSeq) this.seek(afterSeq);
    let delivered = afterSeq;
    let count = 0;
    const view = this.view;
    const buf = this.buf;
    while (count < limit) {
      if (this.segIdx < 0 && !this.openNext()) break;
      let pos = this.offset - this.bufFileOffset;
      if (pos < 0 || pos + RECORD_LENGTH > this.bufLen) {
        this.fill();
        pos = 0;
        if (this.bufLen < RECORD_LENGTH) {
          // End of this segment's data: a clean end moves to the next segment if there is one.
          if (this.bufLen === 0 && this.openNext()) continue;
          if (this.bufLen > 0 && this.hasLaterSegment()) this.corruptMiddle('an incomplete record');
          this.bufLen = 0;
          break;
        }
      }
      if (!isValidRecord(buf, view, pos)) {
        if (this.hasLaterSegment()) {
          this.corruptMiddle('a record with a bad length or checksum');
          continue;
        }
        // Note: forget the buffer, so a tailing call re-reads a record the writer was still writing.
        this.bufLen = 0;
        break;
      }
      const seq = readSeq(view, pos + R_SEQ);
      if (seq !== this.prevSeq + 1) {
        if (!this.allowGaps) throw this.gapError(seq);
        this.log?.warn(
          { file: this.file(), expected: this.prevSeq + 1, found: seq },
          seq <= this.prevSeq
            ? 'WAL duplicate sequence skipped (RECOVERY_ALLOW_GAPS)'
            : 'WAL gap accepted (RECOVERY_ALLOW_GAPS)',
        );
        if (seq <= this.prevSeq) {
          this.offset += RECORD_LENGTH;
          continue;
        }
      }
      if (seq > uptoSeq) break;
      this.prevSeq = seq;
      this.offset += RECORD_LENGTH;
      if (seq > afterSeq) {
        handler(seq, view, pos + R_PAYLOAD);
        delivered = seq;
        count++;
      }
    }
    return delivered;
  }

  /** The last valid seq of the newest segment (0 for an empty log). Repositions the reader. */
  lastSeq(): number {
    this.listSegments();
    const n = this.segments.length;
    if (n === 0) return 0;
    const from = this.segments[n - 1].firstSeq - 1;
    this.positioned = false;
    const last = this.readFrom(from, MAX_SEQ, noop);
    this.positioned = false;
    return last;
  }

  /**
   * Recovery only, after `readFrom(.., MAX_SEQ, ..)` reached the end: if the newest segment ends in a
   * torn or corrupt record, cuts the file there (and fsyncs it), so what is on disk is exactly what was
   * replayed; returns what was cut, or undefined if the log ended cleanly. A newest segment shorter
   * than its header (a crash while it was created) is cut to 0 bytes (the journal re-creates it).
   */
  truncateTail(): TruncatedTail | undefined {
    if (this.segIdx < 0 || this.segIdx !== this.segments.length - 1) return undefined;
    const file = this.file();
    const size = fstatSync(this.fd).size;
    if (this.offset >= size) return undefined;
    let claimedSeq: number | undefined;
    if (size - this.offset >= R_SEQ + 8) {
      const head = new Uint8Array(R_SEQ + 8);
      readSync(this.fd, head, 0, head.length, this.offset);
      claimedSeq = readSeq(new DataView(head.buffer), R_SEQ);
    }
    const cut: TruncatedTail = {
      lastGoodSeq: this.prevSeq,
      claimedSeq,
      file,
      offset: this.offset,
      droppedBytes: size - this.offset,
    };
    try {
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, this.offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw new WalIoError(`cannot truncate the WAL tail of ${file} at byte ${this.offset}`, err);
    }
    this.bufLen = 0;
    return cut;
  }

  /** Closes the open segment (a later call reopens). */
  close(): void {
    this.closeFd();
    this.positioned = false;
  }

  // ---------------------------------------------------------------- internals

  private seek(afterSeq: number): void {
    this.closeFd();
    this.listSegments();
    this.positioned = true;
    const segs = this.segments;
    let i = segs.length - 1;
    while (i >= 0 && segs[i].firstSeq > afterSeq + 1) i--;
    if (i < 0) {
      if (segs.length > 0 && afterSeq > 0 && !this.allowGaps) {
        throw new WalGapError(
          `WAL of ${this.dir} starts at seq ${segs[0].firstSeq}: records ${afterSeq + 1}..${segs[0].firstSeq - 1} are missing`,
        );
      }
      // Nothing at or before afterSeq + 1: start at the first segment (if any) when it appears.
      this.segIdx = -1;
      this.prevSeq = afterSeq;
      if (segs.length > 0) {
        if (afterSeq > 0) {
          this.log?.warn(
            { dir: this.dir, from: afterSeq + 1, to: segs[0].firstSeq - 1 },
            'WAL records missing (RECOVERY_ALLOW_GAPS)',
          );
        }
        this.prevSeq = segs[0].firstSeq - 1;
        this.open(0);
      }
      return;
    }
    this.open(i);
    // Note: records are fixed-size and contiguous, so the record after afterSeq is at a computed
    // offset; the continuity check on the next record catches a segment that is not contiguous.
    const skip = afterSeq - (segs[i].firstSeq - 1);
    this.offset = SEGMENT_HEADER_LENGTH + skip * RECORD_LENGTH;
    this.prevSeq = afterSeq;
  }

  private listSegments(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') names = [];
      else throw new WalIoError(`cannot list the WAL directory ${this.dir}`, err);
    }
    const segs: Segment[] = [];
    for (const name of names) {
      const first = parseSegmentName(name);
      if (first > 0) segs.push({ firstSeq: first, file: join(this.dir, name) });
    }
    segs.sort((a, b) => a.firstSeq - b.firstSeq);
    this.segments = segs;
    if (this.segIdx >= 0) this.segIdx = -1;
  }

  /** Opens segment i at its first record; checks its header. */
  private open(i: number): void {
    this.closeFd();
    const seg = this.segments[i];
    try {
      this.fd = openSync(seg.file, 'r');
    } catch (err) {
      throw new WalIoError(`cannot open WAL segment ${seg.file}`, err);
    }
    this.segIdx = i;
    this.bufLen = 0;
    this.bufFileOffset = 0;
    this.offset = SEGMENT_HEADER_LENGTH;
    const head = this.buf;
    const got = readSync(this.fd, head, 0, SEGMENT_HEADER_LENGTH, 0);
    if (got < SEGMENT_HEADER_LENGTH && i === this.segments.length - 1) {
      // A crash while the newest segment was being created: an empty tail.
      this.offset = 0;
      return;
    }
    const first = checkSegmentHeader(head.subarray(0, got), seg.file, this.shardId);
    if (first !== seg.firstSeq) {
      throw new WalFormatError(
        `WAL segment ${seg.file}: header says first seq ${first}, the name ${seg.firstSeq}`,
      );
    }
  }

  /**
   * At a clean end of the open segment (or with none open): moves to the next segment if one exists,
   * checking that it continues the sequence. Returns whether a segment is open and positioned.
   */
  private openNext(): boolean {
    let next = this.segIdx + 1;
    if (next >= this.segments.length) {
      // Note: re-list only here (at the end of the known data), so a tailing reader finds new segments.
      const current = this.segIdx >= 0 ? this.segments[this.segIdx].firstSeq : -1;
      this.listSegmentsKeeping();
      next = current < 0 ? 0 : this.segments.findIndex((s) => s.firstSeq > current);
      if (next < 0 || next >= this.segments.length) return false;
    }
    if (this.segIdx >= 0 && this.offset < SEGMENT_HEADER_LENGTH) {
      // The current segment is a torn header; nothing follows it legitimately.
      return false;
    }
    const first = this.segments[next].firstSeq;
    if (first !== this.prevSeq + 1) {
      if (!this.allowGaps) throw this.segmentGapError(next);
      this.log?.warn(
        { file: this.segments[next].file, expected: this.prevSeq + 1, found: first },
        'WAL segment does not continue the sequence (RECOVERY_ALLOW_GAPS)',
      );
      if (first <= this.prevSeq) return false;
      this.prevSeq = first - 1;
    }
    this.open(next);
    return true;
  }

  private listSegmentsKeeping(): void {
    const idx = this.segIdx;
    const current = idx >= 0 ? this.segments[idx].firstSeq : -1;
    this.listSegments();
    if (current >= 0) this.segIdx = this.segments.findIndex((s) => s.firstSeq === current);
  }

  private hasLaterSegment(): boolean {
    return this.segIdx >= 0 && this.segIdx < this.segments.length - 1;
  }

  /** A bad record in a segment that is not the newest: a gap, unless allowGaps (then skip to the next). */
  private corruptMiddle(what: string): void {
    const file = this.file();
    const next = this.segments[this.segIdx + 1];
    const message = `WAL ${file} has ${what} after seq ${this.prevSeq} (byte ${this.offset}), and segment ${next.file} follows: records are missing in the middle of the log`;
    if (!this.allowGaps) throw new WalGapError(message);
    this.log?.warn(
      { file, lastGoodSeq: this.prevSeq, next: next.file },
      'WAL corrupt record in the middle skipped (RECOVERY_ALLOW_GAPS)',
    );
    this.bufLen = 0;
    // Jump to the next segment; openNext checks its continuity (a gap, allowed here).
    this.offset = Number.MAX_SAFE_INTEGER;
    const nextIdx = this.segIdx + 1;
    this.prevSeq = Math.max(this.prevSeq, next.firstSeq - 1);
    this.open(nextIdx);
  }

  private fill(): void {
    this.bufFileOffset = this.offset;
    try {
      this.bufLen = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
    } catch (err) {
      throw new WalIoError(`cannot read WAL segment ${this.file()} at byte ${this.offset}`, err);
    }
  }

  private gapError(seq: number): WalGapError {
    const kind = seq <= this.prevSeq ? 'duplicate or out-of-order' : 'gap';
    return new WalGapError(
      `WAL ${kind} in ${this.file()} at byte ${this.offset}: expected seq ${this.prevSeq + 1}, found ${seq} (set RECOVERY_ALLOW_GAPS=1 to start anyway)`,
    );
  }

  private segmentGapError(next: number): WalGapError {
    return new WalGapError(
      `WAL segment ${this.segments[next].file} starts at seq ${this.segments[next].firstSeq} but the previous segment ends at seq ${this.prevSeq} (set RECOVERY_ALLOW_GAPS=1 to start anyway)`,
    );
  }

  private file(): string {
    return this.segIdx >= 0 ? this.segments[this.segIdx].file : this.dir;
  }

  private closeFd(): void {
    if (this.fd !== NO_FD) {
      closeSync(this.fd);
      this.fd = NO_FD;
    }
    this.segIdx = -1;
    this.bufLen = 0;
  }
}

function noop(): void {}
