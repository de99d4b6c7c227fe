import t from 'tap';
import { migrate } from '../../journal/pg/migrate.js';
import { PgWriter } from '../../journal/pg/PgWriter.js';
import {
  actualOrders,
  actualTradeIds,
  expectedOrders,
  expectedTradeIds,
  feed,
  randomStream,
} from '../fixtures/pg/eventStream.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

const stream = randomStream(7, 4000);
const orders = expectedOrders(stream);
const tradeIds = expectedTradeIds(stream);

t.test('the stream exercises fills, cancels and amends', async (t) => {
  t.ok(stream.fills > 300, `${stream.fills} fills`);
  t.ok(orders.length > 1000, `${orders.length} orders`);
  t.ok(new Set(orders.map((o) => o.status)).size >= 4, 'several final statuses');
});

for (const batchRows of [16, 500, 100_000]) {
  t.test(`orders and trades match the reference (batchRows ${batchRows})`, async (t) => {
    const db = await testDatabase(t);
    await migrate(db.sql);
    const w = new PgWriter({ sql: db.writerClient(), batchRows, maxDelayMs: 1 });
    await w.loadProgress();
    t.equal(w.persistedCmdSeq(0), 0);
    await feed(w, stream);
    await w.close();
    t.same(await actualTradeIds(db.sql), tradeIds, 'every trade once');
    t.same(await actualOrders(db.sql), orders, 'every order at its final state');
    const [p] =
      await db.sql`SELECT cmd_seq::float8 AS c, event_seq::float8 AS e FROM journal_progress WHERE shard_id = 0`;
    t.equal(p.c, stream.ends.length, 'progress: last command');
    t.equal(p.e, stream.eventCount, 'progress: last event');
    t.equal(w.persistedCmdSeq(0), stream.ends.length);
    t.equal(w.persistedEventSeq(0), stream.eventCount);
    const st = w.stats();
    t.equal(st.tradesWritten, stream.fills);
    t.equal(st.failures, 0);
    t.equal(st.bufferedRows, 0);
  });
}

t.test('re-sending everything (other batch boundaries) changes nothing', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const a = new PgWriter({ sql: db.writerClient(), batchRows: 300 });
  await feed(a, stream);
  await a.close();
  const dump = async () =>
    (await db.sql`SELECT md5(string_agg(t::text, ',' ORDER BY order_id)) AS h FROM orders t`)[0].h +
    (await db.sql`SELECT md5(string_agg(t::text, ',' ORDER BY trade_id)) AS h FROM trades t`)[0].h;
  const before = await dump();
  const b = new PgWriter({ sql: db.writerClient(), batchRows: 77 });
  await feed(b, stream);
  await b.close();
  t.equal(await dump(), before, 'same rows after a full re-send');
  const c = new PgWriter({ sql: db.writerClient(), batchRows: 1000 });
  await feed(c, stream, 0, 1000, 0, 2000);
  await c.close();
  t.equal(await dump(), before, 'same rows after re-sending a middle part');
});

t.test('a restart resumes from the persisted sequence: no gap, no duplicate', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const a = new PgWriter({ sql: db.writerClient(), batchRows: 200 });
  await feed(a, stream, 0, 0, 0, 1500);
  await a.drain();
  // A crash: events fed after the last commit are lost with the process.
  const b = new PgWriter({ sql: db.writerClient(), batchRows: 250 });
  await b.loadProgress();
  t.equal(b.persistedCmdSeq(0), 1500);
  await feed(b, stream, 0, b.persistedCmdSeq(0), b.persistedEventSeq(0));
  await b.close();
  t.same(await actualTradeIds(db.sql), tradeIds);
  t.same(await actualOrders(db.sql), orders);
});

t.test('several shards share one writer', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  // Shard 3 runs its own engine (its ids carry its shard number), interleaved with shard 0.
  const shard3 = randomStream(11, 600, 3);
  const w = new PgWriter({ sql: db.writerClient(), batchRows: 128 });
  await Promise.all([feed(w, stream, 0), feed(w, shard3, 3)]);
  await w.close();
  const rows = await db.sql`SELECT shard_id, cmd_seq::float8 AS c FROM journal_progress ORDER BY shard_id`;
  t.same(
    rows.map((r) => [r.shard_id, r.c]),
    [
      [0, stream.ends.length],
      [3, shard3.ends.length],
    ],
  );
  const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM trades WHERE shard_id = 3`;
  t.equal(n, shard3.fills, 'every fill of shard 3, under shard 3');
  t.same(
    await actualTradeIds(db.sql),
    [...tradeIds, ...expectedTradeIds(shard3)].sort((a, b) => a - b),
  );
  t.equal(w.stats().failures, 0);
});

t.test('a row the server refuses fails the flush (retried, reported), never hangs it', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  // A stray trade row with the id of the stream's first fill, and no progress: not a re-send.
  const first = tradeIds[0];
  await db.sql.unsafe(
    `INSERT INTO trades SELECT ${first}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0`,
  );
  const lines: string[] = [];
  const w = new PgWriter({
    sql: db.writerClient(),
    batchRows: 100_000,
    maxDelayMs: 1,
    retryMinMs: 5,
    retryMaxMs: 20,
    log: (_level, msg) => lines.push(msg),
  });
  await w.loadProgress();
  await feed(w, stream);
  while (w.stats().failures < 3) await new Promise((r) => setTimeout(r, 5));
  t.match(w.stats().lastError, /duplicate key/, "the server's reason is reported");
  t.equal(w.persistedCmdSeq(0), 0, 'nothing committed');
  const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM orders`;
  t.equal(n, 0, 'no order row committed either');
  await db.sql.unsafe(`DELETE FROM trades WHERE trade_id = ${first}`);
  await w.close();
  t.same(await actualTradeIds(db.sql), tradeIds, 'every trade once after the conflict is gone');
  t.same(await actualOrders(db.sql), orders);
  t.ok(
    lines.some((l) => /succeeded after/.test(l)),
    'recovery logged',
  );
});

t.test('the writer refuses a client whose sessions may write outside its transaction', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const w = new PgWriter({ sql: db.client() });
  await t.rejects(w.loadProgress(), { code: 'EXC_ERR_PG_WRITER', message: /writer: true/ });
});

t.test('options are checked', async (t) => {
  const db = await testDatabase(t);
  t.throws(() => new PgWriter({ sql: db.sql, batchRows: 0 }), {
    code: 'EXC_ERR_PG_WRITER',
    message: /batchRows.*got 0/,
  });
  t.throws(() => new PgWriter({ sql: db.sql, retryMinMs: 10, retryMaxMs: 5 }), { code: 'EXC_ERR_PG_WRITER' });
});
