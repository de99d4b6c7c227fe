/**
 * Snapshots as a journal-worker task (journal/JournalTask.ts): per shard a Replica follows the
 * durable WAL, a SnapshotScheduler decides when to snapshot it, the SnapshotStore writes the files on
 * a piscina thread, and after every snapshot written the task prunes old snapshots and the WAL
 * segments nobody needs any more (journal/wal/WalRetention.ts). Story: docs/snapshots.md §4,
 * retention: docs/durability.md "What is retained".
 *
 * Wiring (engine/pipeline.ts options, done by server start-up):
 *   journal: { ..., tasks: [new URL('./journal/snapshot/snapshotJournalTask.js', import.meta.url)],
 *              taskOptions: { maxOrders, maxSymbols, maxAccounts, snapshotEveryCommands?,
 *                             snapshotIntervalS?, snapshotKeep? } satisfies SnapshotJournalTaskOptions }
 * The capacity keys are the ones journal/pg/pgJournalTask.ts reads (one taskOptions object serves
 * both tasks). The policy keys default to SNAPSHOT_EVERY_COMMANDS / SNAPSHOT_INTERVAL_S
 * (`snapshotPolicyFromEnv`), `snapshotKeep` to 3.
 *
 * - start: `Replica.restore` from the newest valid snapshot (the one the shard itself recovered
 *   from), then the WAL after it.
 * - `poll()`: per shard, at most SLICE_RECORDS durable WAL records applied with a discarding sink,
 *   then `scheduler.afterBatch(replica)`, also when nothing was read (the state copy is synchronous
 *   here, the rest is on the pool; poll does not wait for it). The replica applies only records <= `ctx.durableSeq(k)`, so a
 *   snapshot is never ahead of the WAL.
 * - after each snapshot written: `prune(keep, held)` keeps the newest `keep` snapshots and the newest
 *   one at or below the lowest WAL retention hold (`ctx.walHeldFrom(k)`: PostgreSQL's persisted cmd
 *   seq, registered by pgJournalTask), then deletes the WAL segments whose records are all at or
 *   below the oldest snapshot kept (nothing when a hold is below every snapshot: that follower
 *   rebuilds from the empty state). The newest segment is never deleted. A failure here is logged
 *   and counted, never fatal (the files stay; the next snapshot retries).
 * - `close()` (after the journal's last WAL commit): applies the rest of the WAL up to the durable
 *   seq, writes the stop snapshot of every shard (`scheduler.onStop`), awaits it, prunes.
 * Tasks may be listed in any order: holds are registered at creation and read only when pruning,
 * which starts after every task was created.
 * Thread-safety: the journal worker thread only; the writer pool's thread only encodes and writes.
 */
import type { EventSink } from '../../engine/book/EventSink.js';
import type { MatchingEngineOptions } from '../../engine/book/MatchingEngine.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import type { JournalTask, JournalTaskContext } from '../JournalTask.js';
import { Replica } from '../Replica.js';
import { WalReader } from '../wal/WalReader.js';
import { deleteWalSegmentsThrough } from '../wal/WalRetention.js';
import { SnapshotScheduler, snapshotPolicyFromEnv } from './SnapshotScheduler.js';
import {
  SnapshotConfigError,
  type SnapshotLog,
  SnapshotStore,
  SnapshotWriterPool,
  snapshotDir,
} from './SnapshotStore.js';

/** `PipelineOptions.journal.taskOptions` keys this task reads (shared with pgJournalTask's). */
export interface SnapshotJournalTaskOptions {
  /** The shards' engine capacities (the same the shards run with). */
  readonly maxOrders: number;
  readonly maxSymbols: number;
  readonly maxAccounts: number;
  /** Snapshot after this many commands (default SNAPSHOT_EVERY_COMMANDS or 1,000,000). */
  readonly snapshotEveryCommands?: number;
  /** Snapshot after this many seconds if anything changed, 0 = off (default SNAPSHOT_INTERVAL_S or 300). */
  readonly snapshotIntervalS?: number;
  /** Snapshots kept per shard (default 3), plus the one a WAL retention hold needs. */
  readonly snapshotKeep?: number;
}

export const DEFAULT_SNAPSHOT_KEEP = 3;
/** WAL records applied per shard per poll at most (bounds the journal's pause: a few ms). */
export const SLICE_RECORDS = 4096;

export interface SnapshotShardStatus {
  /** WAL seq the replica has applied. */
  readonly cmdSeq: number;
  readonly taken: number;
  readonly skipped: number;
  readonly failed: number;
  /** WAL segment files deleted by retention (this run). */
  readonly walSegmentsDeleted: number;
  /** Prune or WAL deletion failures (logged; the next snapshot retries). */
  readonly retentionFailures: number;
}

export interface SnapshotJournalTask extends JournalTask {
  status(): SnapshotShardStatus[];
}

const STDERR_LOG: SnapshotLog = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', ...obj, msg })}\n`),
  info: () => {},
};

/** Events of a replayed command go nowhere: a few slots reused forever. */
class DiscardSink implements EventSink {
  readonly view = new DataView(new ArrayBuffer(EVENT_SIZE * 64));
  private next = 0;
  claim(): number {
    const at = this.next * EVENT_SIZE;
    this.next = (this.next + 1) & 63;
    return at;
  }
  commit(): void {
    this.next = 0;
  }
}

function capacity(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new SnapshotConfigError(
      `snapshotJournalTask needs taskOptions.${key} (an integer >= 1), got ${String(v)}`,
    );
  }
  return v;
}

class ShardSnapshots {
  readonly shardId: number;
  readonly replica: Replica;
  readonly scheduler: SnapshotScheduler;
  readonly store: SnapshotStore;
  readonly reader: WalReader;
  readonly onRecord: (seq: number, view: DataView, offset: number) => void;
  walSegmentsDeleted: number;
  retentionFailures: number;

  constructor(
    shardId: number,
    replica: Replica,
    scheduler: SnapshotScheduler,
    store: SnapshotStore,
    reader: WalReader,
  ) {
    this.shardId = shardId;
    this.replica = replica;
    this.scheduler = scheduler;
    this.store = store;
    this.reader = reader;
    const sink = new DiscardSink();
    this.onRecord = (seq, view, offset) => {
      replica.apply(seq, view, offset, sink);
    };
    this.walSegmentsDeleted = 0;
    this.retentionFailures = 0;
  }
}

export async function createJournalTask(ctx: JournalTaskContext): Promise<SnapshotJournalTask> {
  const o = (ctx.options ?? {}) as Record<string, unknown>;
  const maxOrders = capacity(o, 'maxOrders');
  const maxSymbols = capacity(o, 'maxSymbols');
  const maxAccounts = capacity(o, 'maxAccounts');
  const env = snapshotPolicyFromEnv();
  const every = o.snapshotEveryCommands ?? env.everyCommands;
  const intervalS = o.snapshotIntervalS ?? env.intervalMs / 1000;
  const keep = o.snapshotKeep ?? DEFAULT_SNAPSHOT_KEEP;
  if (typeof keep !== 'number' || !Number.isSafeInteger(keep) || keep < 1) {
    throw new SnapshotConfigError(`taskOptions.snapshotKeep must be an integer >= 1, got ${String(keep)}`);
  }
  if (typeof every !== 'number' || typeof intervalS !== 'number') {
    throw new SnapshotConfigError(
      `taskOptions.snapshotEveryCommands and snapshotIntervalS must be numbers, got ${String(every)} and ${String(intervalS)}`,
    );
  }
  const policy = { everyCommands: every, intervalMs: intervalS * 1000 };
  const log = STDERR_LOG;
  // Note: the scheduler keeps one snapshot in flight per shard, so a queue of `shards` never refuses.
  const pool = new SnapshotWriterPool({ threads: 1, maxQueue: ctx.shards });
  const shards: ShardSnapshots[] = [];
  for (let k = 0; k < ctx.shards; k++) {
    const engine: MatchingEngineOptions = { shardId: k, maxOrders, maxSymbols, maxAccounts };
    const store = new SnapshotStore(snapshotDir(ctx.dataDir, k), { shardId: k, pool, log });
    const replica = Replica.restore(engine, store);
    const scheduler = new SnapshotScheduler(policy, replica.cmdSeq, { log });
    shards.push(
      new ShardSnapshots(k, replica, scheduler, store, new WalReader(ctx.walDir(k), { shardId: k })),
    );
  }

  /** Prunes snapshots, then the WAL below the oldest kept one (and below what a hold needs). */
  const retain = (s: ShardSnapshots): void => {
    try {
      const held = ctx.walHeldFrom?.(s.shardId) ?? Number.POSITIVE_INFINITY;
      s.store.prune(keep, held);
      const kept = s.store.list();
      if (kept.length === 0) return;
      let through = kept[kept.length - 1].cmdSeq;
      // Note: a hold below every snapshot means its follower restarts from the empty state: keep all.
      if (!kept.some((x) => x.cmdSeq <= held)) through = 0;
      s.walSegmentsDeleted += deleteWalSegmentsThrough(ctx.walDir(s.shardId), Math.min(through, held)).length;
    } catch (err) {
      s.retentionFailures++;
      log.warn({ shard: s.shardId, err: (err as Error).message }, 'snapshot/WAL retention failed');
    }
  };
  const afterSnapshot = (s: ShardSnapshots, path: string | undefined): void => {
    if (path !== undefined) retain(s);
  };

  /** Applies up to `limit` durable records of shard s; returns how many. */
  const feed = (s: ShardSnapshots, limit: number): number => {
    const from = s.replica.cmdSeq;
    const upto = ctx.durableSeq(s.shardId);
    if (from >= upto) return 0;
    return s.reader.readFrom(from, upto, s.onRecord, limit) - from;
  };

  return {
    poll: () => {
      let n = 0;
      for (const s of shards) {
        n += feed(s, SLICE_RECORDS);
        // Note: also when idle: a snapshot that came due while another was in flight, or by time.
        s.scheduler.afterBatch(s.replica)?.then((path) => afterSnapshot(s, path));
      }
      return n;
    },
    close: async () => {
      // Note: the journal's last WAL commit is done, so durableSeq is final: catch up to it, then
      // snapshot the final state (skipped when the newest snapshot already has it).
      for (const s of shards) while (feed(s, SLICE_RECORDS) > 0);
      await Promise.all(
        shards.map((s) => s.scheduler.onStop(s.replica).then((path) => afterSnapshot(s, path))),
      );
      for (const s of shards) {
        s.reader.close();
        await s.store.close();
      }
      await pool.close();
    },
    status: () =>
      shards.map((s) => ({
        cmdSeq: s.replica.cmdSeq,
        taken: s.scheduler.taken,
        skipped: s.scheduler.skipped,
        failed: s.scheduler.failed,
        walSegmentsDeleted: s.walSegmentsDeleted,
        retentionFailures: s.retentionFailures,
      })),
  };
}
