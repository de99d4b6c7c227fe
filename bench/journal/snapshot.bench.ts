/**
 * Snapshot and recovery benchmark (issue #7): with 1M resting orders,
 *  1. compression levels: raw-deflate time and size of the engine state per zlib level (why
 *     DEFAULT_SNAPSHOT_LEVEL is what it is);
 *  2. snapshot: exportState + stateHash on the calling thread, then compress + write + fsync +
 *     rename on the piscina pool (SnapshotStore.write); time and file bytes;
 *  3. restore: read + verify + inflate (SnapshotStore.loadNewest) + MatchingEngine.fromState;
 *  4. replay: the engine applying raw command records (the exchangeCore mix, every command valid),
 *     commands/s, extrapolated to 10M WAL records; estimated recovery = restore + 10M / rate
 *     (target <= 5 s). WAL reading/CRC cost is the WAL bench's, not included.
 * Every phase is repeated (--runs, default 3) in this fresh process after a warm-up; times go into an
 * HDR histogram. Results are asserted: the restored engine's stateHash equals the original's, and the
 * replayed stream reproduces the model's events count and hash.
 *
 *   npm run bench:snapshot                 # table
 *   npm run bench:snapshot -- --json       # one JSON object
 *   flags: --resting=1000000 --runs=3 --replay-commands=2000000 --seed=1
 *
 * Thread-safety: a bench process; the writer pool runs on piscina threads.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { stateHashOfState } from '../../engine/book/EngineState.js';
import type { EventSink } from '../../engine/book/EventSink.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import * as C from '../../engine/records/CommandRecord.js';
import { COMMAND_SIZE, CommandType } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { OrderType, Side, TimeInForce } from '../../engine/records/OrderCodes.js';
import { EXCHANGE_CORE_CONFIG, generateCommands } from '../../engine/reference/CommandGenerator.js';
import { Prng } from '../../engine/reference/Prng.js';
import { SnapshotStore, SnapshotWriterPool } from '../../journal/snapshot/SnapshotStore.js';
import {
  assertResult,
  latencyHistogram,
  median,
  nowNs,
  numberFlag,
  parseArgs,
  report,
  summarize,
} from '../lib/harness.js';

const args = parseArgs();
const RESTING = numberFlag(args, 'resting', 1_000_000);
const RUNS = numberFlag(args, 'runs', 3);
const REPLAY_COMMANDS = numberFlag(args, 'replay-commands', 2_000_000);
const SEED = numberFlag(args, 'seed', 1);
const WAL_RECORDS = 10_000_000;
const TARGET_S = 5;

const log = (msg: string) => {
  if (!args.json) process.stderr.write(`${msg}\n`);
};

class DiscardSink implements EventSink {
  readonly view = new DataView(new ArrayBuffer(64 * EVENT_SIZE));
  events = 0;
  claim(): number {
    return (this.events++ & 63) * EVENT_SIZE;
  }
  commit(): void {}
}

// ------------------------------------------------------------------ 1. a book of RESTING orders

const CONFIG = { shardId: 1, maxOrders: RESTING + 1024, maxSymbols: 8, maxAccounts: 4096 };

/** RESTING non-crossing orders over 4 symbols: varied accounts, client ids, icebergs, GTD, a few stops. */
function buildBook(): MatchingEngine {
  const e = new MatchingEngine(CONFIG);
  const cmd = new DataView(new ArrayBuffer(COMMAND_SIZE));
  const sink = new DiscardSink();
  const rng = new Prng(SEED);
  for (let s = 1; s <= 4; s++) {
    C.writeHeader(cmd, 0, CommandType.ADD_SYMBOL, s, 0, 0, 0, 0, 0);
    C.writeAddSymbol(cmd, 0, 1, 200_000, 1, 1_000_000, 0, 100_000, 0);
    e.process(cmd, 0, sink);
  }
  for (let i = 0; i < RESTING; i++) {
    const symbol = 1 + (i & 3);
    const buy = rng.float() < 0.5;
    const stop = i % 100 === 99;
    const gtd = i % 10 === 3;
    const iceberg = i % 20 === 7;
    const distance = 1 + Math.floor(rng.float() * 20_000);
    const price = buy ? 100_000 - distance : 100_000 + distance;
    const qty = 1 + Math.floor(rng.float() * 500);
    C.writeHeader(
      cmd,
      0,
      CommandType.NEW_ORDER,
      symbol,
      1 + (i % 4000),
      1 + (i % 64),
      1,
      i,
      i % 3 === 0 ? 0 : i + 1,
    );
    C.writeNewOrder(
      cmd,
      0,
      buy ? Side.BUY : Side.SELL,
      stop ? OrderType.STOP_LIMIT : OrderType.LIMIT,
      gtd ? TimeInForce.GTD : TimeInForce.GTC,
      0,
      0,
      0,
      price,
      qty,
      stop ? (buy ? 100_000 + distance : 100_000 - distance) : 0,
      iceberg && qty > 10 ? 10 : 0,
      0,
      gtd ? 1e12 + i : 0,
    );
    e.process(cmd, 0, sink);
  }
  return e;
}

// ------------------------------------------------------------------ runs

async function main(): Promise<void> {
  log(`building a book of ${RESTING} resting orders...`);
  const engine = buildBook();
  let open = 0;
  let stops = 0;
  engine.forEachOpenOrder((o) => {
    open++;
    if (o.isStop) stops++;
  });
  assertResult(open === RESTING, `book: ${open} open orders, expected ${RESTING}`);
  const h0 = nowNs();
  const hash = engine.stateHash();
  const engineHashMs = (nowNs() - h0) / 1e6;

  // 1. Compression levels on the raw state (and the two ways to hash it).
  const state = engine.exportState();
  const d0 = nowNs();
  assertResult(stateHashOfState(state) === hash, 'stateHashOfState differs from stateHash()');
  const dumpHashMs = (nowNs() - d0) / 1e6;
  const levels: Record<string, { ms: number; bytes: number; ratio: number }> = {};
  for (const level of [1, 3, 6]) {
    deflateRawSync(state.subarray(0, 1 << 20), { level });
    const t0 = nowNs();
    const out = deflateRawSync(state, { level });
    const ms = (nowNs() - t0) / 1e6;
    levels[`level${level}`] = {
      ms: Math.round(ms),
      bytes: out.byteLength,
      ratio: +(state.byteLength / out.byteLength).toFixed(2),
    };
  }

  // 2 + 3. Snapshot and restore, RUNS times after one warm-up.
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-bench-'));
  const pool = new SnapshotWriterPool({ threads: 1, maxQueue: 1 });
  const store = new SnapshotStore(dir, { pool, shardId: CONFIG.shardId });
  const hExport = latencyHistogram();
  const hWrite = latencyHistogram();
  const hSnapshot = latencyHistogram();
  const hRestore = latencyHistogram();
  const exportMs: number[] = [];
  const writeMs: number[] = [];
  const snapshotMs: number[] = [];
  const restoreMs: number[] = [];
  const loadMs: number[] = [];
  let fileBytes = 0;
  try {
    for (let run = 0; run <= RUNS; run++) {
      const warm = run === 0;
      // As Replica.snapshot(): export on the calling thread; the task hashes, compresses, writes.
      const t0 = nowNs();
      const meta = { shardId: CONFIG.shardId, cmdSeq: run + 1, eventSeq: engine.sequence };
      const dump = engine.exportState();
      const xDt = nowNs() - t0;
      if (!warm) {
        hExport.recordValue(xDt);
        exportMs.push(xDt / 1e6);
      }
      const w0 = nowNs();
      const path = await store.write(meta, dump);
      const wDt = nowNs() - w0;
      const total = nowNs() - t0;
      if (!warm) {
        hWrite.recordValue(wDt);
        writeMs.push(wDt / 1e6);
        hSnapshot.recordValue(total);
        snapshotMs.push(total / 1e6);
      }
      fileBytes = statSync(path).size;
      const r0 = nowNs();
      const loaded = store.loadNewest();
      const r1 = nowNs();
      const restored = MatchingEngine.fromState(CONFIG, loaded!.state);
      const rDt = nowNs() - r0;
      if (!warm) {
        loadMs.push((r1 - r0) / 1e6);
        hRestore.recordValue(rDt);
        restoreMs.push(rDt / 1e6);
      }
      assertResult(loaded?.meta.cmdSeq === run + 1, `restore: loaded cmdSeq ${loaded?.meta.cmdSeq}`);
      assertResult(loaded?.meta.stateHash === hash, 'snapshot: the stateHash the task computed differs');
      assertResult(restored.stateHash() === hash, 'restore: stateHash differs from the original');
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // 4. Replay speed of raw command records.
  log(`generating ${REPLAY_COMMANDS} exchangeCore commands...`);
  const model = new MatchingEngine(EXCHANGE_CORE_CONFIG);
  const { bytes, events } = generateCommands({ seed: SEED, mix: 'exchangeCore' }, REPLAY_COMMANDS, model);
  const modelHash = model.stateHash();
  const view = new DataView(bytes.buffer);
  const hReplay = latencyHistogram();
  const rates: number[] = [];
  const BATCH = 1000;
  for (let run = 0; run <= RUNS; run++) {
    const e = new MatchingEngine(EXCHANGE_CORE_CONFIG);
    const sink = new DiscardSink();
    const t0 = nowNs();
    let b0 = t0;
    for (let i = 0; i < REPLAY_COMMANDS; i++) {
      e.process(view, i * COMMAND_SIZE, sink);
      if (i % BATCH === BATCH - 1) {
        const b1 = nowNs();
        if (run > 0) hReplay.recordValue((b1 - b0) / BATCH);
        b0 = b1;
      }
    }
    const dt = nowNs() - t0;
    assertResult(sink.events === events, `replay: ${sink.events} events, the model emitted ${events}`);
    assertResult(e.stateHash() === modelHash, 'replay: stateHash differs from the model');
    if (run > 0) rates.push(REPLAY_COMMANDS / (dt / 1e9));
  }

  const rate = median(rates);
  const restore = median(restoreMs);
  const replay10M = WAL_RECORDS / rate;
  const estimate = restore / 1000 + replay10M;
  const result = {
    resting_orders: RESTING,
    stop_orders: stops,
    state_bytes: state.byteLength,
    file_bytes: fileBytes,
    compression: levels,
    hash_ms: { engine_stateHash: Math.round(engineHashMs), stateHashOfState: Math.round(dumpHashMs) },
    snapshot: {
      export_ms: summarize(hExport),
      export_median_ms: Math.round(median(exportMs)),
      hash_compress_write_fsync_median_ms: Math.round(median(writeMs)),
      total_median_ms: Math.round(median(snapshotMs)),
      total: summarize(hSnapshot),
      write: summarize(hWrite),
    },
    restore: {
      median_ms: Math.round(restore),
      of_which_read_verify_inflate_median_ms: Math.round(median(loadMs)),
      ms: summarize(hRestore),
    },
    replay: {
      commands: REPLAY_COMMANDS,
      commands_per_s_median: Math.round(rate),
      per_command_ns_by_batch: summarize(hReplay),
    },
    recovery_estimate_10m_wal_s: +estimate.toFixed(2),
    recovery_target_s: TARGET_S,
    recovery_target_met: estimate <= TARGET_S,
  };
  report(args, 'snapshot: 1M-order snapshot, restore and WAL replay', result, [
    { phase: 'state (raw)', value: `${(state.byteLength / 2 ** 20).toFixed(1)} MiB` },
    { phase: 'snapshot file', value: `${(fileBytes / 2 ** 20).toFixed(1)} MiB (zlib level 1)` },
    ...Object.entries(levels).map(([k, v]) => ({
      phase: `deflate ${k}`,
      value: `${v.ms} ms, ratio ${v.ratio}`,
    })),
    {
      phase: 'stateHash(): engine / from the dump',
      value: `${Math.round(engineHashMs)} / ${Math.round(dumpHashMs)} ms`,
    },
    { phase: 'exportState (calling thread)', value: `${Math.round(median(exportMs))} ms median` },
    { phase: 'hash + compress + write + fsync (piscina)', value: `${Math.round(median(writeMs))} ms median` },
    {
      phase: 'restore (read+inflate+fromState)',
      value: `${Math.round(restore)} ms median (read+verify+inflate ${Math.round(median(loadMs))} ms)`,
    },
    { phase: 'replay', value: `${(rate / 1e6).toFixed(2)} M commands/s median` },
    {
      phase: 'recovery estimate (restore + 10M records)',
      value: `${estimate.toFixed(2)} s (target ${TARGET_S} s)`,
    },
  ]);
}

await main();
