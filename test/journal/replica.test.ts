/**
 * Replica + SnapshotScheduler with real snapshot files and a real piscina pool: a replica follows a
 * generated command log (seq = index + 1), snapshots on the policy; then for every snapshot on disk,
 * `Replica.restore(config, store, seq)` + the rest of the log gives the uninterrupted run's events
 * (byte for byte) and state hash, for many seeds of both generator mixes. Also: seq checks, the
 * time-based policy with a fake clock, graceful stop, skip counting, env parsing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
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
import { Replica, ReplicaSeqError } from '../../journal/Replica.js';
import {
  DEFAULT_SNAPSHOT_EVERY_COMMANDS,
  DEFAULT_SNAPSHOT_INTERVAL_S,
  SnapshotScheduler,
  snapshotPolicyFromEnv,
} from '../../journal/snapshot/SnapshotScheduler.js';
import { SnapshotStore, SnapshotWriterPool } from '../../journal/snapshot/SnapshotStore.js';

const pool = new SnapshotWriterPool({ threads: 1, maxQueue: 4 });
t.teardown(() => pool.close());
const quiet = { warn: () => {}, info: () => {} };

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'replica-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const CONFIGS: Record<Mix, EngineConfig> = {
  mixed: MIXED_CONFIG,
  exchangeCore: { ...EXCHANGE_CORE_CONFIG, maxOrders: 4096 },
};

t.test('restore from every snapshot + the rest of the log = the uninterrupted run', async (t) => {
  const dataDir = tempDir(t);
  const cases: [Mix, number][] = [
    ['mixed', 1],
    ['mixed', 2],
    ['mixed', 0xbeef],
    ['mixed', 424242],
    ['exchangeCore', 1],
    ['exchangeCore', 7],
    ['exchangeCore', 99],
  ];
  for (const [mix, seed] of cases) {
    const config = CONFIGS[mix];
    const count = 2000;
    const { bytes } = generateCommands({ seed, mix, resting: 300 }, count, new MatchingEngine(config));
    const log = new DataView(bytes.buffer);
    const store = new SnapshotStore(join(dataDir, `${mix}-${seed}`), {
      pool,
      log: quiet,
      shardId: config.shardId,
    });
    // The uninterrupted replica, snapshotting every ~300 commands; events per command recorded.
    const replica = Replica.restore(config, store);
    t.equal(replica.cmdSeq, 0, 'starts empty');
    const scheduler = new SnapshotScheduler({ everyCommands: 300 + (seed % 50), intervalMs: 0 }, 0, {
      log: quiet,
    });
    const sink = new EventBuffer(4096);
    const eventsBefore = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) {
      eventsBefore[i] = sink.count;
      replica.apply(i + 1, log, i * COMMAND_SIZE, sink);
      // Batches of 16 commands.
      if (i % 16 === 15) {
        const p = scheduler.afterBatch(replica);
        if (p !== undefined) await p;
      }
    }
    eventsBefore[count] = sink.count;
    await scheduler.onStop(replica);
    const finalHash = replica.engine.stateHash();
    const all = sink.written();
    const snaps = store.list();
    t.ok(snaps.length >= 5, `${mix}/${seed}: ${snaps.length} snapshots`);
    t.equal(snaps[0].cmdSeq, count, 'the graceful-stop snapshot is the newest');
    t.equal(scheduler.taken, snaps.length, 'taken counts them');
    let ok = 0;
    for (const { cmdSeq } of snaps) {
      const r = Replica.restore(config, store, cmdSeq);
      if (r.cmdSeq !== cmdSeq) t.fail(`restored at ${r.cmdSeq}, wanted ${cmdSeq}`);
      const meta = r.restoredFrom!.meta;
      if (meta.eventSeq !== eventsBefore[cmdSeq]) t.fail(`eventSeq ${meta.eventSeq} at ${cmdSeq}`);
      if (r.eventSeq !== meta.eventSeq || r.engine.stateHash() !== meta.stateHash)
        t.fail(`meta at ${cmdSeq}`);
      const tail = new EventBuffer(4096);
      for (let seq = cmdSeq + 1; seq <= count; seq++) r.apply(seq, log, (seq - 1) * COMMAND_SIZE, tail);
      const expected = all.subarray(eventsBefore[cmdSeq] * EVENT_SIZE);
      if (!Buffer.from(tail.written()).equals(Buffer.from(expected)))
        t.fail(`events after snapshot ${cmdSeq}`);
      else if (r.engine.stateHash() !== finalHash) t.fail(`final hash after snapshot ${cmdSeq}`);
      else ok++;
    }
    t.equal(ok, snaps.length, `${mix}/${seed}: every snapshot + replay matches`);
  }
});

t.test('apply refuses gaps and duplicates', async (t) => {
  const store = new SnapshotStore(tempDir(t), { pool, log: quiet });
  const replica = Replica.restore(MIXED_CONFIG, store);
  const { bytes } = generateCommands({ seed: 1, mix: 'mixed' }, 3, new MatchingEngine(MIXED_CONFIG));
  const v = new DataView(bytes.buffer);
  const sink = new EventBuffer();
  t.throws(() => replica.apply(2, v, 0, sink), ReplicaSeqError, 'gap');
  replica.apply(1, v, 0, sink);
  t.throws(
    () => replica.apply(1, v, 0, sink),
    { code: 'EXC_ERR_REPLICA_SEQ', message: /expected 2/ },
    'duplicate',
  );
  t.equal(replica.cmdSeq, 1);
  t.equal(replica.eventSeq, 1, 'SYMBOL_ADDED');
  t.throws(() => new Replica(MIXED_CONFIG, store, undefined, -1), ReplicaSeqError);
});

t.test('scheduler: time policy, one at a time, skips counted, graceful stop', async (t) => {
  const store = new SnapshotStore(tempDir(t), { pool, log: quiet });
  const replica = Replica.restore(MIXED_CONFIG, store);
  const { bytes } = generateCommands({ seed: 3, mix: 'mixed' }, 50, new MatchingEngine(MIXED_CONFIG));
  const v = new DataView(bytes.buffer);
  const sink = new EventBuffer();
  let now = 1000;
  const s = new SnapshotScheduler({ everyCommands: 1_000, intervalMs: 5_000 }, 0, {
    clock: () => now,
    log: quiet,
  });
  t.equal(s.afterBatch(replica), undefined, 'nothing applied: not due');
  now += 10_000;
  t.equal(s.afterBatch(replica), undefined, 'time passed but nothing applied: not due');
  replica.apply(1, v, 0, sink);
  const first = s.afterBatch(replica);
  t.ok(first, 'due by time');
  replica.apply(2, v, COMMAND_SIZE, sink);
  now += 10_000;
  t.equal(s.afterBatch(replica), undefined, 'one snapshot at a time');
  t.match(await first, /snap-0000000000000001\.snap$/);
  const second = s.afterBatch(replica);
  t.ok(second, 'due again once the first finished');
  await second;
  for (let seq = 3; seq <= 10; seq++) replica.apply(seq, v, (seq - 1) * COMMAND_SIZE, sink);
  t.match(await s.onStop(replica), /snap-0000000000000010\.snap$/, 'graceful stop snapshots the final state');
  t.equal(await s.onStop(replica), undefined, 'nothing newer: no second stop snapshot');
  t.equal(s.taken, 3);
  // A full pool: the snapshot is skipped, counted, and retried on the next batch.
  const tiny = new SnapshotWriterPool({ threads: 1, maxQueue: 0 });
  t.teardown(() => tiny.close());
  const busyStore = new SnapshotStore(tempDir(t), { pool: tiny, log: quiet });
  const r2 = new Replica(MIXED_CONFIG, busyStore);
  r2.apply(1, v, 0, sink);
  const blocker = busyStore.write(
    { shardId: 3, cmdSeq: 0, eventSeq: 0, stateHash: r2.engine.stateHash() },
    r2.engine.exportState(),
  );
  const s2 = new SnapshotScheduler({ everyCommands: 1, intervalMs: 0 }, 0, { log: quiet });
  t.equal(await s2.afterBatch(r2), undefined, 'skipped while the pool is full');
  t.equal(s2.skipped, 1);
  t.equal(busyStore.skipped, 1);
  await blocker;
  t.match(await s2.afterBatch(r2), /snap-0000000000000001\.snap$/, 'retried on the next batch');
});

t.test('snapshotPolicyFromEnv', (t) => {
  t.same(snapshotPolicyFromEnv({}), {
    everyCommands: DEFAULT_SNAPSHOT_EVERY_COMMANDS,
    intervalMs: DEFAULT_SNAPSHOT_INTERVAL_S * 1000,
  });
  t.same(snapshotPolicyFromEnv({ SNAPSHOT_EVERY_COMMANDS: '5000', SNAPSHOT_INTERVAL_S: '0' }), {
    everyCommands: 5000,
    intervalMs: 0,
  });
  t.throws(() => snapshotPolicyFromEnv({ SNAPSHOT_EVERY_COMMANDS: '0' }), {
    code: 'EXC_ERR_CONFIG',
    message: /SNAPSHOT_EVERY_COMMANDS/,
  });
  t.throws(() => snapshotPolicyFromEnv({ SNAPSHOT_INTERVAL_S: '1.5' }), { message: /SNAPSHOT_INTERVAL_S/ });
  t.end();
});
