/**
 * The pipeline with its journal, in-process with real worker threads and real files: commands go
 * through the command rings, the journal writes them to the WAL; a restart on the same data directory
 * recovers every shard to the same state (stateHash equal to an in-process replay of the WAL and to
 * the pre-restart engine's events), does not re-send ADD_SYMBOL, and the WAL seq continues. Both
 * durability modes; in sync mode the gate holds the shard behind the journal.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { BACK_PRESSURED } from '../../engine/runtime/SubmitResult.js';
import { walDir } from '../../journal/wal/WalFormat.js';
import { EventCollector, generateStream, TEST_ENGINE, testSymbols } from '../fixtures/runtimeCommands.js';
import { replayWal } from '../fixtures/walReplay.js';

const log = pino({ level: 'silent' });
const symbols = testSymbols(4);
const SHARDS = 2;

async function submitAll(p: Pipeline, bytes: Uint8Array, shardOf: Uint8Array, from: number, to: number) {
  for (let i = from; i < to; i++) {
    while (p.submit(shardOf[i], bytes, i * COMMAND_SIZE) === BACK_PRESSURED) {
      await new Promise((r) => setImmediate(r));
    }
  }
}

for (const durability of ['sync', 'async'] as const) {
  t.test(`${durability}: stop, restart, recover: same state as a WAL replay, seq continues`, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), `exc-wal-${durability}-`));
    const stream = generateStream(777, 6000, SHARDS, symbols);
    const start = (c: EventCollector) =>
      Pipeline.start({
        shards: SHARDS,
        symbols,
        log,
        onEvent: c.onEvent,
        ...TEST_ENGINE,
        journal: { dataDir, durability, segmentBytes: 64 * 1024 },
      });
    const c1 = new EventCollector(SHARDS);
    const p1 = await start(c1);
    t.same([p1.recovered(0)?.cmdSeq, p1.recovered(1)?.cmdSeq], [0, 0], 'empty data dir: nothing recovered');
    await submitAll(p1, stream.bytes, stream.shardOf, 0, 3000);
    await p1.stop();
    const durable1 = [0, 1].map((k) => p1.health().shards[k].durableSeq);
    for (let k = 0; k < SHARDS; k++) {
      const sent = Array.from(stream.shardOf.subarray(0, 3000)).filter((s) => s === k).length;
      const adds = symbols.filter((s) => s.id % SHARDS === k).length;
      t.equal(
        durable1[k],
        sent + adds,
        `shard ${k}: every command (and its ADD_SYMBOLs) is durable after stop`,
      );
    }
    t.ok(readdirSync(walDir(dataDir, 0)).length > 1, 'segments rolled at 64 KiB');

    const c2 = new EventCollector(SHARDS);
    const p2 = await start(c2);
    for (let k = 0; k < SHARDS; k++) {
      const r = p2.recovered(k);
      const oracle = replayWal(walDir(dataDir, k), { shardId: k, ...TEST_ENGINE });
      t.equal(r?.cmdSeq, durable1[k], `shard ${k}: recovered every durable command`);
      t.equal(r?.stateHash, oracle.stateHash, `shard ${k}: stateHash equals a replay of the WAL`);
      t.equal(r?.eventSeq, c1.counts[k], `shard ${k}: event seq continues where the first run stopped`);
      t.same(
        r?.symbols,
        symbols.filter((s) => s.id % SHARDS === k).map((s) => s.id),
      );
    }
    t.same(c2.counts, [0, 0], 'no ADD_SYMBOL re-sent: no events at start');
    await submitAll(p2, stream.bytes, stream.shardOf, 3000, 6000);
    await p2.stop();
    for (let k = 0; k < SHARDS; k++) {
      const oracle = replayWal(walDir(dataDir, k), { shardId: k, ...TEST_ENGINE });
      t.equal(
        oracle.lastSeq,
        p2.health().shards[k].durableSeq,
        `shard ${k}: seq continued across the restart`,
      );
      t.equal(
        oracle.eventSeq,
        c1.counts[k] + c2.counts[k],
        `shard ${k}: replay emits as many events as both runs`,
      );
    }
  });
}
