/**
 * Applies the journal's SQL migrations (journal/pg/migrations/NNN_name.sql) in order.
 *
 * Called at start-up (before the writer starts) and by `npm run db:migrate`
 * (journal/pg/dbMigrate.ts). Safe with concurrent runners: every step holds a transaction-scoped
 * advisory lock keyed by the current schema, and re-reads what is applied under it. Each missing file
 * runs in its own transaction together with its `schema_migrations` row, so a failed file leaves
 * nothing behind. An applied file whose checksum (SHA-256 of its text) differs from the file on disk
 * stops start-up: migrations are append-only; a change is a new file.
 * Thread-safety: async; one call at a time per client is enough (the lock serialises the rest).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import type { Sql } from './PgClient.js';
import { MigrationError } from './PgError.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrateResult {
  /** Versions applied by this call. */
  readonly applied: number[];
  /** Highest version in the database afterwards. */
  readonly version: number;
}

const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
/** Lock key: one per schema, so test schemas do not wait for each other. */
const LOCK = "pg_advisory_xact_lock(hashtext('ts-exchange:migrate:' || current_schema()))";

/**
 * The migrations directory: next to this module when run from source, or the source tree's when
 * run from dist/ (dist/journal/pg -> journal/pg/migrations).
 */
export function migrationsDir(): string {
  const candidates = [
    fileURLToPath(new URL('./migrations/', import.meta.url)),
    fileURLToPath(new URL('../../../journal/pg/migrations/', import.meta.url)),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new MigrationError(`no migrations directory; looked in ${candidates.join(', ')}`);
}

/** Reads and orders the migration files of `dir`. */
export function loadMigrations(dir = migrationsDir()): Migration[] {
  const out: Migration[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.sql')) continue;
    const m = FILE.exec(f);
    if (m === null) throw new MigrationError(`migration file name must be NNN_name.sql, got ${f} in ${dir}`);
    const sql = readFileSync(join(dir, f), 'utf8');
    const version = Number(m[1]);
    if (out.length > 0 && out[out.length - 1].version === version) {
      throw new MigrationError(`two migration files have version ${version} in ${dir}`);
    }
    out.push({ version, name: m[2], sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  if (out.length === 0) throw new MigrationError(`no migration files in ${dir}`);
  return out;
}

type Log = (msg: string) => void;

/** Applies every missing migration; returns what it applied. */
export async function migrate(
  sql: Sql,
  log: Log = () => {},
  migrations: readonly Migration[] = loadMigrations(),
): Promise<MigrateResult> {
  const applied: number[] = [];
  const done = await sql.begin(async (tx) => {
    await tx.unsafe(`SELECT ${LOCK}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    return readApplied(tx);
  });
  check(done, migrations);
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    const ran = await sql.begin(async (tx) => {
      await tx.unsafe(`SELECT ${LOCK}`);
      const now = await readApplied(tx);
      check(now, migrations);
      if (now.has(m.version)) return false;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name, checksum)
               VALUES (${m.version}, ${m.name}, ${m.checksum})`;
      return true;
    });
    if (ran) {
      applied.push(m.version);
      log(`migration ${label(m.version, m.name)} applied`);
    }
  }
  return { applied, version: migrations[migrations.length - 1].version };
}

async function readApplied(tx: Sql | postgres.TransactionSql) {
  const rows = await tx.unsafe<{ version: number; name: string; checksum: string }[]>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  return new Map(rows.map((r) => [Number(r.version), r]));
}

function check(
  applied: ReadonlyMap<number, { name: string; checksum: string }>,
  migrations: readonly Migration[],
): void {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const [version, row] of applied) {
    const m = byVersion.get(version);
    if (m === undefined) {
      throw new MigrationError(
        `database has migration ${label(version, row.name)}, which is not among the files: newer code ran here`,
      );
    }
    if (m.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${label(version, m.name)} was changed after it was applied (checksum ${m.checksum.slice(0, 12)}, applied ${row.checksum.slice(0, 12)}): add a new file instead`,
      );
    }
  }
}

function label(version: number, name: string): string {
  return `${String(version).padStart(3, '0')}_${name}`;
}
