/**
 * Recovery bench: start-up recovery (engine/runtime/ShardRecovery.ts: WAL scan with CRC checks, replay
 * into a fresh MatchingEngine, tail check, open-order listing, stateHash) of a WAL holding
 * `--resting` resting orders and `--records` records in all.
 *
 *   npm run bench:journal -- recovery            # (or node dist/bench/journal/recovery.bench.js)
 *   flags: --records=10000000 --resting=1000000 --runs=2 --keep (keep the temp WAL) --json
 *
 * 1. Input: one symbol; `--resting` GTC limit orders on both sides that never cross (buys at
 *    1,000..100,999 ticks, sells at 200,000..299,999), then IOC orders at 150,000 that cross nothing
 *    (accepted and cancelled at once) up to `--records`. Written straight into the WAL with
 *    `WalWriter` (batches of 4096, fdatasync each), while a model MatchingEngine processes every
 *    command: its stateHash is the expected result.
 * 2. Timed: `recoverShard()` on the data directory, `--runs` times, each on a fresh engine (the OS
 *    page cache holds the WAL after the first run: a cold-cache restart also pays the disk read,
 *    ~1.1 GB for 10M records). Asserted: stateHash equal to the model's, cmdSeq = records.
 * Target (issue #7): <= 5 s for 1M resting orders + 10M records.
 * Thread-safety: main thread of its own process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventSink } from '../../engine/book/EventSink.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import {
  COMMAND_SIZE,
  CommandType,
  writeAddSymbol,
  writeHeader,
  writeNewOrder,
} from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { OrderType, Side, TimeInForce } from '../../engine/records/OrderCodes.js';
import { recoverShard } from '../../engine/runtime/ShardRecovery.js';
import { walDir } from '../../journal/wal/WalFormat.js';
import { WalWriter } from '../../journal/wal/WalWriter.js';
import { assertResult, median, numberFlag, parseArgs, report } from '../lib/harness.js';

const args = parseArgs();
const RECORDS = numberFlag(args, 'records', 10_000_000);
const RESTING = numberFlag(args, 'resting', 1_000_000);
const RUNS = numberFlag(args, 'runs', 2);
const CONFIG = { shardId: 0, maxOrders: 2 ** 21, maxSymbols: 4, maxAccounts: 1024 };

class DiscardSink implements EventSink {
  readonly view = new DataView(new ArrayBuffer(256 * EVENT_SIZE));
  private n = 0;
  claim(): number {
    return (this.n++ & 255) * EVENT_SIZE;
  }
  commit(): void {
    this.n = 0;
  }
}

function generate(dataDir: string): { stateHash: string; ms: number } {
  const t0 = performance.now();
  const writer = new WalWriter(walDir(dataDir, 0), 0, 1, { capacity: 4096 });
  const engine = new MatchingEngine(CONFIG);
  const sink = new DiscardSink();
  const cmd = new DataView(new ArrayBuffer(COMMAND_SIZE));
  const put = () => {
    engine.process(cmd, 0, sink);
    if (!writer.append(cmd, 0)) {
      writer.commit();
      writer.append(cmd, 0);
    }
  };
  writeHeader(cmd, 0, CommandType.ADD_SYMBOL, 1, 1, 1, 0, 0, 0);
  writeAddSymbol(cmd, 0, 1, 2 ** 22, 1, 1_000_000, 0, 0, 0);
  put();
  for (let i = 1; i < RECORDS; i++) {
    const resting = i <= RESTING;
    const buy = resting ? (i & 1) === 1 : true;
    const price = resting ? (buy ? 1000 + (i % 100_000) : 200_000 + (i % 100_000)) : 150_000;
    writeHeader(cmd, 0, CommandType.NEW_ORDER, 1, 1 + (i % 1000), 1, 1.7e15 + i, i, i);
    writeNewOrder(
      cmd,
      0,
      buy ? Side.BUY : Side.SELL,
      OrderType.LIMIT,
      resting ? TimeInForce.GTC : TimeInForce.IOC,
      0,
      0,
      0,
      price,
      1 + (i % 7),
      0,
      0,
      0,
      0,
    );
    put();
  }
  writer.close();
  return { stateHash: engine.stateHash(), ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'exc-recovery-bench-'));
  const gen = generate(dataDir);
  const runs: { ms: number; replayed: number; openOrders: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const { recovered } = recoverShard(
      CONFIG,
      { walDir: walDir(dataDir, 0), snapshotDir: join(dataDir, 'snapshots', 'shard-0'), allowGaps: false },
      (c) => new MatchingEngine(c),
      () => {},
    );
    const ms = performance.now() - t0;
    assertResult(
      recovered.stateHash === gen.stateHash,
      `recovered stateHash ${recovered.stateHash} != ${gen.stateHash}`,
    );
    assertResult(recovered.cmdSeq === RECORDS, `recovered seq ${recovered.cmdSeq} != ${RECORDS}`);
    runs.push({ ms, replayed: recovered.replayed, openOrders: recovered.openOrders.length / 20 });
  }
  if (!args.flags.has('keep')) rmSync(dataDir, { recursive: true, force: true });
  const best = Math.min(...runs.map((r) => r.ms));
  const result = {
    records: RECORDS,
    resting: RESTING,
    walBytes: 32 + RECORDS * 112,
    generateMs: Math.round(gen.ms),
    recoveryMs: runs.map((r) => Math.round(r.ms)),
    recoveryMedianMs: Math.round(median(runs.map((r) => r.ms))),
    recordsPerSecond: Math.round((RECORDS / best) * 1e3),
    targetMs: 5000,
  };
  report(args, 'journal/recovery', result, [
    {
      what: 'WAL',
      value: `${RECORDS.toLocaleString()} records (${(result.walBytes / 2 ** 20).toFixed(0)} MiB), ${RESTING.toLocaleString()} resting`,
    },
    { what: 'generated in', value: `${result.generateMs} ms` },
    {
      what: 'recovery (warm page cache)',
      value: `${result.recoveryMs.join(' / ')} ms (target <= 5000 for 10M + 1M)`,
    },
    { what: 'replay rate (best run)', value: `${(result.recordsPerSecond / 1e6).toFixed(2)} M records/s` },
  ]);
}

await main();
