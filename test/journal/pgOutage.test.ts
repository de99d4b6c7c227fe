// PostgreSQL failing under load: connections killed and tables locked while the writer is being fed.
// The writer must retry, stay bounded (the feeder pauses), and end with every trade exactly once and
// every order at its reference state.
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

const stream = randomStream(11, 20_000);
const tick = () => new Promise((r) => setTimeout(r, 2));

t.test('killed connections and a stalled table during load: 0 duplicate, 0 missing fills', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const app = `journal-outage-${db.schema}`;
  const w = new PgWriter({
    sql: db.writerClient(app),
    batchRows: 256,
    maxDelayMs: 2,
    retryMinMs: 5,
    retryMaxMs: 50,
  });
  let maxBuffered = 0;
  let fedDone = false;
  let sawFull = false;
  const watch = setInterval(() => {
    maxBuffered = Math.max(maxBuffered, w.stats().bufferedRows);
  }, 1);
  const feeding = feed(w, stream).then(() => {
    fedDone = true;
  });
  const chaos = (async () => {
    // 1. Kill the writer's connection three times, each after some progress.
    let kills = 0;
    for (let k = 1; k <= 3; k++) {
      while (w.persistedCmdSeq(0) < k * 3000 && !fedDone) await tick();
      const r = await db.sql`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE application_name = ${app}`;
      kills += r.filter((x) => x.ok).length;
    }
    // 2. Stall: hold an exclusive lock on trades until the writer reports full (the feeder waits).
    const locker = db.client(1);
    await locker.begin(async (tx) => {
      await tx`LOCK TABLE trades IN ACCESS EXCLUSIVE MODE`;
      while (!w.full() && !fedDone) await tick();
      sawFull = w.full();
    });
    return kills;
  })();
  const kills = await chaos;
  await feeding;
  await w.close();
  clearInterval(watch);
  t.ok(kills >= 1, `${kills} connections terminated`);
  t.ok(sawFull, 'the writer reported full while the table was locked');
  t.ok(
    maxBuffered <= 2 * w.capacity,
    `buffered rows stayed bounded (max ${maxBuffered}, capacity 2 x ${w.capacity})`,
  );
  const ids = await actualTradeIds(db.sql);
  const expected = expectedTradeIds(stream);
  t.equal(ids.length, expected.length, `${expected.length} fills persisted`);
  t.equal(new Set(ids).size, ids.length, '0 duplicate fills');
  t.same(ids, expected, '0 missing fills');
  t.same(await actualOrders(db.sql), expectedOrders(stream), 'orders at their final state');
  t.equal(w.persistedCmdSeq(0), stream.ends.length);
});
