// The feeder end to end: commands in a real WAL, a replica engine re-running them, rows in a real
// PostgreSQL; a restart resumes from journal_progress with no gap and no duplicate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { MatchingEngineOptions } from '../../engine/book/MatchingEngine.js';
import { migrate } from '../../journal/pg/migrate.js';
import { PgFeeder } from '../../journal/pg/PgFeeder.js';
import { PgWriter } from '../../journal/pg/PgWriter.js';
import { SnapshotStore } from '../../journal/snapshot/SnapshotStore.js';
import { WalReader, walDir } from '../../journal/wal/WalReader.js';
import { WalWriter } from '../../journal/wal/WalWriter.js';
import { fastDriver } from '../fixtures/engine/fastDriver.js';
import { runRandom } from '../fixtures/engine/randomCommands.js';
import {
  actualOrders,
  actualTradeIds,
  type EventStream,
  expectedOrders,
  expectedTradeIds,
} from '../fixtures/pg/eventStream.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

const ENGINE: MatchingEngineOptions = { shardId: 0, maxOrders: 4096, maxSymbols: 8, maxAccounts: 64 };

t.test('WAL -> replica -> PostgreSQL, with a restart half-way', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const dataDir = mkdtempSync(join(tmpdir(), 'exchange-feeder-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // The shard: a real engine run; its commands go to the WAL.
  const d = fastDriver(ENGINE.maxOrders, ENGINE.maxAccounts, ENGINE.maxSymbols);
  runRandom(d, 5, 6000);
  const stream: EventStream = { view: d.sink.view, ends: [], eventCount: d.sink.count, fills: 0 };
  const wal = new WalWriter(walDir(dataDir, 0), 0, 1);
  const rec = new DataView(new ArrayBuffer(96));
  for (const c of d.log) {
    new Uint8Array(rec.buffer).set(c);
    if (!wal.append(rec, 0)) wal.commit();
    if (wal.room() === 0) wal.commit();
  }
  wal.commit();
  const total = wal.durableSeq;
  wal.close();
  t.equal(total, d.log.length);
  const snapshots = new SnapshotStore(join(dataDir, 'snapshots'));

  // First run: only the first 2500 commands are "durable"; then the process stops.
  let durable = 2500;
  const w1 = new PgWriter({ sql: db.writerClient(), batchRows: 300 });
  await w1.loadProgress();
  const f1 = PgFeeder.start({
    shardId: 0,
    engine: ENGINE,
    snapshots,
    reader: new WalReader(walDir(dataDir, 0)),
    writer: w1,
    durableSeq: () => durable,
  });
  while (f1.poll() > 0 || f1.replica.cmdSeq < durable) await new Promise((r) => setImmediate(r));
  await w1.close();
  t.equal(f1.lag(), 0);
  t.equal(w1.persistedCmdSeq(0), 2500);

  // Second run: everything is durable; a new writer and feeder resume from journal_progress.
  durable = total;
  const w2 = new PgWriter({ sql: db.writerClient(), batchRows: 500 });
  await w2.loadProgress();
  t.equal(w2.persistedCmdSeq(0), 2500);
  const f2 = PgFeeder.start({
    shardId: 0,
    engine: ENGINE,
    snapshots,
    reader: new WalReader(walDir(dataDir, 0)),
    writer: w2,
    durableSeq: () => durable,
  });
  t.equal(f2.lag(), total - 2500, 'lag before catching up');
  while (f2.replica.cmdSeq < durable) {
    if (f2.poll() === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await w2.close();
  t.equal(f2.lag(), 0, 'caught up');
  t.equal(w2.persistedEventSeq(0), d.sink.count);
  t.same(await actualTradeIds(db.sql), expectedTradeIds(stream), 'every fill once');
  t.same(await actualOrders(db.sql), expectedOrders(stream), 'every order at its final state');
  await snapshots.close();
});

t.test('a database ahead of the WAL (a fresh DATA_DIR with an old database) is refused', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  await db.sql`INSERT INTO journal_progress (shard_id, cmd_seq, event_seq) VALUES (0, 500, 1400)`;
  const dataDir = mkdtempSync(join(tmpdir(), 'exchange-feeder-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const snapshots = new SnapshotStore(join(dataDir, 'snapshots'));
  t.teardown(() => snapshots.close());
  const w = new PgWriter({ sql: db.writerClient() });
  await w.loadProgress();
  t.throws(
    () =>
      PgFeeder.start({
        shardId: 0,
        engine: ENGINE,
        snapshots,
        reader: new WalReader(walDir(dataDir, 0)),
        writer: w,
        durableSeq: () => 0,
      }),
    { code: 'EXC_ERR_PG_WRITER', message: /at command 500 but the WAL ends at 0/ },
  );
});
