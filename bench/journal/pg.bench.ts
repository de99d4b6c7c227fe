/**
 * PostgreSQL journal bench: fills persisted per second by PgWriter (trades + order state + progress,
 * idempotent merge) against a raw COPY of the same rows (the trade rows and the final order rows)
 * into the same tables, in the same run, on the same database.
 *
 *   npm run bench:journal:pg                 # human table
 *   npm run bench:journal:pg -- --json       # one JSON object
 *   flags: --commands=200000 --runs=3 --seed=1 --trading=0.5 --batch=8192
 *   DATABASE_URL=postgres://... selects the server; without it an embedded PostgreSQL is started in a
 *   temp directory (and stopped).
 *
 * 1. Input: CommandGenerator 'exchangeCore' mix with `--trading` of commands trading, run once
 *    through a MatchingEngine into memory: the event stream, cut per command, and its FILL count.
 * 2. Per run, each in a fresh schema (migrated): (a) PgWriter with `--batch` rows per batch fed
 *    command by command as the journal worker feeds it (1024 commands per event-loop turn, pausing
 *    while full), then drained; (b) raw COPY, in the same binary COPY format, of the stream's FILL
 *    rows into `trades` (encoding inside the timing too) and of the order rows run (a) ended with
 *    (read back and encoded after (a), outside the timing), `--batch` rows per COPY, each COPY its
 *    own transaction. Warm-up: one untimed run of both on the whole stream (a shorter one left the
 *    first timed writer run ~10 % behind the rest: JIT and server caches). Runs interleave;
 *    quoted: median fills/s of each and the median per-run ratio writer / raw (issue #7 target >= 0.8).
 * Asserted: after each run, trades rows = FILL events (both ways) and journal_progress = last command.
 * Thread-safety: main thread of its own process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { EXCHANGE_CORE_CONFIG, generateCommands } from '../../engine/reference/CommandGenerator.js';
import { CopyBinaryWriter } from '../../journal/pg/CopyBinary.js';
import { EmbeddedDatabase } from '../../journal/pg/EmbeddedDatabase.js';
import { migrate } from '../../journal/pg/migrate.js';
import { openPg, quoteIdent, type Sql } from '../../journal/pg/PgClient.js';
import {
  ORDER_COLUMN_COUNT,
  ORDER_COLUMNS,
  PgWriter,
  writeOrderColumns,
  writeTradeRow,
} from '../../journal/pg/PgWriter.js';
import { assertResult, median, numberFlag, parseArgs, report } from '../lib/harness.js';

const args = parseArgs();
const COMMANDS = numberFlag(args, 'commands', 200_000);
const RUNS = numberFlag(args, 'runs', 3);
const SEED = numberFlag(args, 'seed', 1);
const TRADING = numberFlag(args, 'trading', 0.5);
const BATCH = numberFlag(args, 'batch', 8192);
/** Commands fed per event-loop turn (PgFeeder's maxRecordsPerPoll default). */
const POLL_RECORDS = 1024;

// 1. Input.
const generated = generateCommands(
  { seed: SEED, mix: 'exchangeCore', tradingFraction: TRADING },
  COMMANDS,
  new MatchingEngine(EXCHANGE_CORE_CONFIG),
);
const engine = new MatchingEngine(EXCHANGE_CORE_CONFIG);
const sink = new EventBuffer(generated.events + 1);
const cmdView = new DataView(generated.bytes.buffer);
const ends = new Float64Array(COMMANDS);
for (let i = 0; i < COMMANDS; i++) {
  engine.process(cmdView, i * COMMAND_SIZE, sink);
  ends[i] = sink.count;
}
const view = sink.view;
const fillIdx: number[] = [];
for (let i = 0; i < sink.count; i++)
  if (E.readType(view, i * E.EVENT_SIZE) === E.EventType.FILL) fillIdx.push(i);

function fillsUpTo(commands: number): number {
  const lastEvent = commands === 0 ? 0 : ends[commands - 1];
  let n = 0;
  while (n < fillIdx.length && fillIdx[n] < lastEvent) n++;
  return n;
}

async function freshSchema(
  admin: Sql,
  url: string,
): Promise<{ sql: Sql; writerSql: Sql; drop: () => Promise<void> }> {
  const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
  await admin.unsafe(`CREATE SCHEMA ${quoteIdent(schema)}`);
  const sql = openPg(url, { max: 1, schema });
  const writerSql = openPg(url, { max: 1, schema, writer: true });
  await migrate(sql);
  return {
    sql,
    writerSql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      await writerSql.end({ timeout: 5 });
      await admin.unsafe(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    },
  };
}

/** The orders table as the writer left it, as binary COPY chunks of BATCH rows (the raw run's input). */
let orderChunks: Buffer[] = [];
let orderRows = 0;
/** The raw run's encoder (binary COPY, as the writer's). */
const rawRows = new CopyBinaryWriter();

// 2a. PgWriter.
async function runWriter(admin: Sql, url: string, commands: number): Promise<number> {
  const { sql, writerSql, drop } = await freshSchema(admin, url);
  const w = new PgWriter({ sql: writerSql, batchRows: BATCH });
  await w.loadProgress();
  let resume: (() => void) | null = null;
  w.onFlushed = () => {
    const r = resume;
    resume = null;
    r?.();
  };
  const t0 = performance.now();
  let start = 0;
  for (let c = 0; c < commands; c++) {
    // As the journal worker feeds it (PgFeeder.poll: at most 1024 WAL records, then the task loop
    // yields with setImmediate), so the writer's statements are not held up by a long feeding loop.
    if (c % POLL_RECORDS === 0 && c > 0) await new Promise<void>((r) => setImmediate(r));
    if (w.full()) {
      await new Promise<void>((r) => {
        resume = r;
      });
    }
    const end = ends[c];
    for (let i = start; i < end; i++) w.add(0, view, i * E.EVENT_SIZE);
    w.endCommand(0, c + 1, end);
    start = end;
  }
  await w.drain();
  const ms = performance.now() - t0;
  await w.close();
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM trades`;
  const [{ c }] = await sql`SELECT cmd_seq::int AS c FROM journal_progress WHERE shard_id = 0`;
  assertResult(n === fillsUpTo(commands), `writer: ${n} trade rows, expected ${fillsUpTo(commands)}`);
  assertResult(c === commands, `writer: progress ${c}, expected ${commands}`);
  // The final order rows, as binary COPY chunks of BATCH rows (encoded here, outside the timing).
  const rows = await sql
    .unsafe(
      `SELECT ${ORDER_COLUMNS.split(',')
        .map((c) => (c.trim() === 'triggered' ? 'triggered::int::float8' : `${c.trim()}::float8`))
        .join(', ')} FROM orders ORDER BY order_id`,
    )
    .values();
  orderRows = rows.length;
  orderChunks = [];
  const row = new Float64Array(ORDER_COLUMN_COUNT);
  for (let k = 0; k < rows.length; k++) {
    for (let f = 0; f < ORDER_COLUMN_COUNT; f++) row[f] = rows[k][f] as number;
    rawRows.row(ORDER_COLUMN_COUNT);
    writeOrderColumns(rawRows, row, 0);
    if ((k + 1) % BATCH === 0 || k === rows.length - 1) orderChunks.push(rawRows.finish());
  }
  await drop();
  return ms;
}

// 2b. Raw COPY of the same FILL rows, in the same binary format as the writer's.
function encode(from: number, to: number): Buffer {
  for (let k = from; k < to; k++) writeTradeRow(rawRows, view, fillIdx[k] * E.EVENT_SIZE, 0);
  return rawRows.finish();
}

async function copyIn(sql: Sql, table: 'trades' | 'orders', data: Buffer): Promise<void> {
  const w = await sql.unsafe(`COPY ${table} FROM STDIN (FORMAT binary)`).writable();
  await new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.once('finish', () => resolve());
    w.end(data);
  });
}

/** Raw COPY of the rows the writer's run ended with (uses the orders of the writer run just before). */
async function runRaw(admin: Sql, url: string, commands: number): Promise<number> {
  const { sql, drop } = await freshSchema(admin, url);
  const total = fillsUpTo(commands);
  const t0 = performance.now();
  for (let k = 0; k < total; k += BATCH) await copyIn(sql, 'trades', encode(k, Math.min(total, k + BATCH)));
  for (const chunk of orderChunks) await copyIn(sql, 'orders', chunk);
  const ms = performance.now() - t0;
  const [{ n }] = await sql`SELECT count(*)::int AS n FROM trades`;
  const [{ m }] = await sql`SELECT count(*)::int AS m FROM orders`;
  assertResult(n === total, `raw COPY: ${n} trade rows, expected ${total}`);
  assertResult(m === orderRows, `raw COPY: ${m} order rows, expected ${orderRows}`);
  await drop();
  return ms;
}

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;
let url = process.env.DATABASE_URL ?? '';
if (url === '') {
  dataDir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  embedded = await EmbeddedDatabase.start({ dataDir });
  url = embedded.url;
}
const admin = openPg(url, { max: 1 });
const [{ version }] = await admin`SELECT current_setting('server_version') AS version`;
try {
  // Warm-up.
  await runWriter(admin, url, COMMANDS);
  await runRaw(admin, url, COMMANDS);
  const fills = fillIdx.length;
  const writerRates: number[] = [];
  const rawRates: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const wMs = await runWriter(admin, url, COMMANDS);
    const rMs = await runRaw(admin, url, COMMANDS);
    writerRates.push((fills / wMs) * 1000);
    rawRates.push((fills / rMs) * 1000);
    ratios.push(rMs / wMs);
  }
  const result = {
    bench: 'journal-pg',
    postgres: version,
    server: embedded === undefined ? 'DATABASE_URL' : 'embedded',
    commands: COMMANDS,
    events: sink.count,
    fills,
    order_rows: orderRows,
    batchRows: BATCH,
    runs: RUNS,
    writer_fills_per_s: Math.round(median(writerRates)),
    raw_copy_fills_per_s: Math.round(median(rawRates)),
    ratio_writer_to_raw: Math.round(median(ratios) * 1000) / 1000,
    target_ratio: 0.8,
    per_run: writerRates.map((w, i) => ({
      writer: Math.round(w),
      raw: Math.round(rawRates[i]),
      ratio: Math.round(ratios[i] * 1000) / 1000,
    })),
  };
  report(
    args,
    `PostgreSQL journal: ${fills} fills of ${COMMANDS} commands, PostgreSQL ${version} (${result.server})`,
    result,
    [
      { path: 'PgWriter (trades + orders + progress)', 'fills/s': result.writer_fills_per_s },
      { path: 'raw COPY of the same trade + order rows', 'fills/s': result.raw_copy_fills_per_s },
      { path: 'ratio writer / raw (target >= 0.8)', 'fills/s': result.ratio_writer_to_raw },
    ],
  );
} finally {
  await admin.end({ timeout: 5 });
  await embedded?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
}
