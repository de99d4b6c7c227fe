/**
 * Snapshot files of one shard in `DATA_DIR/snapshots/shard-<k>`: write (on a piscina thread), find
 * the newest valid one, prune old ones. Format: SnapshotFormat.ts; story: docs/snapshots.md.
 *
 * - `write(meta, state)` hands the state (its buffer is transferred, so the caller must not reuse it)
 *   to a SnapshotWriterPool task that compresses, frames, writes a temp file, fsyncs, renames and
 *   fsyncs the directory; resolves to the final path. The pool is bounded: with `threads + maxQueue`
 *   writes in flight, `write` rejects at once with SnapshotBusyError and counts it in `skipped`
 *   (policy: skip this snapshot, the next one is due soon anyway; the WAL still has everything).
 * - `loadNewest(maxCmdSeq)` (synchronous: start-up only) returns the newest snapshot with
 *   cmdSeq <= maxCmdSeq that verifies (checksums, lengths, inflates, names its own cmdSeq and, when
 *   the store knows it, its shard). Bad files are logged and skipped, never thrown.
 * - `prune(keep, holdAtOrBelow?)` removes all but the newest `keep` snapshot files (and the newest one at or
 *   below a retention hold) and leftover temp files.
 *
 * Callers: journal/Replica.ts (write), engine/runtime/shardWorker.ts (loadNewest at start-up), the
 * journal worker (prune, close). Thread-safety: an instance belongs to one thread; the pool's threads
 * only run snapshotTask. Two stores must not write the same directory.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { ExchangeError } from '../../engine/errors.js';
import {
  checkMeta,
  cmdSeqOfFileName,
  type DecodedSnapshot,
  decodeSnapshot,
  type SnapshotWriteMeta,
  snapshotFileName,
} from './SnapshotFormat.js';
import type { SnapshotTask, SnapshotTaskResult } from './snapshotTask.js';

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** The piscina task module, next to this one (`.ts` from the sources, `.js` from dist/). */
export const SNAPSHOT_TASK_URL = new URL(`./snapshotTask${EXTENSION}`, import.meta.url);

/**
 * zlib level of snapshot payloads. Measured on 1M resting orders (bench/journal/snapshot.bench.ts,
 * docs/snapshots.md): level 1 compresses about as well as 6 at a fraction of the time.
 */
export const DEFAULT_SNAPSHOT_LEVEL = 1;

/** `DATA_DIR/snapshots/shard-<k>`. */
export function snapshotDir(dataDir: string, shardId: number): string {
  return join(dataDir, 'snapshots', `shard-${shardId}`);
}

/** The writer pool is full: this snapshot was skipped (counted in `SnapshotStore.skipped`). */
export class SnapshotBusyError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_SNAPSHOT_BUSY', message);
  }
}

/** Writing a snapshot failed on the writer thread; `code` is the original error's (fs code or ours). */
export class SnapshotWriteError extends ExchangeError {}

/** A snapshot store or pool option is out of range. */
export class SnapshotConfigError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_SNAPSHOT_CONFIG', message);
  }
}

/** The part of a pino logger the store uses. */
export interface SnapshotLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const STDERR_LOG: SnapshotLog = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', ...obj, msg })}\n`),
  info: () => {},
};

export interface SnapshotWriterPoolOptions {
  /** Writer threads (default 1: snapshots are rare and each one is one big sequential job). */
  readonly threads?: number;
  /** Writes that may wait for a thread (default 1). More are refused with SnapshotBusyError. */
  readonly maxQueue?: number;
}

/** A bounded piscina pool running snapshotTask; may be shared by the stores of several shards. */
export class SnapshotWriterPool {
  readonly capacity: number;
  private readonly piscina: Piscina<SnapshotTask, SnapshotTaskResult>;
  private inFlight: number;

  constructor(options: SnapshotWriterPoolOptions = {}) {
    const threads = options.threads ?? 1;
    const maxQueue = options.maxQueue ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new SnapshotConfigError(`snapshot writer threads must be an integer in 1..64, got ${threads}`);
    }
    if (!Number.isInteger(maxQueue) || maxQueue < 0 || maxQueue > 1024) {
      throw new SnapshotConfigError(
        `snapshot writer maxQueue must be an integer in 0..1024, got ${maxQueue}`,
      );
    }
    this.capacity = threads + maxQueue;
    this.inFlight = 0;
    this.piscina = new Piscina<SnapshotTask, SnapshotTaskResult>({
      filename: SNAPSHOT_TASK_URL.href,
      minThreads: 0,
      maxThreads: threads,
      // Note: admission is decided by `inFlight` below, before the state is transferred; piscina's
      // own queue bound is a backstop.
      maxQueue: Math.max(maxQueue, 1),
      idleTimeout: 30_000,
    });
  }

  /** Writes in flight (running or queued). */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Runs one task; rejects at once with SnapshotBusyError when `capacity` tasks are in flight, and
   * with SnapshotWriteError (carrying the original code, e.g. ENOSPC or EXC_ERR_SNAPSHOT_FORMAT) when
   * the write failed.
   */
  async run(task: SnapshotTask): Promise<string> {
    if (this.inFlight >= this.capacity) {
      throw new SnapshotBusyError(`snapshot writer pool is full (${this.inFlight} writes in flight)`);
    }
    this.inFlight++;
    const buffer = task.state.buffer;
    // Transfer the state's buffer when the view covers all of it; else the task gets a copy.
    const own =
      task.state.byteOffset === 0 &&
      task.state.byteLength === buffer.byteLength &&
      buffer instanceof ArrayBuffer;
    try {
      const r = await this.piscina.run(task, own ? { transferList: [buffer as ArrayBuffer] } : undefined);
      if (r.error !== undefined) throw new SnapshotWriteError(r.error.code, r.error.message);
      return r.path;
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}

export interface SnapshotStoreOptions {
  /** Shared writer pool; by default the store makes its own on the first write (closed by close()). */
  readonly pool?: SnapshotWriterPool;
  readonly log?: SnapshotLog;
  /** zlib level 0..9 (default DEFAULT_SNAPSHOT_LEVEL). */
  readonly level?: number;
  /** When set, snapshots of another shard are skipped as invalid. */
  readonly shardId?: number;
}

/** A snapshot loaded and verified by `loadNewest()`. */
export interface LoadedSnapshot extends DecodedSnapshot {
  readonly path: string;
}

export class SnapshotStore {
  readonly dir: string;
  /** Writes refused because the writer pool was full. */
  skipped: number;
  private pool: SnapshotWriterPool | undefined;
  private readonly ownsPool: boolean;
  private readonly log: SnapshotLog;
  private readonly level: number;
  private readonly shardId: number | undefined;
  private readonly tmpInFlight: Set<string>;
  private madeDir: boolean;
  private tmpCounter: number;

  constructor(dir: string, options: SnapshotStoreOptions = {}) {
    const level = options.level ?? DEFAULT_SNAPSHOT_LEVEL;
    if (!Number.isInteger(level) || level < 0 || level > 9) {
      throw new SnapshotConfigError(`snapshot zlib level must be an integer in 0..9, got ${level}`);
    }
    this.dir = dir;
    this.skipped = 0;
    this.pool = options.pool;
    this.ownsPool = options.pool === undefined;
    this.log = options.log ?? STDERR_LOG;
    this.level = level;
    this.shardId = options.shardId;
    this.tmpInFlight = new Set();
    this.madeDir = false;
    this.tmpCounter = 0;
  }

  /**
   * Writes `state` (from MatchingEngine.exportState(); its buffer is transferred) as the snapshot at
   * `meta.cmdSeq`; resolves to the file's path once it is durable. Without `meta.stateHash` the task
   * computes it from the state; with one, a mismatch rejects (SnapshotFormatError, nothing written).
   * Rejects with SnapshotBusyError (counted in `skipped`) when the pool is full, or with the I/O error.
   */
  async write(meta: SnapshotWriteMeta, state: Uint8Array): Promise<string> {
    checkMeta({ ...meta, stateHash: meta.stateHash ?? '0000000000000000' });
    if (this.shardId !== undefined && meta.shardId !== this.shardId) {
      throw new SnapshotConfigError(
        `snapshot of shard ${meta.shardId} written to the store of shard ${this.shardId}`,
      );
    }
    if (!this.madeDir) {
      mkdirSync(this.dir, { recursive: true });
      this.madeDir = true;
    }
    if (this.pool === undefined) this.pool = new SnapshotWriterPool();
    const name = snapshotFileName(meta.cmdSeq);
    const tmpName = `${name}.${process.pid}-${threadId}-${++this.tmpCounter}.tmp`;
    this.tmpInFlight.add(tmpName);
    const task: SnapshotTask = { dir: this.dir, name, tmpName, meta: { ...meta }, state, level: this.level };
    try {
      return await this.pool.run(task);
    } catch (err) {
      if (err instanceof SnapshotBusyError) this.skipped++;
      throw err;
    } finally {
      this.tmpInFlight.delete(tmpName);
    }
  }

  /** Snapshot files present, newest first (by the cmdSeq in their names). */
  list(): { readonly cmdSeq: number; readonly name: string }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: { cmdSeq: number; name: string }[] = [];
    for (const name of names) {
      const cmdSeq = cmdSeqOfFileName(name);
      if (cmdSeq >= 0) out.push({ cmdSeq, name });
    }
    return out.sort((a, b) => b.cmdSeq - a.cmdSeq);
  }

  /** The newest valid snapshot with cmdSeq <= maxCmdSeq, or undefined. Invalid files are logged and skipped. */
  loadNewest(maxCmdSeq = Number.POSITIVE_INFINITY): LoadedSnapshot | undefined {
    for (const { cmdSeq, name } of this.list()) {
      if (cmdSeq > maxCmdSeq) continue;
      const path = join(this.dir, name);
      try {
        const decoded = decodeSnapshot(readFileSync(path));
        if (decoded.meta.cmdSeq !== cmdSeq) {
          throw new Error(`file name says cmdSeq ${cmdSeq}, header says ${decoded.meta.cmdSeq}`);
        }
        if (this.shardId !== undefined && decoded.meta.shardId !== this.shardId) {
          throw new Error(`snapshot of shard ${decoded.meta.shardId}, expected ${this.shardId}`);
        }
        return { ...decoded, path };
      } catch (err) {
        this.log.warn({ path, err: (err as Error).message }, 'snapshot: skipping an invalid snapshot file');
      }
    }
    return undefined;
  }

  /**
   * Removes all but the newest `keep` snapshots and stale temp files; returns the removed names.
   * `holdAtOrBelow` (a WAL retention hold: PostgreSQL's persisted cmd seq) also keeps the newest
   * snapshot with cmdSeq <= it, the one a restarting follower would load.
   */
  prune(keep: number, holdAtOrBelow = Number.POSITIVE_INFINITY): string[] {
    if (!Number.isInteger(keep) || keep < 1) {
      throw new SnapshotConfigError(`snapshot prune keeps an integer >= 1 of snapshots, got ${keep}`);
    }
    const removed: string[] = [];
    const all = this.list();
    const held = all.find((s) => s.cmdSeq <= holdAtOrBelow);
    for (const { name } of all.slice(keep)) {
      if (name === held?.name) continue;
      rmSync(join(this.dir, name), { force: true });
      removed.push(name);
    }
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      // Note: no directory, nothing to prune.
    }
    for (const name of names) {
      if (name.endsWith('.tmp') && name.startsWith('snap-') && !this.tmpInFlight.has(name)) {
        rmSync(join(this.dir, name), { force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  /** Closes the pool the store made (a shared pool is its owner's); let pending writes settle first. */
  async close(): Promise<void> {
    if (this.ownsPool && this.pool !== undefined) await this.pool.close();
    this.pool = undefined;
  }
}
