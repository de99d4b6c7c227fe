/**
 * The replica of one shard's engine in the journal worker: it follows the durable WAL, applying every
 * command record in seq order to its own MatchingEngine, so it holds the shard's exact state at a WAL
 * seq without pausing the hot shard. Snapshots are taken from it (`snapshot()`), and its events
 * feed the PostgreSQL writer.
 *
 * `Replica.restore(config, store, maxCmdSeq)` starts from the newest valid snapshot with
 * cmdSeq <= maxCmdSeq (or the empty engine at cmdSeq 0); then `apply(seq, ...)` must be called with
 * seq = cmdSeq + 1, cmdSeq + 2, ... (anything else throws ReplicaSeqError: the caller has a gap or a
 * duplicate). A snapshot copies the state synchronously on this thread (`exportState()`) and
 * hashes, compresses and writes it on the store's piscina pool.
 *
 * Callers: the journal worker (journal/JournalLoop.ts), tests, bench/journal/snapshot.bench.ts.
 * Thread-safety: single-threaded (the journal worker's thread).
 */
import type { EngineConfig } from '../engine/book/Engine.js';
import type { EventSink } from '../engine/book/EventSink.js';
import { MatchingEngine, type MatchingEngineOptions } from '../engine/book/MatchingEngine.js';
import { ExchangeError } from '../engine/errors.js';
import type { LoadedSnapshot, SnapshotStore } from './snapshot/SnapshotStore.js';

/** `apply()` got a record that is not the next one. */
export class ReplicaSeqError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_REPLICA_SEQ', message);
  }
}

export class Replica {
  readonly config: EngineConfig;
  readonly engine: MatchingEngine;
  readonly store: SnapshotStore;
  /** The snapshot the replica started from (undefined: the empty state). */
  readonly restoredFrom: LoadedSnapshot | undefined;
  private seq: number;

  /** A replica of `engine` (default: a fresh one) at `cmdSeq`; `Replica.restore` is the usual start. */
  constructor(
    config: MatchingEngineOptions,
    store: SnapshotStore,
    engine?: MatchingEngine,
    cmdSeq = 0,
    restoredFrom?: LoadedSnapshot,
  ) {
    if (!Number.isSafeInteger(cmdSeq) || cmdSeq < 0) {
      throw new ReplicaSeqError(`replica cmdSeq must be an integer >= 0, got ${cmdSeq}`);
    }
    this.config = config;
    this.store = store;
    this.engine = engine ?? new MatchingEngine(config);
    this.restoredFrom = restoredFrom;
    this.seq = cmdSeq;
  }

  /**
   * A replica at the newest valid snapshot of `store` with cmdSeq <= maxCmdSeq, or empty at cmdSeq 0.
   * A snapshot file that verifies but does not restore (EngineStateError: another shard, capacities
   * too small) throws: silently replaying from 0 instead could hide a configuration mistake.
   */
  static restore(
    config: MatchingEngineOptions,
    store: SnapshotStore,
    maxCmdSeq = Number.POSITIVE_INFINITY,
  ): Replica {
    const snap = store.loadNewest(maxCmdSeq);
    if (snap === undefined) return new Replica(config, store);
    const engine = MatchingEngine.fromState(config, snap.state);
    return new Replica(config, store, engine, snap.meta.cmdSeq, snap);
  }

  /** WAL seq of the last applied command (0: none). */
  get cmdSeq(): number {
    return this.seq;
  }

  /** The engine's event seq. */
  get eventSeq(): number {
    return this.engine.sequence;
  }

  /** Applies WAL record `seq` (the 96-byte command at `cmd[offset]`); returns the number of events. */
  apply(seq: number, cmd: DataView, offset: number, sink: EventSink): number {
    if (seq !== this.seq + 1) {
      throw new ReplicaSeqError(`replica at cmdSeq ${this.seq} got record ${seq}, expected ${this.seq + 1}`);
    }
    const n = this.engine.process(cmd, offset, sink);
    this.seq = seq;
    return n;
  }

  /**
   * Exports the state at the current cmdSeq and writes it through the store; resolves to the file's
   * path once durable. Rejects with SnapshotBusyError when the store's pool is full (counted there).
   */
  snapshot(): Promise<string> {
    const state = this.engine.exportState();
    // Note: the writer task computes the stateHash from the dump, off this thread.
    return this.store.write(
      { shardId: this.config.shardId, cmdSeq: this.seq, eventSeq: this.engine.sequence },
      state,
    );
  }
}
