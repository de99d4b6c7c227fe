/**
 * Start-up recovery of one shard, run on the shard's worker thread before its loop starts: the newest
 * valid snapshot (if a snapshot source is wired) plus a replay of the WAL records after the
 * snapshot's seq, events going to a discarding sink. A torn or corrupt tail is cut at the last good
 * record (logged with its seq); a gap or duplicate in the middle throws WalGapError (start-up
 * refuses) unless the operator set RECOVERY_ALLOW_GAPS=1. Progress (every 2^20 records) and the
 * duration are reported through `report` (the pipeline logs them on the main thread).
 *
 * The result goes back in the shard's ready message: the recovered command seq (the WAL's last seq:
 * the journal continues at + 1), the engine's event seq, the symbols the shard already has (the
 * pipeline does not re-send their ADD_SYMBOL), the open orders (columns, for the gateway's views) and
 * the state hash.
 *
 * Snapshot seam: `SnapshotSource` is implemented by the snapshot store (journal/snapshot, another
 * module); `shardWorker.ts` wires it when that module is present. Without it, recovery is the empty
 * state plus the whole WAL.
 * Thread-safety: runs on the shard's worker thread only.
 */

import { WalGapError } from '../../journal/wal/WalError.js';
import { MAX_SEQ } from '../../journal/wal/WalFormat.js';
import { type TruncatedTail, type WalLog, WalReader } from '../../journal/wal/WalReader.js';
import type { Engine, EngineConfig } from '../book/Engine.js';
import type { EventSink } from '../book/EventSink.js';
import { CommandType, readSymbolId, readType } from '../records/CommandRecord.js';
import { EVENT_SIZE, EventType } from '../records/EventRecord.js';

/** Where recovery reads from (plain, structured-clonable: part of ShardWorkerData). */
export interface RecoverySettings {
  /** The shard's WAL directory. */
  readonly walDir: string;
  /** The shard's snapshot directory. */
  readonly snapshotDir: string;
  /** RECOVERY_ALLOW_GAPS=1: log gaps and duplicates instead of refusing to start. */
  readonly allowGaps: boolean;
  /** Compute stateHash() of the recovered engine (walks every open order; '' when false). */
  readonly stateHash: boolean;
}

/** A restored engine from the newest valid snapshot, as the snapshot store provides it. */
export interface RestoredSnapshot {
  readonly engine: Engine;
  /** The WAL seq of the last command the snapshot includes. */
  readonly cmdSeq: number;
  /** Symbol ids the snapshot holds. */
  readonly symbols: readonly number[];
}

/** The snapshot seam: returns the newest valid snapshot restored into an engine, or undefined. */
export type SnapshotSource = (config: EngineConfig, snapshotDir: string) => RestoredSnapshot | undefined;

/** Fields per open order in `RecoveredShard.openOrders` (a Float64Array, one row per order). */
export const OPEN_ORDER_FIELDS = [
  'symbolId',
  'orderId',
  'clientOrderId',
  'accountId',
  'sessionId',
  'tradeGroup',
  'side',
  'orderType',
  'timeInForce',
  'flags',
  'stpMode',
  'price',
  'stopPrice',
  'quantity',
  'filledQty',
  'leavesQty',
  'visibleQty',
  'displayQty',
  'expireTime',
  'isStop',
] as const;
export const OPEN_ORDER_STRIDE = OPEN_ORDER_FIELDS.length;

/** What a recovered shard reports (in its ready message; `Pipeline.recovered(k)`). */
export interface RecoveredShard {
  /** WAL seq of the last command in the recovered state (0: nothing recovered). */
  readonly cmdSeq: number;
  /** The engine's event seq after recovery. */
  readonly eventSeq: number;
  /** Seq of the snapshot used (0: none). */
  readonly snapshotSeq: number;
  /** WAL records replayed on top of the snapshot. */
  readonly replayed: number;
  /** Symbol ids present after recovery (their ADD_SYMBOL is not sent again). */
  readonly symbols: readonly number[];
  /**
   * Open orders, OPEN_ORDER_STRIDE numbers per order in OPEN_ORDER_FIELDS order (isStop 0/1); empty
   * when the engine cannot list them (no `forEachOpenOrder`).
   */
  readonly openOrders: Float64Array;
  /** The recovered engine's stateHash(), '' unless `RecoverySettings.stateHash`. */
  readonly stateHash: string;
  readonly durationMs: number;
  readonly truncated: TruncatedTail | undefined;
}

/** A worker-to-main report during recovery. */
export interface RecoveryReport {
  readonly level: 'info' | 'warn';
  readonly obj: object;
  readonly msg: string;
}

const PROGRESS_EVERY = 1 << 20;
const DISCARD_SLOTS = 64;

/** Recovers the shard's engine: snapshot (if any) + WAL replay. Throws WalGapError/WalFormatError. */
export function recoverShard(
  config: EngineConfig,
  settings: RecoverySettings,
  createEngine: (config: EngineConfig) => Engine,
  report: (r: RecoveryReport) => void,
  snapshots?: SnapshotSource,
): { engine: Engine; recovered: RecoveredShard } {
  const t0 = performance.now();
  const shard = config.shardId;
  const snap = snapshots?.(config, settings.snapshotDir);
  const engine = snap?.engine ?? createEngine(config);
  const snapshotSeq = snap?.cmdSeq ?? 0;
  const symbols = new Set<number>(snap?.symbols ?? []);
  if (snap !== undefined) {
    report({ level: 'info', obj: { shard, snapshotSeq }, msg: 'recovery: snapshot loaded' });
  }
  const log: WalLog = {
    info: (obj, msg) => report({ level: 'info', obj: { shard, ...obj }, msg }),
    warn: (obj, msg) => report({ level: 'warn', obj: { shard, ...obj }, msg }),
  };
  const reader = new WalReader(settings.walDir, { log, allowGaps: settings.allowGaps, shardId: shard });
  const sink = new DiscardSink();
  let replayed = 0;
  const last = reader.readFrom(snapshotSeq, MAX_SEQ, (seq, view, offset) => {
    // Note: retention deletes WAL segments below the oldest kept snapshot; if no snapshot could be
    // loaded, the WAL's first record must still be the one after the starting point, or the replay
    // would silently skip history.
    if (replayed === 0 && seq !== snapshotSeq + 1 && !settings.allowGaps) {
      throw new WalGapError(
        `shard ${shard}: recovery starts after seq ${snapshotSeq} but the WAL's first record is seq ${seq} ` +
          '(older segments were deleted and no snapshot at or after them could be loaded); ' +
          'restore the snapshots, or start with RECOVERY_ALLOW_GAPS=1 to accept the loss',
      );
    }
    engine.process(view, offset, sink);
    if (readType(view, offset) === CommandType.ADD_SYMBOL && sink.lastType() === EventType.SYMBOL_ADDED) {
      symbols.add(readSymbolId(view, offset));
    }
    if ((++replayed & (PROGRESS_EVERY - 1)) === 0) {
      report({
        level: 'info',
        obj: { shard, seq, replayed, elapsedMs: Math.round(performance.now() - t0) },
        msg: 'recovery: replaying the WAL',
      });
    }
  });
  const truncated = reader.truncateTail();
  reader.close();
  if (truncated !== undefined) {
    report({
      level: 'warn',
      obj: { shard, ...truncated },
      msg: `recovery: torn or corrupt WAL tail cut after seq ${truncated.lastGoodSeq}`,
    });
  }
  const openOrders = listOpenOrders(engine);
  const recovered: RecoveredShard = {
    cmdSeq: Math.max(last, snapshotSeq),
    eventSeq: engine.sequence,
    snapshotSeq,
    replayed,
    symbols: [...symbols].sort((a, b) => a - b),
    openOrders,
    stateHash: settings.stateHash ? engine.stateHash() : '',
    durationMs: Math.round((performance.now() - t0) * 10) / 10,
    truncated,
  };
  return { engine, recovered };
}

/** The open orders as columns, when the engine can list them (the snapshot work adds forEachOpenOrder). */
function listOpenOrders(engine: Engine): Float64Array {
  const lister = engine as Engine & {
    forEachOpenOrder?: (
      fn: (o: Record<(typeof OPEN_ORDER_FIELDS)[number], number | boolean>) => void,
    ) => void;
  };
  if (typeof lister.forEachOpenOrder !== 'function') return new Float64Array(0);
  // Note: two passes (count, then fill a preallocated array): no 20-numbers-per-order JS array.
  let count = 0;
  lister.forEachOpenOrder(() => {
    count++;
  });
  const rows = new Float64Array(count * OPEN_ORDER_STRIDE);
  let at = 0;
  lister.forEachOpenOrder((o) => {
    if (at >= rows.length) return;
    for (let f = 0; f < OPEN_ORDER_STRIDE; f++) rows[at + f] = Number(o[OPEN_ORDER_FIELDS[f]]);
    at += OPEN_ORDER_STRIDE;
  });
  return rows;
}

/** An EventSink that keeps nothing: 64 slots reused round-robin; remembers the last event's type. */
class DiscardSink implements EventSink {
  readonly view: DataView;
  private next = 0;
  private last = 0;

  constructor() {
    this.view = new DataView(new ArrayBuffer(DISCARD_SLOTS * EVENT_SIZE));
  }

  claim(): number {
    const at = this.next * EVENT_SIZE;
    this.last = at;
    this.next = (this.next + 1) & (DISCARD_SLOTS - 1);
    return at;
  }

  commit(): void {}

  /** Type of the last event claimed (valid after the command's process()). */
  lastType(): number {
    return this.view.getUint8(this.last);
  }
}
