/**
 * The one typed configuration of the process, read from the environment (and `.env` if present).
 *
 * Called once by server.ts at start-up; the result is frozen and handed to every component (workers
 * get the plain object through workerData). A bad value stops start-up with a ConfigError that names
 * the variable and the value. Thread-safety: pure function over an env record.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../engine/errors.js';
import { IDLE_STRATEGIES, type IdleStrategyName } from '../../engine/runtime/IdleChoice.js';
import { type SymbolSpec, SymbolTable } from '../symbols/SymbolTable.js';

export type Durability = 'async' | 'sync';
export type DatabaseMode = 'embedded' | 'external' | 'none';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Where orders and fills are persisted: the embedded PostgreSQL, DATABASE_URL, or nowhere (DB=none). */
  readonly database: DatabaseMode;
  /** Set when database is 'external'. */
  readonly databaseUrl: string | undefined;
  /** HS256 secret; unset means the zero-config demo mode (demo accounts and tokens printed at start). */
  readonly jwtSecret: string | undefined;
  /** Origins allowed by CORS (CORS_ORIGINS, comma-separated; `*` = any); empty = no CORS headers. */
  readonly corsOrigins: readonly string[];
  readonly logLevel: LogLevel;
  /** Number of engine worker threads. */
  readonly shards: number;
  /** How a shard thread waits for work (IDLE_STRATEGY): 'backoff' (default, parks) or 'spin' (a core each). */
  readonly idleStrategy: IdleStrategyName;
  /** Bytes of each shard's command ring (COMMAND_RING_BYTES, a power of two; ~104 B per command). */
  readonly commandRingBytes: number;
  /** Bytes of each shard's event ring (EVENT_RING_BYTES, a power of two; ~136 B per event). */
  readonly eventRingBytes: number;
  /** Open orders each shard can hold (SHARD_MAX_ORDERS; ~140 B of memory each). */
  readonly shardMaxOrders: number;
  /**
   * DURABILITY: 'async' (reports leave at once; a crash loses at most the WAL's unsynced tail) or
   * 'sync' (a report leaves only once its command is fsynced in the WAL). docs/durability.md.
   */
  readonly durability: Durability;
  /** WAL_SEGMENT_BYTES: roll a WAL segment file at this size (default 64 MiB). */
  readonly walSegmentBytes: number;
  /** RECOVERY_STATE_HASH=1: compute and log the recovered engines' stateHash() at start-up (slower start). */
  readonly recoveryStateHash: boolean;
  /** RECOVERY_ALLOW_GAPS=1: start despite a gap or duplicate sequence in the middle of the WAL (logged). */
  readonly recoveryAllowGaps: boolean;
  /** Absolute path of the data directory (WAL, snapshots, embedded PostgreSQL). */
  readonly dataDir: string;
  /** Where the symbols came from: a file path or 'demo'. */
  readonly symbolsSource: string;
  readonly symbols: readonly SymbolSpec[];
  /** NODE_ENV === 'production'. */
  readonly production: boolean;
  /** WebSocket order entry (gateway/ws): per-session rate limit, socket limits, heartbeat. */
  readonly ws: WsConfig;
}

/** WS_* variables (docs/api.md, "WebSocket order entry"). */
export interface WsConfig {
  /** WS_RATE_LIMIT: orders per second per session (token bucket refill); 0 = no limit. */
  readonly rateLimit: number;
  /** WS_RATE_BURST: bucket size (orders a quiet session may send at once); default 2 x rate. */
  readonly rateBurst: number;
  /** WS_IDLE_TIMEOUT_S: close a connection silent (no frame, no pong) this long; 0 = never. */
  readonly idleTimeoutS: number;
  /** WS_MAX_BACKPRESSURE_BYTES: bytes queued for a slow reader before its connection is closed. */
  readonly maxBackpressureBytes: number;
  /** WS_HEARTBEAT_MS: heartbeat interval granted when a Logon asks for 0. */
  readonly heartbeatMs: number;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MAX_SHARDS = 64;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Loads `.env` from `cwd` into process.env (variables already set win), using Node's own loader.
 * Returns whether a file was read.
 */
export function loadDotEnv(cwd = process.cwd()): boolean {
  const path = resolve(cwd, '.env');
  if (!existsSync(path)) return false;
  const before = { ...process.env };
  process.loadEnvFile(path);
  // Note: process.loadEnvFile overrides existing variables; restore them so the real environment wins.
  for (const [k, v] of Object.entries(before)) process.env[k] = v;
  return true;
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const port = intVar(env, 'PORT', 8080, 0, 65535);
  const host = stringVar(env, 'HOST', '0.0.0.0');
  const db = env.DB;
  if (db !== undefined && db !== '' && db !== 'none' && db !== 'postgres') {
    throw new ConfigError(`DB must be "none" or "postgres", got DB=${JSON.stringify(db)}`);
  }
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL must start with postgres:// or postgresql://, got ${mask(databaseUrl)}`,
    );
  }
  if (db === 'none' && databaseUrl !== undefined) {
    throw new ConfigError('DB=none and DATABASE_URL are both set: choose one');
  }
  const database: DatabaseMode = db === 'none' ? 'none' : databaseUrl !== undefined ? 'external' : 'embedded';
  const jwtSecret = nonEmpty(env.JWT_SECRET);
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError(`JWT_SECRET must be at least 32 characters for HS256, got ${jwtSecret.length}`);
  }
  const corsOrigins = corsVar(env);
  const logLevel = stringVar(env, 'LOG_LEVEL', 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join('|')}, got LOG_LEVEL=${JSON.stringify(logLevel)}`,
    );
  }
  const shards = intVar(env, 'SHARDS', 1, 1, MAX_SHARDS);
  const idleStrategy = stringVar(env, 'IDLE_STRATEGY', 'backoff') as IdleStrategyName;
  if (!IDLE_STRATEGIES.includes(idleStrategy)) {
    throw new ConfigError(
      `IDLE_STRATEGY must be one of ${IDLE_STRATEGIES.join('|')}, got IDLE_STRATEGY=${JSON.stringify(idleStrategy)}`,
    );
  }
  const commandRingBytes = powerOfTwoVar(env, 'COMMAND_RING_BYTES', 2 ** 20, 2 ** 10);
  const eventRingBytes = powerOfTwoVar(env, 'EVENT_RING_BYTES', 2 ** 23, 2 ** 11);
  const shardMaxOrders = intVar(env, 'SHARD_MAX_ORDERS', 2 ** 18, 1, 2 ** 26);
  const durability = stringVar(env, 'DURABILITY', 'async');
  if (durability !== 'async' && durability !== 'sync') {
    throw new ConfigError(
      `DURABILITY must be "async" or "sync", got DURABILITY=${JSON.stringify(durability)}`,
    );
  }
  const walSegmentBytes = intVar(env, 'WAL_SEGMENT_BYTES', 64 * 2 ** 20, 2 ** 16, 2 ** 40);
  const gaps = stringVar(env, 'RECOVERY_ALLOW_GAPS', '0');
  if (gaps !== '0' && gaps !== '1') {
    throw new ConfigError(
      `RECOVERY_ALLOW_GAPS must be "0" or "1", got RECOVERY_ALLOW_GAPS=${JSON.stringify(gaps)}`,
    );
  }
  const stateHash = stringVar(env, 'RECOVERY_STATE_HASH', '0');
  if (stateHash !== '0' && stateHash !== '1') {
    throw new ConfigError(
      `RECOVERY_STATE_HASH must be "0" or "1", got RECOVERY_STATE_HASH=${JSON.stringify(stateHash)}`,
    );
  }
  const dataDir = resolve(cwd, stringVar(env, 'DATA_DIR', './data'));
  const symbolsPath = nonEmpty(env.SYMBOLS);
  const table =
    symbolsPath === undefined ? SymbolTable.demo() : SymbolTable.fromFile(resolve(cwd, symbolsPath));
  return Object.freeze({
    port,
    host,
    database,
    databaseUrl,
    jwtSecret,
    corsOrigins,
    logLevel,
    shards,
    idleStrategy,
    commandRingBytes,
    eventRingBytes,
    shardMaxOrders,
    durability,
    walSegmentBytes,
    recoveryAllowGaps: gaps === '1',
    recoveryStateHash: stateHash === '1',
    dataDir,
    symbolsSource: symbolsPath === undefined ? 'demo' : resolve(cwd, symbolsPath),
    symbols: table.symbols,
    production: env.NODE_ENV === 'production',
    ws: wsVars(env),
  });
}

/** The config as it may be logged: secrets masked. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    port: c.port,
    host: c.host,
    database: c.database,
    databaseUrl: c.databaseUrl === undefined ? undefined : mask(c.databaseUrl),
    jwt: c.jwtSecret === undefined ? 'demo (no JWT_SECRET)' : 'HS256',
    corsOrigins: c.corsOrigins,
    logLevel: c.logLevel,
    shards: c.shards,
    idleStrategy: c.idleStrategy,
    commandRingBytes: c.commandRingBytes,
    eventRingBytes: c.eventRingBytes,
    shardMaxOrders: c.shardMaxOrders,
    durability: c.durability,
    walSegmentBytes: c.walSegmentBytes,
    recoveryAllowGaps: c.recoveryAllowGaps,
    recoveryStateHash: c.recoveryStateHash,
    dataDir: c.dataDir,
    symbols: `${c.symbolsSource}: ${c.symbols.map((s) => s.name).join(', ')}`,
    ws: c.ws,
  };
}

function wsVars(env: Env): WsConfig {
  const rateLimit = intVar(env, 'WS_RATE_LIMIT', 10_000, 0, 10_000_000);
  const rateBurst = intVar(env, 'WS_RATE_BURST', Math.max(1, 2 * rateLimit), 1, 100_000_000);
  const idleTimeoutS = intVar(env, 'WS_IDLE_TIMEOUT_S', 60, 0, 960);
  if (idleTimeoutS > 0 && idleTimeoutS < 8) {
    throw new ConfigError(
      `WS_IDLE_TIMEOUT_S must be 0 (off) or 8..960 seconds, got WS_IDLE_TIMEOUT_S=${idleTimeoutS}`,
    );
  }
  const maxBackpressureBytes = intVar(env, 'WS_MAX_BACKPRESSURE_BYTES', 2 ** 20, 2 ** 16, 2 ** 30);
  const heartbeatMs = intVar(env, 'WS_HEARTBEAT_MS', 10_000, 100, 30_000);
  return Object.freeze({ rateLimit, rateBurst, idleTimeoutS, maxBackpressureBytes, heartbeatMs });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function stringVar(env: Env, name: string, fallback: string): string {
  return nonEmpty(env[name]) ?? fallback;
}

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer ${min}..${max}, got ${name}=${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

const ORIGIN_RE = /^https?:\/\/[^\s/?#@]+$/i;

/** CORS_ORIGINS: comma-separated origins ("https://app.example.com", "http://localhost:3000") or "*". */
function corsVar(env: Env): readonly string[] {
  const raw = nonEmpty(env.CORS_ORIGINS);
  if (raw === undefined) return Object.freeze([]);
  const origins = raw
    .split(',')
    .map((o) => o.trim().replace(/\/$/, '').toLowerCase())
    .filter((o) => o !== '');
  for (const o of origins) {
    if (o !== '*' && !ORIGIN_RE.test(o)) {
      throw new ConfigError(
        `CORS_ORIGINS must be "*" or comma-separated origins like https://app.example.com, got ${JSON.stringify(o)}`,
      );
    }
  }
  return Object.freeze(origins);
}

/** A byte size that must be a power of two between `min` and 2^30. */
function powerOfTwoVar(env: Env, name: string, fallback: number, min: number): number {
  const v = intVar(env, name, fallback, 0, 2 ** 30);
  if (v < min || (v & (v - 1)) !== 0) {
    throw new ConfigError(
      `${name} must be a power of two between ${min} and ${2 ** 30} bytes, got ${name}=${JSON.stringify(env[name])}`,
    );
  }
  return v;
}

/** Hides the password in a connection URL. */
function mask(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
