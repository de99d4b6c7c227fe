/**
 * The PostgreSQL journal as a journal-worker task (journal/JournalTask.ts): one PgWriter (one
 * connection) and one PgFeeder per shard, all on the journal worker thread.
 *
 * Wiring (engine/pipeline.ts options, done by server start-up):
 *   journal: { ..., tasks: [new URL('./journal/pg/pgJournalTask.js', import.meta.url)],
 *              taskOptions: { databaseUrl, maxOrders, maxSymbols, maxAccounts } satisfies PgTaskOptions }
 * The database must be migrated before (journal/pg/Database.ts `openDatabase` does it).
 *
 * `poll()` feeds every shard a bounded slice and returns the records applied; the writer flushes on
 * its own timer and size. `status()` (lag per shard, persisted seqs, writer counters) is for the
 * worker to publish to health and metrics (how it crosses threads is the pipeline's choice).
 * Thread-safety: the journal worker thread only.
 */
import type { JournalTask, JournalTaskContext } from '../JournalTask.js';
import { SnapshotStore, snapshotDir } from '../snapshot/SnapshotStore.js';
import { WalReader } from '../wal/WalReader.js';
import { openPg } from './PgClient.js';
import { PgWriterError } from './PgError.js';
import { PgFeeder } from './PgFeeder.js';
import { PgWriter, type PgWriterStats } from './PgWriter.js';

export interface PgTaskOptions {
  readonly databaseUrl: string;
  /** Schema first on search_path (default: the server's, normally public). */
  readonly schema?: string;
  /** The shards' engine capacities (the same the shards run with). */
  readonly maxOrders: number;
  readonly maxSymbols: number;
  readonly maxAccounts: number;
  readonly batchRows?: number;
  readonly maxDelayMs?: number;
}

export interface PgJournalStatus {
  /** Per shard: durable WAL seq minus persisted command seq. */
  readonly lag: number[];
  readonly persistedCmdSeq: number[];
  readonly writer: PgWriterStats;
}

export interface PgJournalTask extends JournalTask {
  status(): PgJournalStatus;
}

export async function createJournalTask(ctx: JournalTaskContext): Promise<PgJournalTask> {
  const o = ctx.options as PgTaskOptions | undefined;
  if (o === undefined || typeof o.databaseUrl !== 'string') {
    throw new PgWriterError('pgJournalTask needs taskOptions.databaseUrl');
  }
  const sql = openPg(o.databaseUrl, {
    max: 1,
    schema: o.schema,
    applicationName: 'ts-exchange-journal-writer',
    writer: true,
  });
  const writer = new PgWriter({ sql, batchRows: o.batchRows, maxDelayMs: o.maxDelayMs });
  await writer.loadProgress();
  // Note: a restart feeds shard k from the newest snapshot at or below its persisted cmd seq; the
  // snapshot task's pruning keeps that snapshot and the WAL after it (JournalTask.ts, retention holds).
  ctx.holdWal?.((k) => Math.max(writer.persistedCmdSeq(k), 0));
  const stores: SnapshotStore[] = [];
  const feeders: PgFeeder[] = [];
  for (let k = 0; k < ctx.shards; k++) {
    const snapshots = new SnapshotStore(snapshotDir(ctx.dataDir, k), { shardId: k });
    stores.push(snapshots);
    feeders.push(
      PgFeeder.start({
        shardId: k,
        engine: { shardId: k, maxOrders: o.maxOrders, maxSymbols: o.maxSymbols, maxAccounts: o.maxAccounts },
        snapshots,
        reader: new WalReader(ctx.walDir(k), { shardId: k }),
        writer,
        durableSeq: () => ctx.durableSeq(k),
      }),
    );
  }
  return {
    poll: () => {
      let n = 0;
      for (const f of feeders) n += f.poll();
      return n;
    },
    close: async () => {
      // Note: the last WAL commit is done; feed what is durable, then write it all.
      for (;;) {
        let n = 0;
        for (const f of feeders) n += f.poll();
        if (n === 0 && !writer.full()) break;
        if (n === 0) await writer.drain();
      }
      await writer.close();
      await sql.end({ timeout: 5 });
      for (const s of stores) await s.close();
    },
    status: () => ({
      lag: feeders.map((f) => f.lag()),
      persistedCmdSeq: feeders.map((f) => writer.persistedCmdSeq(f.shardId)),
      writer: writer.stats(),
    }),
  };
}
