/**
 * The journal: one worker thread for the whole process that follows every shard's command ring (as
 * its consumer 1), gives each command the shard's next WAL seq and appends it to the shard's
 * write-ahead log with group commit, then releases the records it made durable.
 *
 *   loop: for each shard k:
 *           n = commands[k].peek(append to WAL k, room)   // held: not yet released to anyone
 *           WAL k: one write + one fdatasync for the batch
 *           commands[k].release()                        // the journal's cursor = the durable position
 *           sync mode: wake shard k (parked behind the gate); control block: durable seq of k
 *         hosted tasks: poll() (JournalTask.ts; their WAL retention holds live in the task context)
 *         idle (Backoff on the rings' park words) when there was nothing to do
 *   until every shard's STOP_RECORD was released (or, for a dead shard, the pipeline's stop request
 *   and an empty ring): the last batches are fsynced, the files closed, the tasks closed.
 *
 * Because the cursor moves only after the fsync, a DURABILITY=sync shard (its reader gated on this
 * cursor) processes only durable commands; in async mode the shard reads freely and the ring bounds
 * how far the journal can fall behind (the gateway answers BUSY when the slower consumer is a full
 * ring behind). STOP_RECORD is released but never written to the WAL.
 *
 * Waiting: `Backoff` on a site that announces PARKED on every ring's consumer-1 park word and
 * re-checks them all, then sleeps on shard 0's word (Atomics.wait can watch one address). A commit to
 * shard 0 wakes the journal at once; a commit to another shard is seen at the next timeout, so with
 * more than one shard the park timeout is capped at 1 ms (docs/durability.md).
 * Called by the worker entry `journalWorker.ts`; the pipeline builds the workerData.
 * Thread-safety: runs on the journal worker thread; blocks it (or, with hosted tasks, yields to its
 * event loop between passes).
 */
import { parentPort } from 'node:worker_threads';
import { Backoff } from '../engine/idle/Backoff.js';
import type { Parkable } from '../engine/idle/IdleStrategy.js';
import type { ParkWord } from '../engine/idle/ParkWord.js';
import { Ring } from '../engine/ring/Ring.js';
import type { RingReader } from '../engine/ring/RingReader.js';
import { ShardControl } from '../engine/runtime/ControlBlock.js';
import { COMMAND_RECORD, STOP_RECORD } from '../engine/runtime/RecordTypes.js';
import type { JournalTask, JournalTaskContext, JournalTaskFactory } from './JournalTask.js';
import { walDir } from './wal/WalFormat.js';
import { WalWriter } from './wal/WalWriter.js';

/** The journal's cursor on every command ring. */
export const JOURNAL_CONSUMER = 1;
/** The shard's cursor on its command ring (gated on the journal in sync mode). */
export const SHARD_CONSUMER = 0;

export interface JournalShardData {
  readonly shardId: number;
  /** The shard's command ring (the journal is its consumer 1). */
  readonly commands: SharedArrayBuffer;
  /** The seq of the next command: the last seq recovered + 1. */
  readonly nextSeq: number;
}

export interface JournalWorkerData {
  readonly dataDir: string;
  readonly shards: readonly JournalShardData[];
  /** The pipeline's control block: the journal writes each shard's durable seq there. */
  readonly control: SharedArrayBuffer;
  /** Int32Array(1): the pipeline stores 1 once every shard worker has exited (then wakes shard 0's word). */
  readonly stop: SharedArrayBuffer;
  /** DURABILITY=sync: the shards' readers are gated on the journal; wake them after each release. */
  readonly gated: boolean;
  readonly segmentBytes: number;
  /** Records per WAL batch buffer (bounded; a batch is at most this many commands). */
  readonly batchRecords: number;
  /** Module URLs exporting `createJournalTask` (JournalTask.ts). */
  readonly tasks: readonly string[];
  readonly taskOptions?: unknown;
}

/** Posted once the WAL segments are open and the tasks loaded. */
export interface JournalReady {
  readonly journalReady: true;
}

/** Yield to the event loop (with hosted tasks) at least every this many busy passes. */
const YIELD_EVERY = 64;

export async function runJournal(data: JournalWorkerData): Promise<void> {
  const n = data.shards.length;
  const rings = data.shards.map((s) => Ring.wrap(s.commands));
  const readers = rings.map((r) => r.reader(JOURNAL_CONSUMER));
  const writers = data.shards.map(
    (s) =>
      new WalWriter(walDir(data.dataDir, s.shardId), s.shardId, s.nextSeq, {
        segmentBytes: data.segmentBytes,
        capacity: data.batchRecords,
      }),
  );
  const controls = data.shards.map((s) => new ShardControl(data.control, s.shardId));
  const stopWord = new Int32Array(data.stop);
  const stopSeen = new Uint8Array(n);
  const done = new Uint8Array(n);
  for (let k = 0; k < n; k++) controls[k].publishDurable(writers[k].durableSeq);
  // Note: one handler per shard, bound once (no closure per command).
  const handlers = writers.map((w, k) => (type: number, view: DataView, offset: number): void => {
    if (type === COMMAND_RECORD) w.append(view, offset);
    else if (type === STOP_RECORD) stopSeen[k] = 1;
  });
  const gated = data.gated;

  const holds: ((shard: number) => number)[] = [];
  const context: JournalTaskContext = {
    shards: n,
    dataDir: data.dataDir,
    walDir: (k) => walDir(data.dataDir, data.shards[k].shardId),
    durableSeq: (k) => writers[k].durableSeq,
    options: data.taskOptions,
    holdWal: (restartSeq) => {
      holds.push(restartSeq);
    },
    walHeldFrom: (k) => {
      let min = Number.POSITIVE_INFINITY;
      for (const h of holds) min = Math.min(min, h(k));
      return min;
    },
  };
  const tasks: JournalTask[] = [];
  for (const url of data.tasks) {
    const mod = (await import(url)) as { createJournalTask?: JournalTaskFactory };
    if (typeof mod.createJournalTask !== 'function') {
      throw new Error(`journal task module ${url} does not export createJournalTask`);
    }
    tasks.push(await mod.createJournalTask(context));
  }

  /** One shard: peek what is there, commit it, release it. Returns the records handled. */
  const pass = (k: number): number => {
    const reader = readers[k];
    const writer = writers[k];
    const count = reader.peek(handlers[k], writer.room());
    if (count === 0) {
      if (Atomics.load(stopWord, 0) === 1 && !reader.hasData()) done[k] = 1;
      return 0;
    }
    const durable = writer.commit();
    reader.release();
    if (gated) rings[k].wakeConsumer(SHARD_CONSUMER);
    controls[k].publishDurable(durable);
    if (stopSeen[k] === 1) done[k] = 1;
    return count;
  };

  const site = new AllRings(readers, stopWord);
  const idle = new Backoff(site, { maxParkMs: n > 1 ? 1 : 100 });
  parentPort?.postMessage({ journalReady: true } satisfies JournalReady);
  let busyPasses = 0;
  // Note: a pending Atomics.waitAsync does not keep a worker's event loop alive (Node 20): with tasks
  // that hold no handle of their own (the snapshot task between writes), an idle wait would end the
  // thread with exit code 13 (unsettled top-level await). One idle timer handle keeps it alive.
  const keepAlive = tasks.length > 0 ? setInterval(noop, 0x7fffffff) : undefined;
  for (;;) {
    let work = 0;
    let active = 0;
    for (let k = 0; k < n; k++) {
      if (done[k] === 1) continue;
      work += pass(k);
      if (done[k] === 0) active++;
    }
    if (active === 0) break;
    if (tasks.length === 0) {
      idle.idle(work);
      continue;
    }
    for (const task of tasks) {
      const r = task.poll();
      work += typeof r === 'number' ? r : await r;
    }
    if (work === 0) {
      busyPasses = 0;
      await site.waitAsync(n > 1 ? 1 : 50);
    } else if (++busyPasses >= YIELD_EVERY) {
      busyPasses = 0;
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  for (const w of writers) w.close();
  for (const task of tasks) await task.close();
  clearInterval(keepAlive);
}

function noop(): void {}

/** Park site over every ring: announce on all, re-check all, sleep on ring 0's consumer-1 word. */
class AllRings implements Parkable {
  readonly parkWord: ParkWord;
  private readonly readers: readonly RingReader[];
  private readonly stopWord: Int32Array;

  constructor(readers: readonly RingReader[], stopWord: Int32Array) {
    this.readers = readers;
    this.parkWord = readers[0].parkWord;
    this.stopWord = stopWord;
  }

  prepareToPark(): boolean {
    const readers = this.readers;
    for (let i = 0; i < readers.length; i++) readers[i].parkWord.announce();
    let work = Atomics.load(this.stopWord, 0) === 1;
    for (let i = 0; i < readers.length && !work; i++) work = readers[i].hasData();
    if (work) {
      for (let i = 0; i < readers.length; i++) readers[i].parkWord.withdraw();
      return false;
    }
    return true;
  }

  /** Hosted-task mode: park without blocking the event loop. */
  async waitAsync(timeoutMs: number): Promise<void> {
    if (!this.prepareToPark()) return;
    await this.parkWord.waitAsync(timeoutMs);
  }
}
