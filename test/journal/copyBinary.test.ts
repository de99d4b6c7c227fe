import t from 'tap';
import { CopyBinaryWriter } from '../../journal/pg/CopyBinary.js';
import type { Sql } from '../../journal/pg/PgClient.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

/** COPY `data` into `table` (binary) and wait for the server to confirm. */
async function copy(sql: Sql, table: string, data: Buffer): Promise<void> {
  const w = await sql.unsafe(`COPY ${table} FROM STDIN (FORMAT binary)`).writable();
  await new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.once('finish', () => resolve());
    w.end(data);
  });
}

t.test('every type round-trips through PostgreSQL exactly', async (t) => {
  const db = await testDatabase(t);
  await db.sql`CREATE TABLE v (a smallint, b integer, c bigint, d boolean, e numeric)`;
  const values: [number, number, number, boolean, number][] = [
    [0, 0, 0, false, 0],
    [1, -1, 1, true, 1],
    [-32768, -2147483648, -(2 ** 53 - 1), false, -(2 ** 53 - 1)],
    [32767, 2147483647, 2 ** 53 - 1, true, 2 ** 53 - 1],
    [255, 65536, 2 ** 32, true, 10000],
    [7, 123456789, -(2 ** 32) - 5, false, 100000000],
    [3, 4, 1_764_400_000_000_000, true, 123_400_005_678],
    [2, 9, 2 ** 40 * 3 + 17, false, -12_340_000],
  ];
  // A small initial buffer: the rows make it grow several times.
  const w = new CopyBinaryWriter(8);
  for (const [a, b, c, d, e] of values) {
    w.row(5);
    w.int2(a);
    w.int4(b);
    w.int8(c);
    w.bool(d);
    w.numericInt(e);
  }
  t.ok(w.length > 64, 'grew past its first buffer');
  await copy(db.sql, 'v', w.finish());
  const rows = await db.sql`SELECT a, b, c::text AS c, d, e::text AS e FROM v`;
  t.same(
    rows.map((r) => [r.a, r.b, r.c, r.d, r.e]),
    values.map(([a, b, c, d, e]) => [a, b, String(c), d, String(e)]),
  );
  t.test('the writer starts over after finish()', async (t) => {
    w.row(5);
    w.int2(1);
    w.int4(2);
    w.int8(3);
    w.bool(true);
    w.numericInt(40000);
    await copy(db.sql, 'v', w.finish());
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM v WHERE e = 40000`;
    t.equal(n, 1);
  });
});

t.test('an empty stream is valid COPY data', async (t) => {
  const db = await testDatabase(t);
  await db.sql`CREATE TABLE e (a integer)`;
  await copy(db.sql, 'e', new CopyBinaryWriter().finish());
  const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM e`;
  t.equal(n, 0);
});
