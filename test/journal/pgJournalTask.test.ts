// The journal-worker task as the pipeline runs it: a context with the WAL directory and a durable
// seq, poll() until caught up, close() drains; then the rows are in PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { JournalTaskContext } from '../../journal/JournalTask.js';
import { migrate } from '../../journal/pg/migrate.js';
import { createJournalTask } from '../../journal/pg/pgJournalTask.js';
import { walDir } from '../../journal/wal/WalReader.js';
import { WalWriter } from '../../journal/wal/WalWriter.js';
import { fastDriver } from '../fixtures/engine/fastDriver.js';
import { runRandom } from '../fixtures/engine/randomCommands.js';
import { actualTradeIds, expectedTradeIds } from '../fixtures/pg/eventStream.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

t.test('createJournalTask follows the durable WAL into PostgreSQL', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const dataDir = mkdtempSync(join(tmpdir(), 'exchange-pgtask-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const d = fastDriver(4096, 64, 8);
  runRandom(d, 9, 3000);
  const wal = new WalWriter(walDir(dataDir, 0), 0, 1);
  const rec = new DataView(new ArrayBuffer(96));
  for (const c of d.log) {
    new Uint8Array(rec.buffer).set(c);
    if (wal.room() === 0) wal.commit();
    wal.append(rec, 0);
  }
  wal.commit();
  wal.close();
  let durable = 1000;
  const ctx: JournalTaskContext = {
    shards: 1,
    dataDir,
    walDir: (k) => walDir(dataDir, k),
    durableSeq: () => durable,
    options: {
      databaseUrl: db.url,
      schema: db.schema,
      maxOrders: 4096,
      maxSymbols: 8,
      maxAccounts: 64,
      batchRows: 200,
    },
  };
  const task = await createJournalTask(ctx);
  while ((await task.poll()) > 0) await new Promise((r) => setImmediate(r));
  t.equal(task.status().lag[0], 1000 - task.status().persistedCmdSeq[0]);
  durable = d.log.length;
  await task.close();
  const st = task.status();
  t.same(st.persistedCmdSeq, [d.log.length], 'everything durable is persisted after close');
  t.same(st.lag, [0]);
  t.equal(st.writer.failures, 0);
  const stream = { view: d.sink.view, ends: [], eventCount: d.sink.count, fills: 0 };
  t.same(await actualTradeIds(db.sql), expectedTradeIds(stream));
});

t.test('createJournalTask needs a database URL', async (t) => {
  const ctx: JournalTaskContext = {
    shards: 1,
    dataDir: '/nonexistent',
    walDir: () => '/nonexistent',
    durableSeq: () => 0,
    options: {},
  };
  await t.rejects(createJournalTask(ctx), { code: 'EXC_ERR_PG_WRITER', message: /databaseUrl/ });
});

t.test('npm run db:migrate with DB=none has nothing to do', async (t) => {
  const before = process.env.DB;
  const url = process.env.DATABASE_URL;
  process.env.DB = 'none';
  delete process.env.DATABASE_URL;
  const lines: string[] = [];
  const log = console.log;
  console.log = (m: string) => lines.push(m);
  try {
    await import('../../journal/pg/dbMigrate.js');
  } finally {
    console.log = log;
    if (before === undefined) delete process.env.DB;
    else process.env.DB = before;
    if (url !== undefined) process.env.DATABASE_URL = url;
  }
  t.same(lines, ['DB=none: no database to migrate']);
});
