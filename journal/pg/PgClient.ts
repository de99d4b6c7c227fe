/**
 * Opens a `postgres` (porsager) client for the journal: TCP_NODELAY on every connection, notices
 * silenced, an optional schema as search_path.
 *
 * Note: the client leaves Nagle's algorithm on, and the journal's traffic is many small messages
 * (Parse/Bind/Execute, COPY data, Sync) for which the kernel then waits for an ACK (a delayed ACK,
 * ~40 ms) before sending: small COPY batches stall at ~11k rows/s. The client's `socket` option
 * (postgres/src/connection.js, `createSocket`: "fn returning custom socket to use", awaited) gives it
 * our own socket, created with `noDelay: true` (applied by Node when the connection is made). It is
 * returned still connecting: the client then writes its startup message at once (`connect()` calls
 * `connected()` directly when `options.socket` is set; Node queues it until connected), and a
 * refused connection reaches the client as the socket's 'error' event, which it handles and
 * reports. (A factory that rejects instead leaves the client's pending query waiting forever.)
 * Unix-domain sockets (a `path` option / `host=/dir`) have no Nagle and are left to the client.
 * Called by the writer, History, migrate and tests. Thread-safety: one client per thread.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import postgres from 'postgres';

export type Sql = postgres.Sql;

export interface PgClientOptions {
  /** Connections in the pool (the writer uses 1: its batches are ordered). Default 1. */
  readonly max?: number;
  /** Schema put first on search_path (tests use one schema per file). */
  readonly schema?: string;
  /** Seconds to wait for a connection. Default 10. */
  readonly connectTimeoutS?: number;
  /** Application name shown in pg_stat_activity. */
  readonly applicationName?: string;
  /**
   * For PgWriter: every session starts read-only (`default_transaction_read_only`), so only an
   * explicit `BEGIN READ WRITE` can write, and a statement the client sends on a new session after
   * the old one died (it reconnects silently) fails instead of committing outside the batch.
   */
  readonly writer?: boolean;
}

const socketEvents = new WeakMap<Sql, EventEmitter>();

/**
 * Emits 'close' whenever one of the client's sockets closes. Note: postgres 3.4.9 rejects the query
 * of a dead connection but never ends a COPY FROM STDIN stream whose connection died after `end()`
 * was called; the writer listens here so such a COPY fails instead of waiting forever.
 */
export function socketEventsOf(sql: Sql): EventEmitter | undefined {
  return socketEvents.get(sql);
}

/** Opens a client for `url` (postgres://user@host:port/db). */
export function openPg(url: string, options: PgClientOptions = {}): Sql {
  const events = new EventEmitter();
  const track = (sock: net.Socket) => {
    sock.once('close', () => events.emit('close'));
    return sock;
  };
  const connection: Record<string, string> = {
    application_name: options.applicationName ?? 'ts-exchange-journal',
  };
  if (options.schema !== undefined) connection.search_path = options.schema;
  if (options.writer === true) connection.default_transaction_read_only = 'on';
  const sql = postgres(url, {
    max: options.max ?? 1,
    connect_timeout: options.connectTimeoutS ?? 10,
    onnotice: () => {},
    connection,
    // Note: the client calls this with its parsed options (host and port are arrays, one entry per
    // host of the URL); the first host is used, as the client does.
    socket: (o: { host: string[]; port: number[]; path?: string }) => {
      if (o.path) return track(net.connect(o.path));
      return track(net.connect({ host: o.host[0], port: o.port[0], noDelay: true }));
    },
  } as postgres.Options<Record<string, postgres.PostgresType>>);
  socketEvents.set(sql, events);
  return sql;
}

/** Quotes an identifier (schema or table name) for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
