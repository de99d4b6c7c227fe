/**
 * Batches engine events into PostgreSQL: trades (one row per FILL, both sides) and orders (one row
 * per order, its latest state), with each shard's progress in the same transaction.
 *
 * Fed by PgFeeder (one per shard, all in the journal worker thread) with 128-byte event records
 * (`add(shardId, view, offset)`, fields read in place) and a marker after each command's last event
 * (`endCommand`). Events are coalesced into preallocated buffers: a FILL record is copied as is into
 * a trade slab; the events of one order inside a batch fold into one order slot (struct of arrays in
 * a Float64Array), so a batch holds at most one row per order however many events touched it.
 *
 * Flush by size (`batchRows` rows, checked at command ends) or by time (`maxDelayMs` after the
 * batch's first event). A flush is one transaction: binary COPY of the batch's trades straight into
 * `trades` and of the orders accepted in the batch straight into `orders`; binary COPY of the
 * changes to older orders into a temporary staging table, then one `UPDATE orders` guarded by
 * `last_event_seq < the batch's seq` (an order row only ever moves forward); the journal_progress
 * upsert (GREATEST); COMMIT. Re-sending a committed batch changes nothing: a first attempt that
 * meets a row already there (primary key) is rolled back and retried on the careful path, which
 * reads journal_progress first and skips a batch already persisted.
 *
 * Bounded memory: two batches (one filling, one in flight). Policy: when the in-flight batch cannot
 * be written (PostgreSQL down, slow, locked) it is retried with exponential backoff, never dropped;
 * the filling batch grows to `batchRows` and then `full()` turns true, and the feeder stops reading
 * the WAL (which holds the truth; matching never waits for PostgreSQL). One command may overshoot
 * `batchRows` by at most `headroomRows`; beyond that `add()` throws PgWriterError (misuse: fed past
 * `full()`, or a command with more events than the headroom).
 *
 * Thread-safety: single-threaded (the journal worker's event loop); the SQL client is its own.
 */
import type { Buffer } from 'node:buffer';
import type postgres from 'postgres';
import * as E from '../../engine/records/EventRecord.js';
import { OrderType, StpMode } from '../../engine/records/OrderCodes.js';
import { OrderStatus } from '../../gateway/orders/OrderVocabulary.js';
import { CopyBinaryWriter } from './CopyBinary.js';
import { type Sql, socketEventsOf } from './PgClient.js';
import { PgWriterError } from './PgError.js';

const { ACCEPTED, FILL, CANCELLED, EXPIRED, AMENDED, TRIGGERED, SELF_TRADE_PREVENTED } = E.EventType;

export interface PgWriterOptions {
  /** A client with max 1 connection (journal/pg/PgClient.ts `openPg(url, { writer: true })`), owned by the caller. */
  readonly sql: Sql;
  /** Rows (trades + orders) per batch before a flush starts; default 8192. */
  readonly batchRows?: number;
  /** Longest a non-empty batch waits before it is flushed, ms; default 10. */
  readonly maxDelayMs?: number;
  /** Rows the feeders may add past `batchRows` between two `full()` checks; default 2 x batchRows. */
  readonly headroomRows?: number;
  /** Shard ids are 0..maxShards-1; default 64. */
  readonly maxShards?: number;
  /** First and longest retry delay after a failed flush, ms; defaults 50 and 5000. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Called on every failed flush (it will be retried) and on recovery. */
  readonly log?: (level: 'warn' | 'info', msg: string) => void;
}

/** What health and metrics show. */
export interface PgWriterStats {
  /** Batches committed. */
  readonly batches: number;
  readonly tradesWritten: number;
  readonly orderRowsWritten: number;
  /** Flush attempts that failed (each was retried). */
  readonly failures: number;
  /** Consecutive failures of the batch in flight (0 = healthy). */
  readonly failing: number;
  readonly lastError: string | undefined;
  /** Rows buffered (filling + in flight). */
  readonly bufferedRows: number;
}

// Order slot fields (Float64Array, stride SLOT).
const F_ORDER_ID = 0;
const F_SHARD = 1;
const F_ACCOUNT = 2;
const F_SYMBOL = 3;
const F_CLIENT_ID = 4;
const F_SESSION = 5;
const F_SIDE = 6;
const F_TYPE = 7;
const F_TIF = 8;
const F_FLAGS = 9;
const F_STP = 10;
const F_PRICE = 11;
const F_STOP = 12;
const F_QTY = 13;
/** Absolute when F_BASE, else the fills of this batch. */
const F_FILLED = 14;
const F_LEAVES = 15;
const F_DISPLAY = 16;
const F_EXPIRE = 17;
const F_NOTIONAL = 18;
const F_FILL_COUNT = 19;
const F_LAST_PRICE = 20;
const F_LAST_QTY = 21;
/** 0 = unchanged by this batch. */
const F_STATUS = 22;
const F_REASON = 23;
const F_TRIGGERED = 24;
const F_CREATED = 25;
const F_UPDATED = 26;
const F_LAST_SEQ = 27;
/** 1 when ACCEPTED is in this batch: the row is inserted. */
const F_ACCEPTED = 28;
/** 1 when an ORDER-body event is in this batch: price, quantity, filled, leaves, display are absolute. */
const F_BASE = 29;
/** 1 when a DECREMENT changed the quantity of a non-base slot: quantity = filled + leaves. */
const F_QTY_FROM_LEAVES = 30;
/** 1 when a FILL or DECREMENT set the leaves of a non-base slot. */
const F_LEAVES_SET = 31;
const SLOT = 32;

/** One batch: the trade slab, the order slots, per-shard progress. */
class Batch {
  /** The trades as binary COPY rows, encoded as the FILLs arrive (off the flush's critical path). */
  readonly tradeRows: CopyBinaryWriter;
  /** `tradeRows` finished: the COPY data of this batch's trades (kept for retries). */
  tradeData: Buffer | null = null;
  tradeCount = 0;
  readonly slots: Float64Array;
  slotCount = 0;
  readonly slotOf = new Map<number, number>();
  /** Per shard: last completed command (-1 = none in this batch) and last event seen (-1 = none). */
  readonly cmdSeq: Float64Array;
  readonly eventSeq: Float64Array;
  /** Per shard: first event seen (-1 = none). */
  readonly firstEventSeq: Float64Array;
  /** performance.now() of the first event (0 = empty). */
  startedAt = 0;

  constructor(capacity: number, maxShards: number) {
    this.tradeRows = new CopyBinaryWriter();
    this.slots = new Float64Array(capacity * SLOT);
    this.cmdSeq = new Float64Array(maxShards).fill(-1);
    this.eventSeq = new Float64Array(maxShards).fill(-1);
    this.firstEventSeq = new Float64Array(maxShards).fill(-1);
  }

  get rows(): number {
    return this.tradeCount + this.slotCount;
  }

  get empty(): boolean {
    return this.startedAt === 0;
  }

  clear(): void {
    this.tradeRows.reset();
    this.tradeData = null;
    this.tradeCount = 0;
    this.slotCount = 0;
    this.slotOf.clear();
    this.cmdSeq.fill(-1);
    this.eventSeq.fill(-1);
    this.firstEventSeq.fill(-1);
    this.startedAt = 0;
  }
}

/** SQLSTATE of a primary-key conflict. */
const UNIQUE_VIOLATION = '23505';

/** Columns of `orders` in slot order (slot field i = column i for i < ORDER_COLUMN_COUNT). */
export const ORDER_COLUMNS = `order_id, shard_id, account_id, symbol_id, client_order_id, session_id, side,
  order_type, time_in_force, flags, stp_mode, price, stop_price, quantity, filled_qty, leaves_qty,
  display_qty, expire_time, notional, fill_count, last_price, last_qty, status, reason, triggered,
  created_at, updated_at, last_event_seq`;
export const ORDER_COLUMN_COUNT = 28;

/** Order changes of earlier batches' orders (staged, then one UPDATE); emptied by every commit. */
const STAGE_SQL = `
CREATE TEMP TABLE IF NOT EXISTS journal_stage_orders (
  order_id bigint, shard_id integer, account_id bigint, symbol_id integer, client_order_id bigint,
  session_id bigint, side smallint, order_type smallint, time_in_force smallint, flags smallint,
  stp_mode smallint, price bigint, stop_price bigint, quantity bigint, filled_qty bigint,
  leaves_qty bigint, display_qty bigint, expire_time bigint, notional numeric, fill_count integer,
  last_price bigint, last_qty bigint, status smallint, reason integer, triggered boolean,
  created_at bigint, updated_at bigint, last_seq bigint,
  accepted boolean, base boolean, qty_from_leaves boolean, leaves_set boolean
) ON COMMIT DELETE ROWS;`;

/**
 * Start of every attempt: end whatever a failed attempt left open, begin the batch's transaction,
 * make sure the staging table exists (once per session).
 */
const BEGIN_SQL = `ROLLBACK; BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; ${STAGE_SQL}`;

/**
 * Note: a temporary table has no statistics; the planner then guessed hundreds of staged rows and
 * hash-joined them against a sequential scan of the whole orders table: a cost growing with the
 * table, not the batch (19 ms for 2 rows at 18k orders). The join is pinned to a nested loop over
 * the staged rows with a primary-key lookup each (hash and merge joins off for this transaction),
 * which is right for any batch against a table of any size, and cheaper than ANALYZE per batch.
 */
const UPDATE_ORDERS_SQL = `
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
UPDATE orders o SET
  price = CASE WHEN d.base THEN d.price ELSE o.price END,
  quantity = CASE WHEN d.base THEN d.quantity
                  WHEN d.qty_from_leaves THEN o.filled_qty + d.filled_qty + d.leaves_qty
                  ELSE o.quantity END,
  filled_qty = CASE WHEN d.base THEN d.filled_qty ELSE o.filled_qty + d.filled_qty END,
  leaves_qty = CASE WHEN d.base OR d.leaves_set THEN d.leaves_qty ELSE o.leaves_qty END,
  display_qty = CASE WHEN d.base THEN d.display_qty ELSE o.display_qty END,
  notional = o.notional + d.notional,
  fill_count = o.fill_count + d.fill_count,
  last_price = CASE WHEN d.last_qty > 0 THEN d.last_price ELSE o.last_price END,
  last_qty = CASE WHEN d.last_qty > 0 THEN d.last_qty ELSE o.last_qty END,
  status = CASE WHEN d.status = 0 THEN o.status ELSE d.status END,
  reason = CASE WHEN d.status = 0 THEN o.reason ELSE d.reason END,
  triggered = o.triggered OR d.triggered,
  updated_at = d.updated_at,
  last_event_seq = d.last_seq
FROM journal_stage_orders d
WHERE o.order_id = d.order_id AND o.last_event_seq < d.last_seq;`;

export class PgWriter {
  private readonly sql: Sql;
  readonly batchRows: number;
  readonly maxDelayMs: number;
  readonly capacity: number;
  readonly maxShards: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly log: (level: 'warn' | 'info', msg: string) => void;
  private filling: Batch;
  private spare: Batch | null;
  private inFlight: Batch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushDone: Promise<void> = Promise.resolve();
  /** COPY encoders (reused batch after batch): new orders, changes of older orders. */
  private readonly orderRows = new CopyBinaryWriter();
  private readonly stageRows = new CopyBinaryWriter();
  private closed = false;
  /** Per shard: what is committed in PostgreSQL (-1 = unknown until `loadProgress`). */
  private readonly persistedCmd: Float64Array;
  private readonly persistedEvent: Float64Array;
  private batches = 0;
  private tradesWritten = 0;
  private orderRowsWritten = 0;
  private failures = 0;
  private failing = 0;
  private lastError: string | undefined = undefined;
  private readonly onTimer: () => void;
  /** Called after every commit (the feeders resume reading). */
  onFlushed: (() => void) | null = null;

  constructor(options: PgWriterOptions) {
    this.sql = options.sql;
    this.batchRows = intOption('batchRows', options.batchRows ?? 8192, 1);
    this.maxDelayMs = intOption('maxDelayMs', options.maxDelayMs ?? 10, 0);
    const headroom = intOption('headroomRows', options.headroomRows ?? 2 * this.batchRows, 1);
    this.capacity = this.batchRows + headroom;
    this.maxShards = intOption('maxShards', options.maxShards ?? 64, 1);
    this.retryMinMs = intOption('retryMinMs', options.retryMinMs ?? 50, 1);
    this.retryMaxMs = intOption('retryMaxMs', options.retryMaxMs ?? 5000, this.retryMinMs);
    this.log = options.log ?? (() => {});
    this.filling = new Batch(this.capacity, this.maxShards);
    this.spare = new Batch(this.capacity, this.maxShards);
    this.persistedCmd = new Float64Array(this.maxShards).fill(-1);
    this.persistedEvent = new Float64Array(this.maxShards).fill(-1);
    this.onTimer = () => {
      this.timer = null;
      this.flush();
    };
  }

  /**
   * Reads journal_progress: what each shard has persisted. Call once before feeding. Throws
   * PgWriterError when the client was not opened with `openPg(url, { writer: true })`.
   */
  async loadProgress(): Promise<void> {
    const [{ ro }] = await this.sql<
      { ro: string }[]
    >`SELECT current_setting('default_transaction_read_only') AS ro`;
    if (ro !== 'on') {
      throw new PgWriterError(
        'PgWriter needs a client whose sessions start read-only: openPg(url, { writer: true })',
      );
    }
    const rows = await this.sql<{ shard_id: number; cmd_seq: string; event_seq: string }[]>`
      SELECT shard_id, cmd_seq, event_seq FROM journal_progress`;
    this.persistedCmd.fill(0);
    this.persistedEvent.fill(0);
    for (const r of rows) {
      if (r.shard_id < this.maxShards) {
        this.persistedCmd[r.shard_id] = Number(r.cmd_seq);
        this.persistedEvent[r.shard_id] = Number(r.event_seq);
      }
    }
  }

  /** Last command seq of `shardId` whose events are all committed (0 = none; -1 = not loaded). */
  persistedCmdSeq(shardId: number): number {
    return this.persistedCmd[shardId];
  }

  /** Last event seq of `shardId` committed. */
  persistedEventSeq(shardId: number): number {
    return this.persistedEvent[shardId];
  }

  /** True when the feeders must stop reading until `onFlushed` (the filling batch is at its size). */
  full(): boolean {
    return this.filling.rows >= this.batchRows && this.inFlight !== null;
  }

  stats(): PgWriterStats {
    return {
      batches: this.batches,
      tradesWritten: this.tradesWritten,
      orderRowsWritten: this.orderRowsWritten,
      failures: this.failures,
      failing: this.failing,
      lastError: this.lastError,
      bufferedRows: this.filling.rows + (this.inFlight?.rows ?? 0),
    };
  }

  /** Adds one event of shard `shardId` (the events of a shard in seq order). */
  add(shardId: number, v: DataView, o: number): void {
    const b = this.filling;
    if (b.startedAt === 0) this.startBatch(b);
    const seq = v.getFloat64(o + E.SEQ, true);
    b.eventSeq[shardId] = seq;
    if (b.firstEventSeq[shardId] < 0) b.firstEventSeq[shardId] = seq;
    switch (v.getUint8(o + E.TYPE)) {
      case ACCEPTED:
        this.orderBody(b, shardId, v, o, seq, true);
        break;
      case AMENDED:
      case CANCELLED:
      case EXPIRED:
      case TRIGGERED:
        this.orderBody(b, shardId, v, o, seq, false);
        break;
      case FILL:
        this.fill(b, shardId, v, o, seq);
        break;
      case SELF_TRADE_PREVENTED:
        if (v.getUint8(o + E.STP_EVENT_MODE) === StpMode.DECREMENT) this.decrement(b, shardId, v, o, seq);
        break;
      default:
        break;
    }
  }

  /** Marks the end of command `cmdSeq` of `shardId`, whose last event had seq `eventSeq`. */
  endCommand(shardId: number, cmdSeq: number, eventSeq: number): void {
    const b = this.filling;
    if (b.startedAt === 0) this.startBatch(b);
    b.cmdSeq[shardId] = cmdSeq;
    if (eventSeq > b.eventSeq[shardId]) b.eventSeq[shardId] = eventSeq;
    if (b.rows >= this.batchRows && this.inFlight === null) this.flush();
  }

  /** Starts writing the filling batch now if nothing is in flight. */
  flush(): void {
    if (this.inFlight !== null || this.filling.empty || this.closed) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const b = this.filling;
    this.inFlight = b;
    this.filling = this.spare!;
    this.spare = null;
    this.flushDone = this.writeWithRetry(b);
  }

  /** Writes everything added so far; resolves when it is committed. */
  async drain(): Promise<void> {
    for (;;) {
      await this.flushDone;
      if (this.inFlight === null && this.filling.empty) return;
      this.flush();
    }
  }

  /** Drains, then stops the timer; the client stays open (the caller owns it). */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private startBatch(b: Batch): void {
    b.startedAt = performance.now();
    if (this.timer === null && !this.closed) {
      this.timer = setTimeout(this.onTimer, this.maxDelayMs);
    }
  }

  private async writeWithRetry(b: Batch): Promise<void> {
    let delay = this.retryMinMs;
    let retry = false;
    for (;;) {
      try {
        await this.write(b, retry);
        break;
      } catch (err) {
        if (!retry && (err as { code?: unknown }).code === UNIQUE_VIOLATION) {
          // A row of this batch is already there: most likely the batch itself was committed
          // (re-sent by a writer that did not load the progress). The careful path decides, now.
          retry = true;
          continue;
        }
        retry = true;
        this.failures++;
        this.failing++;
        this.lastError = err instanceof Error ? err.message : String(err);
        this.log(
          'warn',
          `journal flush failed (attempt ${this.failing}, retry in ${delay} ms): ${this.lastError}`,
        );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
    if (this.failing > 0) this.log('info', `journal flush succeeded after ${this.failing} failed attempts`);
    this.failing = 0;
    this.batches++;
    this.tradesWritten += b.tradeCount;
    this.orderRowsWritten += b.slotCount;
    for (let s = 0; s < this.maxShards; s++) {
      if (b.cmdSeq[s] > this.persistedCmd[s]) this.persistedCmd[s] = b.cmdSeq[s];
      if (b.eventSeq[s] > this.persistedEvent[s]) this.persistedEvent[s] = b.eventSeq[s];
    }
    b.clear();
    this.spare = b;
    this.inFlight = null;
    // Note: a batch that filled up while this one was in flight goes at once; a smaller one keeps its
    // timer (set when its first event arrived).
    if (this.filling.rows >= this.batchRows) this.flush();
    else if (!this.filling.empty && this.timer === null && !this.closed) this.flush();
    this.onFlushed?.();
  }

  private async write(b: Batch, retry: boolean): Promise<void> {
    const sql = this.sql;
    let shards = '';
    let progress = '';
    for (let s = 0; s < this.maxShards; s++) {
      if (b.eventSeq[s] < 0 && b.cmdSeq[s] < 0) continue;
      shards += `${shards === '' ? '' : ','}${s}`;
      progress += `${progress === '' ? '' : ','}(${s},${Math.max(0, b.cmdSeq[s])},${Math.max(0, b.eventSeq[s])})`;
    }
    // Note: the transaction is sent as plain BEGIN / COMMIT rather than sql.begin(): postgres 3.4.9
    // can crash the process (an uncaught TypeError in nextWrite, porsager/postgres#1154, #1208) or
    // hang when a connection dies inside sql.begin() and it sends ROLLBACK on the dead socket. The
    // client silently reconnects for the next query after a connection dies, so a statement of this
    // attempt could land on a fresh session outside the transaction: the writer's client therefore
    // opens every session read-only (`openPg(url, { writer: true })`, checked by loadProgress), and
    // only the READ WRITE transaction begun here can write. A swapped connection makes the next
    // statement fail, nothing is committed, and the whole batch is retried from BEGIN.
    // Rows go straight into their tables (COPY, the fastest path), so a batch that is already
    // committed (its COMMIT reached PostgreSQL but the reply was lost) must not be sent again. A
    // first attempt cannot be such a batch (the feeders start after what journal_progress says);
    // if it were, a COPY would fail on a primary key and nothing would be committed. A retry first
    // reads journal_progress, locked for the transaction: each batch commits whole, so a shard's
    // part of a batch is either all persisted or not at all.
    const begin = sql.unsafe(BEGIN_SQL).execute();
    begin.catch(() => {}); // awaited below; the statements queued behind it fail with it
    if (retry) {
      const done = await sql.unsafe<{ shard_id: number; event_seq: string }[]>(
        `SELECT shard_id, event_seq FROM journal_progress WHERE shard_id = ANY($1::int[]) FOR UPDATE`,
        [`{${shards}}`],
      );
      if (this.alreadyPersisted(b, done)) {
        await begin;
        await sql.unsafe('ROLLBACK');
        return;
      }
    }
    let staged = false;
    if (b.tradeCount > 0 || b.slotCount > 0) {
      // The trade rows were encoded as they came; the order rows are while PostgreSQL takes the trades.
      if (b.tradeCount > 0 && b.tradeData === null) b.tradeData = b.tradeRows.finish();
      const tradeRows = b.tradeData;
      const trades =
        tradeRows !== null ? copyIn(sql, sql`COPY trades FROM STDIN (FORMAT binary)`, tradeRows) : null;
      const [inserts, updates] = encodeOrders(b, this.orderRows, this.stageRows);
      await Promise.all([begin, trades]);
      if (inserts !== null)
        await copyIn(sql, sql.unsafe(`COPY orders (${ORDER_COLUMNS}) FROM STDIN (FORMAT binary)`), inserts);
      if (updates !== null) {
        await copyIn(sql, sql`COPY journal_stage_orders FROM STDIN (FORMAT binary)`, updates);
        staged = true;
      }
    }
    await begin;
    await sql.unsafe(`${staged ? UPDATE_ORDERS_SQL : ''}
      INSERT INTO journal_progress (shard_id, cmd_seq, event_seq) VALUES ${progress}
      ON CONFLICT (shard_id) DO UPDATE SET
        cmd_seq = GREATEST(journal_progress.cmd_seq, EXCLUDED.cmd_seq),
        event_seq = GREATEST(journal_progress.event_seq, EXCLUDED.event_seq),
        updated_at = now();
      COMMIT;`);
  }

  /**
   * True when every shard's rows in `b` are already committed (a re-sent batch); false when none
   * are. Throws PgWriterError when a shard's persisted seq falls inside the batch: rows of it are in
   * PostgreSQL without the rest, which one writer committing whole batches never leaves (a second
   * writer on the same tables, or journal_progress edited by hand).
   */
  private alreadyPersisted(b: Batch, rows: readonly { shard_id: number; event_seq: string }[]): boolean {
    let persisted = 0;
    for (const r of rows) {
      const s = r.shard_id;
      const at = Number(r.event_seq);
      if (b.firstEventSeq[s] < 0 || at < b.firstEventSeq[s]) continue;
      if (at < b.eventSeq[s]) {
        throw new PgWriterError(
          `journal_progress of shard ${s} is at event ${at}, inside the batch's events ${b.firstEventSeq[s]}..${b.eventSeq[s]}: another writer on these tables?`,
        );
      }
      persisted++;
    }
    if (persisted === 0) return false;
    if (persisted === countShards(b)) return true;
    throw new PgWriterError(
      'journal_progress has part of a batch (some shards persisted, others not): another writer on these tables?',
    );
  }

  /** The slot of order `id` in `b`, created (zeroed, status unchanged) if absent. */
  private slot(b: Batch, shardId: number, id: number): number {
    let i = b.slotOf.get(id);
    if (i !== undefined) return i * SLOT;
    i = b.slotCount;
    if (i >= this.capacity) this.overflow();
    b.slotCount++;
    b.slotOf.set(id, i);
    const p = i * SLOT;
    b.slots.fill(0, p, p + SLOT);
    b.slots[p + F_ORDER_ID] = id;
    b.slots[p + F_SHARD] = shardId;
    return p;
  }

  private overflow(): never {
    throw new PgWriterError(
      `batch capacity ${this.capacity} rows exceeded: the feeder must stop when full() (batchRows ${this.batchRows}), and one command may add at most the headroom`,
    );
  }

  private orderBody(b: Batch, shardId: number, v: DataView, o: number, seq: number, accepted: boolean): void {
    const s = b.slots;
    const p = this.slot(b, shardId, v.getFloat64(o + E.ORDER_ID, true));
    const type = v.getUint8(o + E.TYPE);
    const ts = v.getFloat64(o + E.TIMESTAMP, true);
    s[p + F_ACCOUNT] = v.getUint32(o + E.ACCOUNT_ID, true);
    s[p + F_SYMBOL] = v.getUint32(o + E.SYMBOL_ID, true);
    s[p + F_CLIENT_ID] = v.getFloat64(o + E.CLIENT_ORDER_ID, true);
    s[p + F_SESSION] = v.getUint32(o + E.ORDER_SESSION_ID, true);
    s[p + F_SIDE] = v.getUint8(o + E.SIDE);
    const orderType = v.getUint8(o + E.ORDER_TYPE);
    s[p + F_TYPE] = orderType;
    s[p + F_TIF] = v.getUint8(o + E.TIME_IN_FORCE);
    s[p + F_FLAGS] = v.getUint8(o + E.FLAGS);
    s[p + F_STP] = v.getUint8(o + E.STP_MODE);
    s[p + F_PRICE] = v.getFloat64(o + E.PRICE, true);
    s[p + F_STOP] = v.getFloat64(o + E.STOP_PRICE, true);
    s[p + F_QTY] = v.getFloat64(o + E.QUANTITY, true);
    s[p + F_FILLED] = v.getFloat64(o + E.FILLED_QTY, true);
    s[p + F_LEAVES] = v.getFloat64(o + E.LEAVES_QTY, true);
    s[p + F_DISPLAY] = v.getFloat64(o + E.DISPLAY_QTY, true);
    s[p + F_EXPIRE] = v.getFloat64(o + E.EXPIRE_TIME, true);
    s[p + F_BASE] = 1;
    s[p + F_QTY_FROM_LEAVES] = 0;
    if (accepted) {
      s[p + F_ACCEPTED] = 1;
      s[p + F_CREATED] = ts;
      const stop = orderType === OrderType.STOP || orderType === OrderType.STOP_LIMIT;
      s[p + F_STATUS] = stop ? OrderStatus.PENDING_TRIGGER : OrderStatus.NEW;
    } else if (type === CANCELLED || type === EXPIRED) {
      s[p + F_LEAVES] = 0;
      s[p + F_STATUS] = type === CANCELLED ? OrderStatus.CANCELED : OrderStatus.EXPIRED;
      s[p + F_REASON] = v.getUint16(o + E.REASON, true);
    } else if (type === TRIGGERED) {
      s[p + F_TRIGGERED] = 1;
      s[p + F_STATUS] = s[p + F_FILLED] > 0 ? OrderStatus.PARTIALLY_FILLED : OrderStatus.NEW;
    }
    s[p + F_UPDATED] = ts;
    s[p + F_LAST_SEQ] = seq;
  }

  private fill(b: Batch, shardId: number, v: DataView, o: number, seq: number): void {
    const n = b.tradeCount;
    if (n >= this.capacity) this.overflow();
    writeTradeRow(b.tradeRows, v, o, shardId);
    b.tradeCount = n + 1;
    const price = v.getFloat64(o + E.MATCH_PRICE, true);
    const qty = v.getFloat64(o + E.MATCH_QTY, true);
    const ts = v.getFloat64(o + E.TIMESTAMP, true);
    this.filled(
      b,
      shardId,
      v.getFloat64(o + E.MAKER_ORDER_ID, true),
      price,
      qty,
      v.getFloat64(o + E.MAKER_LEAVES_QTY, true),
      ts,
      seq,
    );
    this.filled(
      b,
      shardId,
      v.getFloat64(o + E.TAKER_ORDER_ID, true),
      price,
      qty,
      v.getFloat64(o + E.TAKER_LEAVES_QTY, true),
      ts,
      seq,
    );
  }

  private filled(
    b: Batch,
    shardId: number,
    id: number,
    price: number,
    qty: number,
    leaves: number,
    ts: number,
    seq: number,
  ): void {
    const s = b.slots;
    const p = this.slot(b, shardId, id);
    s[p + F_FILLED] += qty;
    s[p + F_LEAVES] = leaves;
    s[p + F_LEAVES_SET] = 1;
    s[p + F_NOTIONAL] += price * qty;
    s[p + F_FILL_COUNT] += 1;
    s[p + F_LAST_PRICE] = price;
    s[p + F_LAST_QTY] = qty;
    s[p + F_STATUS] = leaves === 0 ? OrderStatus.FILLED : OrderStatus.PARTIALLY_FILLED;
    s[p + F_REASON] = 0;
    s[p + F_UPDATED] = ts;
    s[p + F_LAST_SEQ] = seq;
  }

  /** STP DECREMENT: both orders' open quantity drops; quantity = filled + leaves (docs/matching.md 6.3). */
  private decrement(b: Batch, shardId: number, v: DataView, o: number, seq: number): void {
    const ts = v.getFloat64(o + E.TIMESTAMP, true);
    this.decremented(
      b,
      shardId,
      v.getFloat64(o + E.MAKER_ORDER_ID, true),
      v.getFloat64(o + E.MAKER_LEAVES_QTY, true),
      ts,
      seq,
    );
    this.decremented(
      b,
      shardId,
      v.getFloat64(o + E.TAKER_ORDER_ID, true),
      v.getFloat64(o + E.TAKER_LEAVES_QTY, true),
      ts,
      seq,
    );
  }

  private decremented(b: Batch, shardId: number, id: number, leaves: number, ts: number, seq: number): void {
    const s = b.slots;
    const p = this.slot(b, shardId, id);
    s[p + F_LEAVES] = leaves;
    s[p + F_LEAVES_SET] = 1;
    if (s[p + F_BASE] === 1) s[p + F_QTY] = s[p + F_FILLED] + leaves;
    else s[p + F_QTY_FROM_LEAVES] = 1;
    s[p + F_UPDATED] = ts;
    s[p + F_LAST_SEQ] = seq;
  }
}

function intOption(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new PgWriterError(`PgWriter option ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

/** Shards with events in `b`. */
function countShards(b: Batch): number {
  let n = 0;
  for (let s = 0; s < b.firstEventSeq.length; s++) if (b.firstEventSeq[s] >= 0) n++;
  return n;
}

/** Binary type of each `orders` column (slot field i), in column order. */
const ORDER_TYPES: readonly ('int2' | 'int4' | 'int8' | 'numeric' | 'bool')[] = [
  'int8',
  'int4',
  'int8',
  'int4',
  'int8',
  'int8',
  'int2',
  'int2',
  'int2',
  'int2',
  'int2',
  'int8',
  'int8',
  'int8',
  'int8',
  'int8',
  'int8',
  'int8',
  'numeric',
  'int4',
  'int8',
  'int8',
  'int2',
  'int4',
  'bool',
  'int8',
  'int8',
  'int8',
];

/** The 28 `orders` columns (binary COPY, no row header) from slot fields `src[p]..src[p + 27]`. */
export function writeOrderColumns(w: CopyBinaryWriter, src: ArrayLike<number>, p: number): void {
  for (let f = 0; f < ORDER_COLUMN_COUNT; f++) {
    const x = src[p + f];
    switch (ORDER_TYPES[f]) {
      case 'int8':
        w.int8(x);
        break;
      case 'int4':
        w.int4(x);
        break;
      case 'int2':
        w.int2(x);
        break;
      case 'numeric':
        w.numericInt(x);
        break;
      default:
        w.bool(x === 1);
    }
  }
}

/** One `trades` row (binary COPY) from the FILL event record at `o` of shard `shardId`. */
export function writeTradeRow(w: CopyBinaryWriter, v: DataView, o: number, shardId: number): void {
  w.row(18);
  w.int8(v.getFloat64(o + E.TRADE_ID, true));
  w.int4(shardId);
  w.int8(v.getFloat64(o + E.SEQ, true));
  w.int4(v.getUint32(o + E.SYMBOL_ID, true));
  w.int8(v.getFloat64(o + E.TIMESTAMP, true));
  w.int8(v.getFloat64(o + E.MATCH_PRICE, true));
  w.int8(v.getFloat64(o + E.MATCH_QTY, true));
  w.int2(v.getUint8(o + E.SIDE));
  w.int8(v.getFloat64(o + E.MAKER_ORDER_ID, true));
  w.int8(v.getFloat64(o + E.MAKER_CLIENT_ORDER_ID, true));
  w.int8(v.getUint32(o + E.MAKER_ACCOUNT_ID, true));
  w.int8(v.getUint32(o + E.MAKER_SESSION_ID, true));
  w.int8(v.getFloat64(o + E.MAKER_LEAVES_QTY, true));
  w.int8(v.getFloat64(o + E.TAKER_ORDER_ID, true));
  w.int8(v.getFloat64(o + E.TAKER_CLIENT_ORDER_ID, true));
  w.int8(v.getUint32(o + E.TAKER_ACCOUNT_ID, true));
  w.int8(v.getUint32(o + E.TAKER_SESSION_ID, true));
  w.int8(v.getFloat64(o + E.TAKER_LEAVES_QTY, true));
}

/**
 * Binary COPY of the batch's order slots: [rows for `orders` (orders accepted in this batch,
 * whole), rows for journal_stage_orders (changes to orders of earlier batches)]; null when none.
 */
function encodeOrders(
  b: Batch,
  inserts: CopyBinaryWriter,
  updates: CopyBinaryWriter,
): [Buffer | null, Buffer | null] {
  const s = b.slots;
  let nInserts = 0;
  let nUpdates = 0;
  for (let i = 0; i < b.slotCount; i++) {
    const p = i * SLOT;
    const accepted = s[p + F_ACCEPTED] === 1;
    const w = accepted ? inserts : updates;
    if (accepted) {
      nInserts++;
      w.row(ORDER_COLUMN_COUNT);
    } else {
      nUpdates++;
      w.row(ORDER_COLUMN_COUNT + 4);
    }
    writeOrderColumns(w, s, p);
    if (!accepted) {
      w.bool(false);
      w.bool(s[p + F_BASE] === 1);
      w.bool(s[p + F_QTY_FROM_LEAVES] === 1);
      w.bool(s[p + F_LEAVES_SET] === 1);
    }
  }
  return [nInserts === 0 ? null : inserts.finish(), nUpdates === 0 ? null : updates.finish()];
}

/**
 * Runs `query` (a `COPY ... FROM STDIN`), writes `data` into it and waits until the server has taken
 * it all; fails when the server rejects the rows, the stream errors or the connection closes first.
 *
 * Note: postgres 3.4.9 resolves the query with the stream when the COPY starts and forgets the
 * stream once `end()` has sent CopyDone, so an ErrorResponse to the data (a primary-key conflict, a
 * bad value) only calls the query's `reject` (a no-op on the settled promise) and the stream never
 * finishes. The query's `reject` is therefore wrapped to fail this call too.
 */
async function copyIn(sql: Sql, query: postgres.PendingQuery<postgres.Row[]>, data: Buffer): Promise<void> {
  const q = query as unknown as { reject: (err: unknown) => void };
  let failed: (err: unknown) => void = () => {};
  const reject = q.reject;
  q.reject = (err) => {
    failed(err);
    reject(err);
  };
  const w = await query.writable();
  const events = socketEventsOf(sql);
  let closed: () => void = () => {};
  return new Promise<void>((resolve, reject) => {
    failed = reject;
    closed = () => reject(new PgWriterError('connection closed during COPY'));
    events?.once('close', closed);
    w.once('error', reject);
    w.once('close', () => reject(new PgWriterError('COPY stream closed before the server confirmed it')));
    w.once('finish', () => resolve());
    w.end(data);
  }).finally(() => {
    events?.off('close', closed);
  });
}
