// A real PostgreSQL restart during load, on the embedded server (which a test may stop and start;
// the shared server on 5432 is left alone): the writer retries while the server is down, the feeder
// pauses (bounded), and afterwards every fill is there exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../journal/pg/Database.js';
import { EmbeddedDatabase } from '../../journal/pg/EmbeddedDatabase.js';
import { openPg } from '../../journal/pg/PgClient.js';
import { PgWriter } from '../../journal/pg/PgWriter.js';
import {
  actualOrders,
  actualTradeIds,
  expectedOrders,
  expectedTradeIds,
  feed,
  randomStream,
} from '../fixtures/pg/eventStream.js';

const stream = randomStream(23, 15_000);
const tick = () => new Promise((r) => setTimeout(r, 2));

t.test('embedded server: start, migrate, write, stop; restart keeps the data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'exchange-emb-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const db = (await openDatabase({ database: 'embedded', databaseUrl: undefined, dataDir }))!;
  t.ok(db.embedded?.started);
  await db.sql`INSERT INTO journal_progress (shard_id, cmd_seq, event_seq) VALUES (9, 1, 2)`;
  const port = db.embedded!.port;
  await db.stop();
  t.notOk(db.embedded!.started);
  const again = (await openDatabase({ database: 'embedded', databaseUrl: undefined, dataDir }))!;
  const rows = await again.sql`SELECT cmd_seq::int AS c FROM journal_progress WHERE shard_id = 9`;
  t.same(
    rows.map((r) => r.c),
    [1],
    'the row survived the restart',
  );
  t.ok(again.embedded!.port > 0 && typeof port === 'number');
  await again.stop();
  t.equal(
    await openDatabase({ database: 'none', databaseUrl: undefined, dataDir }),
    undefined,
    'DB=none: no database',
  );
});

t.test('PostgreSQL restarted during load: 0 duplicate and 0 missing fills', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'exchange-restart-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = (await openDatabase({ database: 'embedded', databaseUrl: undefined, dataDir }))!;
  const port = first.embedded!.port;
  const url = first.url;
  await first.sql.end();
  let server: EmbeddedDatabase = first.embedded!;
  const sql = openPg(url, { connectTimeoutS: 2, writer: true });
  const w = new PgWriter({ sql, batchRows: 256, maxDelayMs: 2, retryMinMs: 10, retryMaxMs: 100 });
  await w.loadProgress();
  let fedDone = false;
  let maxBuffered = 0;
  let failuresWhileDown = 0;
  const watch = setInterval(() => {
    maxBuffered = Math.max(maxBuffered, w.stats().bufferedRows);
  }, 1);
  const feeding = feed(w, stream).then(() => {
    fedDone = true;
  });
  while (w.persistedCmdSeq(0) < 4000 && !fedDone) await tick();
  await server.stop();
  // While down: the writer fails and retries; the feeder stops once the writer is full.
  while (!(w.full() && w.stats().failing > 0) && !fedDone) await tick();
  failuresWhileDown = w.stats().failing;
  const lagWhileDown = stream.ends.length - w.persistedCmdSeq(0);
  server = await EmbeddedDatabase.start({ dataDir, port });
  await feeding;
  await w.close();
  clearInterval(watch);
  t.ok(failuresWhileDown > 0, `${failuresWhileDown} failed flushes while the server was down`);
  t.ok(lagWhileDown > 0, `lag while down: ${lagWhileDown} commands`);
  t.ok(maxBuffered <= 2 * w.capacity, `bounded: at most ${maxBuffered} rows buffered`);
  const check = openPg(url);
  const ids = await actualTradeIds(check);
  t.equal(new Set(ids).size, ids.length, '0 duplicate fills');
  t.same(ids, expectedTradeIds(stream), `0 missing fills (${ids.length})`);
  t.same(await actualOrders(check), expectedOrders(stream), 'orders at their final state');
  await check.end();
  await sql.end({ timeout: 1 });
  await server.stop();
});
