/**
 * Feeds one shard's events into the PgWriter by re-running the shard's durable WAL through a replica
 * engine (deterministic: the replica's events are byte-identical to the shard's), so PostgreSQL never
 * gets ahead of the WAL and catching up after an outage or a restart is "replay the WAL from the
 * persisted seq".
 *
 * Start (`PgFeeder.start`): the writer's journal_progress for the shard says (cmdSeq P, eventSeq E)
 * are persisted; the replica starts from the newest snapshot with cmdSeq <= P (or empty), replays
 * the WAL forward, and events with seq <= E are dropped (already in PostgreSQL), so rows are neither
 * missed nor sent twice (and a re-sent row would change nothing anyway: see PgWriter).
 *
 * `poll()` (from the journal worker's task loop, journal/pg/pgJournalTask.ts) reads WAL records up to
 * the shard's durable seq in chunks of `chunkRecords`, applies each to the replica into an in-memory
 * EventBuffer, hands every event to the writer and marks the command's end. It stops reading while
 * `writer.full()`: the WAL keeps the truth, so a slow or absent PostgreSQL only grows the lag, never
 * memory and never the shard's latency.
 * Thread-safety: the journal worker thread; one feeder per shard, all sharing one writer.
 */
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import type { MatchingEngineOptions } from '../../engine/book/MatchingEngine.js';
import { EVENT_SIZE, SEQ } from '../../engine/records/EventRecord.js';
import { Replica } from '../Replica.js';
import type { SnapshotStore } from '../snapshot/SnapshotStore.js';
import type { WalReader } from '../wal/WalReader.js';
import { PgWriterError } from './PgError.js';
import type { PgWriter } from './PgWriter.js';

export interface PgFeederOptions {
  readonly shardId: number;
  /** The shard's engine configuration (the same the shard runs with). */
  readonly engine: MatchingEngineOptions;
  readonly snapshots: SnapshotStore;
  readonly reader: WalReader;
  readonly writer: PgWriter;
  /** The seq up to which the shard's WAL is fsynced. */
  readonly durableSeq: () => number;
  /** WAL records read between two `full()` checks (bounds the writer's overshoot); default 32. */
  readonly chunkRecords?: number;
  /** Records per `poll()` at most; default 1024 (a poll holds the journal thread: the writer's replies wait behind it). */
  readonly maxRecordsPerPoll?: number;
}

export class PgFeeder {
  readonly shardId: number;
  readonly replica: Replica;
  private readonly reader: WalReader;
  private readonly writer: PgWriter;
  private readonly durableSeq: () => number;
  private readonly chunk: number;
  private readonly maxPerPoll: number;
  private readonly sink: EventBuffer;
  /** Events with seq <= this are already persisted (set at start from journal_progress). */
  private readonly skipUpTo: number;
  private readonly onRecord: (seq: number, view: DataView, offset: number) => void;

  private constructor(options: PgFeederOptions, replica: Replica, skipUpTo: number) {
    this.shardId = options.shardId;
    this.replica = replica;
    this.reader = options.reader;
    this.writer = options.writer;
    this.durableSeq = options.durableSeq;
    this.chunk = options.chunkRecords ?? 32;
    this.maxPerPoll = options.maxRecordsPerPoll ?? 1024;
    if (
      !Number.isInteger(this.chunk) ||
      this.chunk < 1 ||
      !Number.isInteger(this.maxPerPoll) ||
      this.maxPerPoll < 1
    ) {
      throw new PgWriterError(
        `PgFeeder chunkRecords and maxRecordsPerPoll must be integers >= 1, got ${this.chunk} and ${this.maxPerPoll}`,
      );
    }
    this.sink = new EventBuffer(1024);
    this.skipUpTo = skipUpTo;
    this.onRecord = (seq, view, offset) => this.apply(seq, view, offset);
  }

  /**
   * A feeder positioned after what PostgreSQL holds for the shard. The writer's progress must be
   * loaded (`await writer.loadProgress()`).
   */
  static start(options: PgFeederOptions): PgFeeder {
    const persistedCmd = options.writer.persistedCmdSeq(options.shardId);
    if (persistedCmd < 0) {
      throw new PgWriterError(`PgFeeder for shard ${options.shardId}: call writer.loadProgress() first`);
    }
    // PostgreSQL only ever receives durable WAL records, so it can never be ahead of this shard's
    // log. If it is, the WAL is not the one the database was fed from (a fresh or foreign DATA_DIR
    // with an old database): feeding would skip every command up to the old progress, silently.
    const walEnd = Math.max(options.reader.lastSeq(), options.durableSeq());
    if (persistedCmd > walEnd) {
      throw new PgWriterError(
        `PostgreSQL journal of shard ${options.shardId} is at command ${persistedCmd} but the WAL ends at ${walEnd}: ` +
          'this DATA_DIR is not the one the database was fed from (point DATABASE_URL at a fresh database, or restore the DATA_DIR)',
      );
    }
    const replica = Replica.restore(options.engine, options.snapshots, persistedCmd);
    return new PgFeeder(options, replica, options.writer.persistedEventSeq(options.shardId));
  }

  /** WAL commands durable but not yet in PostgreSQL (for health and metrics). */
  lag(): number {
    return Math.max(0, this.durableSeq() - this.writer.persistedCmdSeq(this.shardId));
  }

  /** Reads and feeds what is durable, bounded; returns the number of WAL records applied. */
  poll(): number {
    let done = 0;
    const upto = this.durableSeq();
    while (done < this.maxPerPoll && !this.writer.full()) {
      const from = this.replica.cmdSeq;
      if (from >= upto) break;
      const last = this.reader.readFrom(
        from,
        upto,
        this.onRecord,
        Math.min(this.chunk, this.maxPerPoll - done),
      );
      if (last === from) break;
      done += last - from;
    }
    return done;
  }

  private apply(seq: number, view: DataView, offset: number): void {
    const sink = this.sink;
    sink.clear();
    this.replica.apply(seq, view, offset, sink);
    const v = sink.view;
    const w = this.writer;
    const shard = this.shardId;
    const skip = this.skipUpTo;
    for (let i = 0; i < sink.count; i++) {
      const o = i * EVENT_SIZE;
      if (v.getFloat64(o + SEQ, true) > skip) w.add(shard, v, o);
    }
    w.endCommand(shard, seq, this.replica.eventSeq);
  }
}
