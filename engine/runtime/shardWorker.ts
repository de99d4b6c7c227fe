/**
 * Worker entry of a shard: `new Worker(url, { workerData: ShardWorkerData })` runs the shard loop
 * with the fast `MatchingEngine` until the pipeline writes STOP into its command ring, then the thread
 * ends (exit code 0). Started only by `engine/pipeline.ts`, from `dist/` as JavaScript or from the
 * sources under a TypeScript loader (the pipeline passes its execArgv on).
 *
 * Snapshot seam: when the shard recovers (the pipeline has a journal) and the snapshot store
 * (`journal/snapshot/SnapshotStore`, `new SnapshotStore(dir).loadNewest()`) and
 * `MatchingEngine.fromState(config, bytes)` both exist, recovery starts from the newest valid
 * snapshot; the engine must also list its symbols (`symbolIds()`), or the pipeline could not tell
 * which ADD_SYMBOLs to skip. Otherwise recovery replays the whole WAL from the empty state.
 * Thread-safety: this module is the worker thread's main script.
 */
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { Engine, EngineConfig } from '../book/Engine.js';
import { MatchingEngine } from '../book/MatchingEngine.js';
import { createMatchingEngine, runShard, type ShardWorkerData } from './ShardLoop.js';
import { recoverShard, type SnapshotSource } from './ShardRecovery.js';

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

interface SnapshotStoreLike {
  loadNewest(maxCmdSeq?: number): { meta: { cmdSeq: number }; state: Uint8Array } | undefined;
}

async function snapshotSource(dir: string): Promise<SnapshotSource | undefined> {
  // Note: no snapshot directory, no snapshot: skip loading the store's modules (start-up time).
  if (!existsSync(dir)) return undefined;
  const fromState = (MatchingEngine as unknown as { fromState?: (c: EngineConfig, b: Uint8Array) => Engine })
    .fromState;
  if (typeof fromState !== 'function') return undefined;
  let Store: (new (dir: string) => SnapshotStoreLike) | undefined;
  try {
    const url = new URL(`../../journal/snapshot/SnapshotStore${EXTENSION}`, import.meta.url);
    Store = ((await import(url.href)) as { SnapshotStore?: new (dir: string) => SnapshotStoreLike })
      .SnapshotStore;
  } catch {
    return undefined;
  }
  if (typeof Store !== 'function') return undefined;
  const StoreClass = Store;
  return (config, dir) => {
    const snap = new StoreClass(dir).loadNewest(Number.POSITIVE_INFINITY);
    if (snap === undefined) return undefined;
    const engine = fromState.call(MatchingEngine, config, snap.state) as Engine & {
      symbolIds?: () => number[];
    };
    if (typeof engine.symbolIds !== 'function') return undefined;
    return { engine, cmdSeq: snap.meta.cmdSeq, symbols: engine.symbolIds() };
  };
}

const data = workerData as ShardWorkerData;
const snapshots = data.recovery === undefined ? undefined : await snapshotSource(data.recovery.snapshotDir);
runShard(data, createMatchingEngine, (config, settings, createEngine, report) =>
  recoverShard(config, settings, createEngine, report, snapshots),
);
