/**
 * JournalMonitor against a real PostgreSQL: lag = durable - persisted from journal_progress, and an
 * unreachable server reported as degraded (never thrown).
 */
import { Registry } from 'prom-client';
import t from 'tap';
import { JournalMonitor } from '../../journal/pg/JournalMonitor.js';
import { migrate } from '../../journal/pg/migrate.js';
import { openPg } from '../../journal/pg/PgClient.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

t.test('lag from journal_progress, health and metrics', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  await db.sql`INSERT INTO journal_progress (shard_id, cmd_seq, event_seq) VALUES (0, 40, 90), (1, 7, 9)`;
  const durable = [100, 7];
  const registry = new Registry();
  const m = new JournalMonitor({
    sql: db.sql,
    shards: 2,
    durableSeq: (k) => durable[k],
    registry,
    degradedLag: 50,
  });
  await m.poll();
  t.same(
    m.lags().map((s) => s.lag),
    [60, 0],
  );
  t.match(m.health(), { status: 'degraded', database: 'reachable', shards: [{ id: 0, lag_commands: 60 }] });
  durable[0] = 80;
  t.equal(m.health().status, 'ok', 'within the degraded bound');
  const text = await registry.metrics();
  t.match(text, /exchange_journal_lag_commands\{shard="0"\} 40/);
  t.match(text, /exchange_database_up 1/);
  m.start();
  m.start();
  m.stop();
});

t.test('unreachable PostgreSQL: degraded, no throw', async (t) => {
  const sql = openPg('postgres://postgres@127.0.0.1:1/none', { max: 1 });
  t.teardown(() => sql.end({ timeout: 1 }));
  const m = new JournalMonitor({ sql, shards: 1, durableSeq: () => 5 });
  await m.poll();
  t.equal(m.reachable, false);
  t.match(m.health(), { status: 'degraded', database: /^unreachable/ });
  t.equal(m.lags()[0].lag, 5);
});
