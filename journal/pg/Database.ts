/**
 * Start-up of the database side, by DB mode (gateway/config/config.ts `database`):
 *  - 'embedded' (default, no DATABASE_URL): starts the embedded PostgreSQL under DATA_DIR/pg;
 *  - 'external' (DATABASE_URL): uses that server;
 *  - 'none' (DB=none): no database; orders and fills live in memory and the WAL only.
 * In both database modes the migrations are applied (advisory lock: several processes may start at
 * once) before anything writes. `stop()` ends the clients and stops the embedded server.
 *
 *   const db = await openDatabase(config, (m) => log.info(m));   // undefined when DB=none
 *   // journal task options: { databaseUrl: db.url, ... }; REST history: new History(db.sql)
 *   await db?.stop();                                             // on shutdown, after the journal
 * Thread-safety: main thread.
 */
import { EmbeddedDatabase } from './EmbeddedDatabase.js';
import { migrate } from './migrate.js';
import { openPg, type Sql } from './PgClient.js';

export interface DatabaseConfig {
  readonly database: 'embedded' | 'external' | 'none';
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

export interface OpenDatabase {
  /** The URL the journal worker connects to. */
  readonly url: string;
  /** A small pool (4 connections) for REST history reads. */
  readonly sql: Sql;
  readonly embedded: EmbeddedDatabase | undefined;
  stop(): Promise<void>;
}

export async function openDatabase(
  config: DatabaseConfig,
  log: (msg: string) => void = () => {},
): Promise<OpenDatabase | undefined> {
  if (config.database === 'none') return undefined;
  let embedded: EmbeddedDatabase | undefined;
  let url: string;
  if (config.database === 'embedded') {
    embedded = await EmbeddedDatabase.start({ dataDir: config.dataDir, port: envPort() });
    url = embedded.url;
    log(`embedded PostgreSQL started on 127.0.0.1:${embedded.port}, data in ${embedded.dir}`);
  } else {
    url = config.databaseUrl!;
  }
  const sql = openPg(url, { max: 4, applicationName: 'ts-exchange-history' });
  try {
    await migrate(sql, log);
  } catch (err) {
    await sql.end({ timeout: 1 });
    await embedded?.stop();
    throw err;
  }
  return {
    url,
    sql,
    embedded,
    stop: async () => {
      await sql.end({ timeout: 5 });
      await embedded?.stop();
    },
  };
}

/** PGPORT for the embedded server (0/unset: a free port). */
function envPort(): number | undefined {
  const p = Number(process.env.PGPORT ?? '');
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : undefined;
}
