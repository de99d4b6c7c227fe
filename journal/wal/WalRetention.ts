/**
 * WAL retention: deletes the whole segment files of one shard's log whose records are all at or
 * below a seq nobody needs any more (the oldest kept snapshot, and what PostgreSQL has persisted:
 * the caller computes it, docs/durability.md "What is retained").
 *
 * A segment's last seq is the next segment's first seq - 1 (segments are contiguous, WalFormat.ts),
 * so only a segment with a successor can be judged: the newest segment (the active one, or the one
 * the next journal continues after) is never deleted. Segments go oldest first, so a crash mid-way
 * leaves a log that still starts at a segment boundary. A reader with the file open keeps reading it
 * (POSIX unlink); readers positioned after `throughSeq` never need it.
 *
 * Callers: journal/snapshot/snapshotJournalTask.ts after a snapshot is written and pruned.
 * Thread-safety: one caller per WAL directory (the journal worker thread); the WalWriter appends to
 * the newest segment only, which is never touched here.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WalIoError } from './WalError.js';
import { parseSegmentName } from './WalFormat.js';

/**
 * Deletes the segments of `dir` whose every record has seq <= `throughSeq`, never the newest one;
 * returns the file names deleted (oldest first). `throughSeq` <= 0 deletes nothing.
 */
export function deleteWalSegmentsThrough(dir: string, throughSeq: number): string[] {
  if (!(throughSeq > 0)) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new WalIoError(`cannot list the WAL directory ${dir}`, err);
  }
  const segs: { first: number; name: string }[] = [];
  for (const name of names) {
    const first = parseSegmentName(name);
    if (first > 0) segs.push({ first, name });
  }
  segs.sort((a, b) => a.first - b.first);
  const removed: string[] = [];
  // Note: i + 1 < length: the newest segment is never a candidate.
  for (let i = 0; i + 1 < segs.length; i++) {
    const lastSeq = segs[i + 1].first - 1;
    if (lastSeq > throughSeq) break;
    const file = join(dir, segs[i].name);
    try {
      rmSync(file, { force: true });
    } catch (err) {
      throw new WalIoError(`cannot delete WAL segment ${file}`, err);
    }
    removed.push(segs[i].name);
  }
  return removed;
}
