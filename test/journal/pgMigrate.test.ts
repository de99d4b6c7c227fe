import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadMigrations, migrate } from '../../journal/pg/migrate.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

t.test('migrations apply once, in order, and record their checksums', async (t) => {
  const db = await testDatabase(t);
  const lines: string[] = [];
  const first = await migrate(db.sql, (m) => lines.push(m));
  t.same(first.applied, [1]);
  t.match(lines[0], /001_journal applied/);
  const again = await migrate(db.sql);
  t.same(again.applied, [], 'a second run applies nothing');
  const rows = await db.sql`SELECT version, name, checksum FROM schema_migrations ORDER BY version`;
  t.equal(rows.length, 1);
  t.equal(rows[0].checksum, loadMigrations()[0].checksum);
  const tables = await db.sql`SELECT table_name FROM information_schema.tables
    WHERE table_schema = ${db.schema} ORDER BY table_name`;
  t.same(
    tables.map((r) => r.table_name),
    ['journal_progress', 'orders', 'schema_migrations', 'trades'],
  );
});

t.test('concurrent runners: the advisory lock lets exactly one apply each file', async (t) => {
  const db = await testDatabase(t);
  const runners = [db.client(), db.client(), db.client(), db.client()];
  const results = await Promise.all(runners.map((c) => migrate(c)));
  const applied = results.flatMap((r) => r.applied);
  t.same(applied, [1], 'one runner applied 001, the others found it applied');
  const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM schema_migrations`;
  t.equal(n, 1);
});

t.test('a changed applied file, a bad name and an unknown applied version are refused', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const dir = mkdtempSync(join(tmpdir(), 'exchange-mig-'));
  writeFileSync(join(dir, '001_journal.sql'), 'SELECT 1;');
  await t.rejects(migrate(db.sql, undefined, loadMigrations(dir)), {
    code: 'EXC_ERR_PG_MIGRATION',
    message: /001_journal was changed after it was applied/,
  });
  const bad = mkdtempSync(join(tmpdir(), 'exchange-mig-'));
  writeFileSync(join(bad, 'x.sql'), 'SELECT 1;');
  t.throws(() => loadMigrations(bad), { code: 'EXC_ERR_PG_MIGRATION', message: /x\.sql/ });
  const empty = mkdtempSync(join(tmpdir(), 'exchange-mig-'));
  t.throws(() => loadMigrations(empty), { code: 'EXC_ERR_PG_MIGRATION', message: /no migration files/ });
  await db.sql`INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')`;
  await t.rejects(migrate(db.sql), { code: 'EXC_ERR_PG_MIGRATION', message: /99_future/ });
});

t.test('a failing migration leaves nothing behind', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const dir = mkdtempSync(join(tmpdir(), 'exchange-mig-'));
  const base = loadMigrations();
  writeFileSync(join(dir, '001_journal.sql'), base[0].sql);
  writeFileSync(
    join(dir, '002_broken.sql'),
    'CREATE TABLE half_done (x int); SELECT no_such_column FROM orders;',
  );
  await t.rejects(migrate(db.sql, undefined, loadMigrations(dir)), /no_such_column/);
  const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM information_schema.tables
    WHERE table_schema = ${db.schema} AND table_name = 'half_done'`;
  t.equal(n, 0);
  const [{ v }] = await db.sql`SELECT max(version)::int AS v FROM schema_migrations`;
  t.equal(v, 1);
});
