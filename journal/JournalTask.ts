/**
 * Extra work hosted by the journal worker thread, next to the WAL writers: a follower that tails the
 * WAL (the PostgreSQL writer, journal/pg) runs here so it shares the thread that knows the durable
 * position. The pipeline passes module URLs (`PipelineOptions.journal.tasks`); the worker imports each
 * at start-up and calls its exported `createJournalTask(context)`, then on every loop pass `poll()`.
 *
 *   // journal/pg/PgFollowerTask.ts (example)
 *   export async function createJournalTask(ctx: JournalTaskContext): Promise<JournalTask> {
 *     const readers = Array.from({ length: ctx.shards }, (_, k) => new WalReader(ctx.walDir(k)));
 *     const last = new Float64Array(ctx.shards);
 *     return {
 *       poll: async () => {                     // return how much work was done (0 = idle)
 *         let n = 0;
 *         for (let k = 0; k < ctx.shards; k++) {
 *           const before = last[k];
 *           last[k] = readers[k].readFrom(before, ctx.durableSeq(k), onRecord, 10_000);
 *           n += last[k] - before;
 *         }
 *         return n;
 *       },
 *       close: async () => { ... },             // after the last WAL commit, before the worker ends
 *     };
 *   }
 *
 * Contract: `poll()` must return promptly (bounded work per call: a few thousand records); it may be
 * async: with any task loaded the journal loop yields to the event loop between passes and idles with
 * `Atomics.waitAsync` instead of a blocking wait, so promises and sockets make progress (a WAL commit
 * then waits behind a task's synchronous work, so keep that short). `durableSeq(k)` is the seq up to
 * which shard k's WAL is fsynced: read records only up to it (`WalReader.readFrom(last, durable, ..)`).
 * A task that throws ends the journal worker (the pipeline marks every shard down).
 *
 * WAL retention holds: a task that restarts from state it persisted elsewhere (PostgreSQL's
 * journal_progress) registers `holdWal(k => persistedCmdSeq(k))`; the task that prunes (the snapshot
 * task, journal/snapshot/snapshotJournalTask.ts) reads `walHeldFrom(k)` and keeps a snapshot at or
 * below it plus every WAL record after that snapshot (docs/durability.md, "What is retained").
 * Thread-safety: everything here runs on the journal worker thread.
 */

export interface JournalTaskContext {
  /** Number of shards (WAL directories 0..shards-1). */
  readonly shards: number;
  /** The data directory (DATA_DIR). */
  readonly dataDir: string;
  /** Shard k's WAL directory. */
  walDir(shard: number): string;
  /** The seq up to which shard k's WAL is fsynced (this thread's own value, always current). */
  durableSeq(shard: number): number;
  /** `PipelineOptions.journal.taskOptions`, as given (structured-cloned). */
  readonly options: unknown;
  /**
   * Registers a WAL retention hold: `restartSeq(k)` is the cmd seq from which this task would rebuild
   * shard k after a restart (never decreasing). Call once, at creation. Optional so that a hand-made
   * context (tests) may leave it out; the journal worker always provides it.
   */
  holdWal?(restartSeq: (shard: number) => number): void;
  /** The lowest restart seq any task holds for shard k right now (Infinity: no hold). */
  walHeldFrom?(shard: number): number;
}

export interface JournalTask {
  /** One bounded slice of work; returns how much was done (0 lets the journal idle). */
  poll(): number | Promise<number>;
  /** Called once after the journal's last WAL commit, before the worker ends. */
  close(): void | Promise<void>;
}

/** What a task module exports. */
export type JournalTaskFactory = (context: JournalTaskContext) => JournalTask | Promise<JournalTask>;
