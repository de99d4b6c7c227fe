/**
 * The snapshot journal task (journal/snapshot/snapshotJournalTask.ts) in the real pipeline, with real
 * worker threads and files: snapshots every 500 commands and on stop, the stop snapshot at the WAL's
 * last seq with the stateHash of an in-process oracle engine; a restart recovers from it (nothing to
 * replay) to the same stateHash; old snapshots and the WAL segments below the oldest kept one are
 * deleted, recovery still works after that, and the second run's stop snapshot is right too. Then
 * the task alone with a hand-made context: a WAL retention hold (PostgreSQL's persisted seq) keeps
 * the snapshot it needs and the WAL after it.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { BACK_PRESSURED } from '../../engine/runtime/SubmitResult.js';
import { writeAddSymbolCommand } from '../../engine/runtime/SymbolCommands.js';
import type { JournalTaskContext } from '../../journal/JournalTask.js';
import { SnapshotStore, snapshotDir } from '../../journal/snapshot/SnapshotStore.js';
import { createJournalTask } from '../../journal/snapshot/snapshotJournalTask.js';
import { parseSegmentName, walDir } from '../../journal/wal/WalFormat.js';
import { WalWriter } from '../../journal/wal/WalWriter.js';
import { fastDriver } from '../fixtures/engine/fastDriver.js';
import { runRandom } from '../fixtures/engine/randomCommands.js';
import { EventCollector, generateStream, TEST_ENGINE, testSymbols } from '../fixtures/runtimeCommands.js';

const log = pino({ level: 'silent' });
const symbols = testSymbols(4);
const SHARDS = 2;
// Note: each pipeline start compiles the workers' TypeScript (seconds on a busy machine).
t.setTimeout(120_000);
const TASK_URL = new URL('../../journal/snapshot/snapshotJournalTask.ts', import.meta.url);

async function submitAll(p: Pipeline, bytes: Uint8Array, shardOf: Uint8Array, from: number, to: number) {
  for (let i = from; i < to; i++) {
    while (p.submit(shardOf[i], bytes, i * COMMAND_SIZE) === BACK_PRESSURED) {
      await new Promise((r) => setImmediate(r));
    }
  }
}

/** First seqs of the WAL segments on disk, ascending. */
function segments(dir: string): number[] {
  return readdirSync(dir)
    .map(parseSegmentName)
    .filter((s) => s > 0)
    .sort((a, b) => a - b);
}

/** The oracle: shard k's set-up and its commands of stream[0, to) through a fresh engine. */
function oracle(k: number, stream: ReturnType<typeof generateStream>, to: number) {
  const engine = new MatchingEngine({ shardId: k, ...TEST_ENGINE });
  const sink = new EventBuffer(4096);
  const cmd = new DataView(new ArrayBuffer(COMMAND_SIZE));
  let commands = 0;
  for (const s of symbols) {
    if (s.id % SHARDS !== k) continue;
    writeAddSymbolCommand(cmd, 0, s);
    sink.clear();
    engine.process(cmd, 0, sink);
    commands++;
  }
  const view = new DataView(stream.bytes.buffer, stream.bytes.byteOffset, stream.bytes.byteLength);
  for (let i = 0; i < to; i++) {
    if (stream.shardOf[i] !== k) continue;
    sink.clear();
    engine.process(view, i * COMMAND_SIZE, sink);
    commands++;
  }
  return { commands, stateHash: engine.stateHash() };
}

t.test(
  'pipeline with the snapshot task: snapshots, stop snapshot, recovery from it, WAL retention',
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'exc-snaptask-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const stream = generateStream(4242, 5000, SHARDS, symbols);
    const start = () =>
      Pipeline.start({
        shards: SHARDS,
        symbols,
        log,
        onEvent: new EventCollector(SHARDS).onEvent,
        ...TEST_ENGINE,
        journal: {
          dataDir,
          durability: 'async',
          segmentBytes: 16 * 1024,
          // Note: small WAL batches, so the durable seq (and the replica) moves in many steps.
          batchRecords: 64,
          stateHash: true,
          tasks: [TASK_URL],
          taskOptions: { ...TEST_ENGINE, snapshotEveryCommands: 500, snapshotIntervalS: 0, snapshotKeep: 3 },
        },
      });

    /** After a stop at stream index `to`: the files on disk of every shard. */
    const checkDisk = (to: number, durable: number[]) => {
      for (let k = 0; k < SHARDS; k++) {
        const o = oracle(k, stream, to);
        t.equal(durable[k], o.commands, `shard ${k}: every command durable`);
        const store = new SnapshotStore(snapshotDir(dataDir, k), { shardId: k });
        const kept = store.list();
        t.ok(kept.length >= 2 && kept.length <= 3, `shard ${k}: ${kept.length} snapshots kept (keep 3)`);
        const newest = store.loadNewest();
        t.equal(newest?.meta.cmdSeq, durable[k], `shard ${k}: the stop snapshot is at the WAL's last seq`);
        t.equal(newest?.meta.stateHash, o.stateHash, `shard ${k}: its stateHash equals the oracle's`);
        const oldest = kept[kept.length - 1].cmdSeq;
        const segs = segments(walDir(dataDir, k));
        t.ok(segs[0] > 1, `shard ${k}: old WAL segments deleted (log starts at ${segs[0]})`);
        t.ok(
          segs[0] <= oldest + 1,
          `shard ${k}: the WAL after the oldest kept snapshot (${oldest}) is there`,
        );
        t.ok(
          segs.length === 1 || segs[1] > oldest + 1,
          `shard ${k}: every segment wholly at or below ${oldest} is gone`,
        );
      }
    };

    const p1 = await start();
    await submitAll(p1, stream.bytes, stream.shardOf, 0, 4000);
    await p1.stop();
    const durable1 = [0, 1].map((k) => p1.health().shards[k].durableSeq ?? 0);
    checkDisk(4000, durable1);

    const p2 = await start();
    for (let k = 0; k < SHARDS; k++) {
      const r = p2.recovered(k);
      t.equal(r?.snapshotSeq, durable1[k], `shard ${k}: recovered from the stop snapshot`);
      t.equal(r?.replayed, 0, `shard ${k}: nothing left to replay`);
      t.equal(r?.cmdSeq, durable1[k]);
      t.equal(r?.stateHash, oracle(k, stream, 4000).stateHash, `shard ${k}: recovered stateHash`);
    }
    await submitAll(p2, stream.bytes, stream.shardOf, 4000, 5000);
    await p2.stop();
    const durable2 = [0, 1].map((k) => p2.health().shards[k].durableSeq ?? 0);
    checkDisk(5000, durable2);
  },
);

t.test('a WAL retention hold keeps the snapshot it needs and the WAL after it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'exc-snaphold-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const d = fastDriver(4096, 64, 8);
  runRandom(d, 11, 3000);
  const wal = new WalWriter(walDir(dataDir, 0), 0, 1, { segmentBytes: 8 * 1024 });
  const rec = new DataView(new ArrayBuffer(COMMAND_SIZE));
  let appended = 0;
  for (const c of d.log) {
    new Uint8Array(rec.buffer).set(c);
    wal.append(rec, 0);
    appended++;
    // Note: segments roll only after a commit; commit often so several exist.
    if (appended % 50 === 0) wal.commit();
  }
  wal.commit();
  wal.close();
  const total = d.log.length;
  let durable = 0;
  const HELD = 450;
  t.equal(total, 3003, 'runRandom(3000) logs 3003 commands (its set-up included)');
  const ctx: JournalTaskContext = {
    shards: 1,
    dataDir,
    walDir: (k) => walDir(dataDir, k),
    durableSeq: () => durable,
    options: {
      maxOrders: 4096,
      maxSymbols: 8,
      maxAccounts: 64,
      snapshotEveryCommands: 200,
      snapshotIntervalS: 0,
    },
    walHeldFrom: () => HELD,
  };
  const task = await createJournalTask(ctx);
  // Note: durable grows in steps of 250 (> every 200), and each step waits for its snapshot: one
  // snapshot per step, at 250, 500, ..., 3000, then the stop snapshot.
  while (durable < total) {
    durable = Math.min(total, durable + 250);
    const before = task.status()[0].taken;
    while ((await task.poll()) > 0);
    for (let i = 0; i < 500 && task.status()[0].taken === before; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await task.poll();
    }
  }
  await task.close();
  const st = task.status()[0];
  t.equal(st.cmdSeq, total, 'the replica applied the whole durable WAL');
  t.equal(st.retentionFailures, 0);
  const kept = new SnapshotStore(snapshotDir(dataDir, 0), { shardId: 0 }).list().map((s) => s.cmdSeq);
  t.same(kept, [total, 3000, 2750, 250], 'the newest 3 snapshots and the newest one at or below the hold');
  t.equal(st.taken, 13, 'a snapshot per step and one on stop');
  const segs = segments(walDir(dataDir, 0));
  t.ok(segs[0] > 1 && segs[0] <= 251, `the WAL starts at ${segs[0]}: everything after 250 is there`);
  t.ok(st.walSegmentsDeleted > 0, `${st.walSegmentsDeleted} segments deleted`);
});
