/**
 * The piscina task that writes one snapshot file: hash the engine state (stateHashOfState; checked
 * against the caller's stateHash when given), compress it (raw deflate), frame it
 * (SnapshotFormat), write `<tmp>`, fsync it, rename it to `<name>`, fsync the directory. Returns the
 * final path. A failure removes the temp file and is returned as { error: { code, message } }
 * (SnapshotWriterPool turns it back into an exception with that code).
 *
 * Runs on a piscina worker thread started by SnapshotWriterPool (never on a shard or journal
 * thread); resolved from this module's own URL, so `.ts` under tap and `.js` in dist/ both work.
 * Thread-safety: each call owns its task's buffer (transferred) and its temp file; no shared state.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { stateHashOfState } from '../../engine/book/EngineState.js';
import {
  COMPRESSION_DEFLATE_RAW,
  encodeHeader,
  SnapshotFormatError,
  type SnapshotWriteMeta,
} from './SnapshotFormat.js';

export interface SnapshotTask {
  readonly dir: string;
  /** Final file name (snapshotFileName(cmdSeq)). */
  readonly name: string;
  /** Temp file name in the same directory (unique per write). */
  readonly tmpName: string;
  /** Without a stateHash, the task computes it from the state; with one, it must match. */
  readonly meta: SnapshotWriteMeta;
  /** The engine state (its buffer is transferred to this thread). */
  readonly state: Uint8Array;
  /** zlib level 0..9. */
  readonly level: number;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

/** The task's answer: errors travel as data (an Error's `code` would not survive the thread hop). */
export type SnapshotTaskResult =
  | { readonly path: string; readonly error?: undefined }
  | { readonly path?: undefined; readonly error: { readonly code: string; readonly message: string } };

export default function runSnapshotTask(task: SnapshotTask): SnapshotTaskResult {
  try {
    return { path: writeSnapshot(task) };
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return {
      error: { code: typeof e.code === 'string' ? e.code : 'EXC_ERR_SNAPSHOT_WRITE', message: e.message },
    };
  }
}

/** Writes the snapshot file of `task`; returns its path. */
export function writeSnapshot(task: SnapshotTask): string {
  // Note: hashing the dump here (one sequential pass) keeps stateHash() off the journal thread and
  // checks that what is written is the state the replica had.
  const stateHash = stateHashOfState(task.state);
  if (task.meta.stateHash !== undefined && task.meta.stateHash !== stateHash) {
    throw new SnapshotFormatError(
      `snapshot at cmdSeq ${task.meta.cmdSeq}: meta stateHash ${task.meta.stateHash}, the state hashes to ${stateHash}`,
    );
  }
  const payload = deflateRawSync(task.state, { level: task.level });
  const header = encodeHeader(
    { ...task.meta, stateHash },
    COMPRESSION_DEFLATE_RAW,
    task.level,
    task.state.byteLength,
    payload,
  );
  const tmp = join(task.dir, task.tmpName);
  const path = join(task.dir, task.name);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeAll(fd, header);
      writeAll(fd, payload);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // Note: the rename is durable only once the directory entry is.
  const dfd = openSync(task.dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  return path;
}
