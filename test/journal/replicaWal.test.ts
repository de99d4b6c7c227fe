/**
 * Recovery end to end on real files: generated commands go through a real WAL (WalWriter, group
 * commits, small segments); a replica follows the WAL with WalReader and snapshots on the policy;
 * then for every snapshot, `Replica.restore(config, store, seq)` + `WalReader.readFrom(seq, ...)`
 * reproduces the uninterrupted run's events and state hash, over several seeds of both mixes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { EngineConfig } from '../../engine/book/Engine.js';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import {
  EXCHANGE_CORE_CONFIG,
  generateCommands,
  MIXED_CONFIG,
  type Mix,
} from '../../engine/reference/CommandGenerator.js';
import { Replica } from '../../journal/Replica.js';
import { SnapshotScheduler } from '../../journal/snapshot/SnapshotScheduler.js';
import { SnapshotStore, SnapshotWriterPool, snapshotDir } from '../../journal/snapshot/SnapshotStore.js';
import { MAX_SEQ } from '../../journal/wal/WalFormat.js';
import { WalReader } from '../../journal/wal/WalReader.js';
import { WalWriter } from '../../journal/wal/WalWriter.js';

const pool = new SnapshotWriterPool({ threads: 1, maxQueue: 2 });
t.teardown(() => pool.close());
const quiet = { warn: () => {}, info: () => {} };

const CONFIGS: Record<Mix, EngineConfig> = {
  mixed: MIXED_CONFIG,
  exchangeCore: { ...EXCHANGE_CORE_CONFIG, maxOrders: 4096 },
};

t.test('snapshot + WAL replay = the uninterrupted run, every snapshot, several seeds', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'replica-wal-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const cases: [Mix, number][] = [
    ['mixed', 31],
    ['mixed', 32],
    ['exchangeCore', 33],
  ];
  for (const [mix, seed] of cases) {
    const config = CONFIGS[mix];
    const count = 1500;
    const { bytes } = generateCommands({ seed, mix, resting: 200 }, count, new MatchingEngine(config));
    const cmds = new DataView(bytes.buffer);
    const walDir = join(dataDir, `wal-${mix}-${seed}`);
    // 1. The shard side: commands into the WAL in group commits of 64.
    const writer = new WalWriter(walDir, config.shardId, 1, { segmentBytes: 64 * 1024, capacity: 64 });
    for (let i = 0; i < count; i++) {
      if (!writer.append(cmds, i * COMMAND_SIZE)) {
        writer.commit();
        writer.append(cmds, i * COMMAND_SIZE);
      }
    }
    writer.commit();
    writer.close();
    // 2. The journal side: a replica follows the WAL in batches, snapshotting every ~200 commands.
    const store = new SnapshotStore(snapshotDir(join(dataDir, `${mix}-${seed}`), config.shardId), {
      pool,
      log: quiet,
      shardId: config.shardId,
    });
    const replica = Replica.restore(config, store);
    const scheduler = new SnapshotScheduler({ everyCommands: 200, intervalMs: 0 }, replica.cmdSeq, {
      log: quiet,
    });
    const sink = new EventBuffer(4096);
    const eventsBefore = new Int32Array(count + 2);
    const reader = new WalReader(walDir, { shardId: config.shardId });
    while (replica.cmdSeq < count) {
      reader.readFrom(
        replica.cmdSeq,
        MAX_SEQ,
        (seq, view, offset) => {
          eventsBefore[seq] = sink.count;
          replica.apply(seq, view, offset, sink);
        },
        100,
      );
      const p = scheduler.afterBatch(replica);
      if (p !== undefined) await p;
    }
    await scheduler.onStop(replica);
    eventsBefore[count + 1] = sink.count;
    const all = sink.written();
    const finalHash = replica.engine.stateHash();
    // The uninterrupted engine agrees with the replica.
    const direct = new MatchingEngine(config);
    const directSink = new EventBuffer(4096);
    for (let i = 0; i < count; i++) direct.process(cmds, i * COMMAND_SIZE, directSink);
    t.ok(Buffer.from(directSink.written()).equals(Buffer.from(all)), `${mix}/${seed}: replica = direct run`);
    t.equal(direct.stateHash(), finalHash);
    // 3. Recovery from each snapshot + the WAL after it.
    const snaps = store.list();
    t.ok(snaps.length >= 6, `${mix}/${seed}: ${snaps.length} snapshots`);
    let ok = 0;
    for (const { cmdSeq } of snaps) {
      const r = Replica.restore(config, store, cmdSeq);
      const from = r.cmdSeq;
      const tail = new EventBuffer(4096);
      const last = reader.readFrom(r.cmdSeq, MAX_SEQ, (seq, view, offset) =>
        r.apply(seq, view, offset, tail),
      );
      const expected = all.subarray(eventsBefore[cmdSeq + 1] * EVENT_SIZE);
      if (from !== cmdSeq || last !== count) t.fail(`restore at ${cmdSeq}: cmdSeq ${from}, WAL to ${last}`);
      else if (!Buffer.from(tail.written()).equals(Buffer.from(expected))) t.fail(`events after ${cmdSeq}`);
      else if (r.engine.stateHash() !== finalHash) t.fail(`hash after ${cmdSeq}`);
      else ok++;
    }
    t.equal(ok, snaps.length, `${mix}/${seed}: every snapshot + WAL replay matches`);
    reader.close();
  }
});
