/**
 * The engine pipeline: the one module that builds the topology between the gateway (main thread) and
 * the shard workers. Nothing else knows how many rings there are, who consumes which, or where the
 * workers live; the gateway sees shard numbers, result codes and a handler for events.
 *
 * ```
 *              main thread (gateway)                                shard worker k (k = 0..S-1)
 *   claimCommand(k) / commitCommand(k)  --> command ring k (1 MiB) --> reader 0: MatchingEngine k
 *   submit(k, bytes)                        SPSC, 104-byte records      (shardId k; its symbols:
 *                                                                         symbolId % S == k)
 *   EventDispatcher: onEvent(k, view, off) <-- event ring k (8 MiB) <-- RingEventSink (zero copy,
 *     consumer 0 (waitAsync, bounded          136-byte records;          published per batch;
 *     batches per event-loop turn)            consumer 1 = the journal   waits when full, never drops)
 *   heartbeat timer (reads the control block: heartbeat, state, counters per shard)
 * ```
 *
 * Stages of `Pipeline.start()`:
 *   1. check the options; assign symbols to shards (`shardOf` = symbolId % shards)
 *   2. the control block and, per shard, its command ring and event ring
 *   3. one worker per shard; wait until every engine is built (with a journal: recovered from the
 *      newest snapshot + WAL replay, `recovered(k)`) and its loop runs
 *   3b. with a journal: the journal worker, continuing each shard's WAL at the recovered seq + 1
 *   4. the event dispatcher on the main thread
 *   5. one ADD_SYMBOL per symbol a shard does not already have (recovered ones are skipped) into its
 *      shard's command ring (so the command log rebuilds the configuration); wait until every shard
 *      confirmed them (SYMBOL_ADDED; a refusal fails start)
 *   6. the heartbeat timer; intake opens
 *
 * Ring consumers: a ring has a fixed consumer count and its producer is bounded by the slowest cursor.
 * Event rings: one consumer (the gateway). Command rings: the shard (0) and, with a journal, the
 * journal (1). Without `options.journal` there is no WAL and no recovery (benches, most tests).
 * docs/durability.md.
 *
 * Intake policy: `claimCommand`/`submit` never wait. A full command ring gives BACK_PRESSURED (the
 * caller answers that order with BUSY; counted per shard as `busyRejects`), a dead shard SHARD_DOWN,
 * a stopping pipeline STOPPED. A shard is dead when its worker throws or exits, or its heartbeat has
 * not moved for `heartbeatTimeoutMs`; a stalled worker is terminated. Commands still in a dead shard's
 * ring are not processed (with a journal they are logged and replayed at the next start); events it
 * published are still delivered. A dead journal marks every shard down.
 *
 * `stop()`: intake closes (STOPPED), a STOP record goes behind the last command of every shard, each
 * worker processes everything before it and exits, the journal fsyncs what is left and exits, the
 * dispatcher delivers every event, then it resolves.
 *
 * Timestamps: the gateway stamps each command (`stampCommand`, integer microseconds since the epoch)
 * before it commits it; the engine has no clock. MASS_CANCEL of "every symbol" (symbolId 0) must go to
 * every shard.
 * Thread-safety: main thread only (it is the producer of every command ring and consumer 0 of every
 * event ring).
 */

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../gateway/logger.js';
import { type SymbolSpec, shardOf } from '../gateway/symbols/SymbolTable.js';
import type { JournalShardData, JournalWorkerData } from '../journal/JournalLoop.js';
import { checkSegmentBytes, DEFAULT_SEGMENT_BYTES, walDir } from '../journal/wal/WalFormat.js';
import { reasonName } from './ResultCodes.js';
import { COMMAND_SIZE } from './records/CommandRecord.js';
import * as E from './records/EventRecord.js';
import { EVENT_SIZE, EventType } from './records/EventRecord.js';
import { Ring } from './ring/Ring.js';
import { maxPayloadLength } from './ring/RingDescriptor.js';
import {
  checkShards,
  createControlBlock,
  ShardControl,
  ShardState,
  type ShardStateName,
  stateName,
} from './runtime/ControlBlock.js';
import { EventDispatcher, type EventHandler } from './runtime/EventDispatcher.js';
import { IDLE_STRATEGIES, type IdleStrategyName } from './runtime/IdleChoice.js';
import { PipelineError } from './runtime/PipelineError.js';
import { COMMAND_RECORD, STOP_RECORD } from './runtime/RecordTypes.js';
import type { ShardReady, ShardReport, ShardWorkerData } from './runtime/ShardLoop.js';
import { OPEN_ORDER_STRIDE, type RecoveredShard } from './runtime/ShardRecovery.js';
import { BACK_PRESSURED, OK, SHARD_DOWN, STOPPED } from './runtime/SubmitResult.js';
import { writeAddSymbolCommand } from './runtime/SymbolCommands.js';

export interface PipelineOptions {
  /** Number of shard workers (1..64). */
  readonly shards: number;
  /** Every symbol; each goes to shard `symbolId % shards`. */
  readonly symbols: readonly SymbolSpec[];
  /** Receives every event of every shard, in each shard's order, on the main thread. */
  readonly onEvent: EventHandler;
  readonly log: Logger;
  /** How a shard waits (no commands; event ring full). Default 'backoff'. */
  readonly idle?: IdleStrategyName;
  /** Command ring bytes per shard, a power of two >= 1024. Default 1 MiB (~10k commands). */
  readonly commandRingBytes?: number;
  /** Event ring bytes per shard, a power of two >= 2048. Default 8 MiB (~60k events). */
  readonly eventRingBytes?: number;
  /** Open orders per shard. Default 2^18. */
  readonly maxOrders?: number;
  /** Symbols per shard. Default 1024. */
  readonly maxSymbols?: number;
  /** Accounts per shard. Default 2^16. */
  readonly maxAccounts?: number;
  /** Command records a shard reads per batch. Default 256. */
  readonly commandBatch?: number;
  /** Events the dispatcher hands over per shard per event-loop turn. Default 4096. */
  readonly maxEventsPerTurn?: number;
  /**
   * Publish `commitCommand`s once per event-loop turn (a setImmediate after the turn's I/O callbacks)
   * instead of one by one: the commands of every socket read in one turn reach each shard as one
   * publication, with at most one wake of the shard and of the journal, and the shard reads them as
   * one batch. The server turns it on; default false (each commit is visible at once).
   */
  readonly deferCommits?: boolean;
  /** A shard whose heartbeat has not moved for this long is marked dead. Default 3000 ms. */
  readonly heartbeatTimeoutMs?: number;
  /** Start-up (workers ready, symbols confirmed) must finish within this. Default 30000 ms. */
  readonly startTimeoutMs?: number;
  /**
   * The worker entry to run per shard. Default: `runtime/shardWorker` next to this module (`.ts` from
   * the sources, `.js` from dist). Another entry may call `runShard` with another `Engine`.
   */
  readonly workerUrl?: URL;
  /**
   * The journal (write-ahead log, recovery, durability). Absent: no WAL, no recovery, every shard
   * starts empty (benches and tests that need only the engine).
   */
  readonly journal?: JournalOptions;
}

/** The journal's settings (docs/durability.md). */
export interface JournalOptions {
  /** DATA_DIR: the WAL goes to `dataDir/wal/shard-<k>/`, snapshots are read from `dataDir/snapshots/shard-<k>/`. */
  readonly dataDir: string;
  /**
   * 'sync': a shard processes (and so reports) a command only after the journal fsynced it.
   * 'async': shards read freely; a crash can lose the commands not yet fsynced.
   */
  readonly durability: 'async' | 'sync';
  /** Roll WAL segments at this size (bytes). Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Start despite a gap or duplicate in the middle of the WAL (logged). Default false. */
  readonly allowGaps?: boolean;
  /**
   * Compute the recovered engine's stateHash() at start-up (reported in `recovered(k)` and logged).
   * It walks every open order: ~1-2 s per million. Default true; the server turns it on with
   * RECOVERY_STATE_HASH=1.
   */
  readonly stateHash?: boolean;
  /** Commands per WAL batch (group commit) at most. Default 4096. */
  readonly batchRecords?: number;
  /** Modules exporting `createJournalTask`, run inside the journal worker (journal/JournalTask.ts). */
  readonly tasks?: readonly URL[];
  /** Passed to every task (structured-cloned). */
  readonly taskOptions?: unknown;
}

export interface ShardHealth {
  readonly id: number;
  readonly alive: boolean;
  /** The worker's state, or 'down' once the pipeline marked the shard dead. */
  readonly state: ShardStateName | 'down';
  readonly heartbeat: number;
  /** Time since the heartbeat last moved (as seen by the main thread). */
  readonly heartbeatAgeMs: number;
  /** Commands processed by the shard. */
  readonly commands: number;
  /** Events the shard emitted. */
  readonly events: number;
  /** Events handed to `onEvent`. */
  readonly eventsDelivered: number;
  /** Times the main thread parked (waitAsync) on this shard's empty event ring; each wake costs the shard a notify. */
  readonly dispatcherParks: number;
  /** Times the shard found its event ring full and waited. */
  readonly outboundWaits: number;
  readonly inboundUsedBytes: number;
  readonly outboundUsedBytes: number;
  /** Commands refused with BACK_PRESSURED (answered BUSY). */
  readonly busyRejects: number;
  /** With a journal: the WAL seq up to which this shard's commands are fsynced. */
  readonly durableSeq?: number;
  /** Why the shard is down. */
  readonly reason?: string;
}

export interface PipelineHealth {
  /** Every shard alive and the pipeline not stopping. */
  readonly healthy: boolean;
  readonly stopping: boolean;
  readonly shards: readonly ShardHealth[];
}

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** The production shard worker entry. */
export const SHARD_WORKER_URL = new URL(`./runtime/shardWorker${EXTENSION}`, import.meta.url);
/** The journal worker entry. */
export const JOURNAL_WORKER_URL = new URL(`../journal/journalWorker${EXTENSION}`, import.meta.url);

const GATEWAY_CONSUMER = 0;
/** Command ring consumers: 0 = the shard, 1 = the journal (when there is one). */
const JOURNAL_CONSUMER = 1;
const MIN_COMMAND_RING = 1024;
const MIN_EVENT_RING = 2048;
const NO_BYTES = new Uint8Array(0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Resolved {
  readonly shards: number;
  readonly idle: IdleStrategyName;
  readonly commandRingBytes: number;
  readonly eventRingBytes: number;
  readonly maxOrders: number;
  readonly maxSymbols: number;
  readonly maxAccounts: number;
  readonly commandBatch: number;
  readonly maxEventsPerTurn: number;
  readonly heartbeatTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly workerUrl: URL;
  readonly bySymbolShard: readonly (readonly SymbolSpec[])[];
  readonly journal: JournalOptions | undefined;
}

export class Pipeline {
  /** Number of shards. */
  readonly shards: number;

  private readonly log: Logger;
  private readonly settings: Resolved;
  private readonly commandRings: readonly Ring[];
  private readonly eventRings: readonly Ring[];
  private readonly controls: readonly ShardControl[];
  private readonly workers: Worker[];
  private readonly exited: Promise<void>[];
  private readonly hasExited: Uint8Array;
  private readonly alive: Uint8Array;
  private readonly reasons: (string | undefined)[];
  private readonly busyRejects: Float64Array;
  private readonly totals: Float64Array;
  private readonly lasts: Float64Array;
  private readonly lastBeat: Float64Array;
  private readonly lastBeatAt: Float64Array;
  private readonly dispatcher: EventDispatcher;
  private readonly control: SharedArrayBuffer;
  /** Per shard, what recovery rebuilt (journal only). */
  private readonly recoveries: (RecoveredShard | undefined)[];
  private journalWorker: Worker | undefined;
  private journalExited: Promise<void> | undefined;
  /** Int32Array(1) shared with the journal: 1 = every shard exited, finish. */
  private readonly journalStop: Int32Array;
  /** ADD_SYMBOL confirmations still expected per shard (stage 5). */
  private readonly setupLeft: Int32Array;
  private readonly refusals: string[];
  private setupDone: (() => void) | undefined;
  private setupFailed: string | undefined;
  private accepting: boolean;
  /**
   * holdCommits() .. releaseCommits(): commits only stage. The held (or deferred) commands of shard k
   * are its command ring's staged records (`hasStaged`); any publication of that ring sends them too.
   */
  private holding = false;
  private readonly deferCommits: boolean;
  private flushScheduled = false;
  /** The end-of-turn publication of deferred commits (deferCommits). */
  private readonly flushHeld = (): void => {
    this.flushScheduled = false;
    if (!this.holding) this.publishHeld();
  };
  private stopping: boolean;
  private stopped: Promise<void> | undefined;
  private monitor: NodeJS.Timeout | undefined;
  /** A view of the latest `submit` source's buffer (re-made when the buffer changes). */
  private sourceView: DataView;

  /** Builds and starts the pipeline (stages 1-6); resolves when it takes commands. */
  static async start(options: PipelineOptions): Promise<Pipeline> {
    // 1. options, symbols per shard
    const settings = resolve(options);
    // 2-4. control block, rings, workers, dispatcher
    const p = new Pipeline(options, settings);
    let deadline = performance.now() + settings.startTimeoutMs;
    try {
      // 3. (with a journal, each shard recovers first: snapshot + WAL replay; its ready message says
      //    what it rebuilt). Note: recovery takes as long as the WAL needs, so with a journal the
      //    start-up deadline applies from the end of recovery on (a failing worker still rejects).
      await p.awaitWorkersReady(settings.journal === undefined ? deadline : Number.POSITIVE_INFINITY);
      // 3b. the journal worker, continuing each shard's WAL at the recovered seq + 1
      if (settings.journal !== undefined) {
        deadline = performance.now() + settings.startTimeoutMs;
        await p.startJournal(settings.journal, deadline);
      }
      p.dispatcher.start();
      // 5. symbols
      await p.configureSymbols(deadline);
    } catch (err) {
      await p.abortStart();
      throw err;
    }
    // 6. heartbeat timer, intake
    p.startMonitor();
    p.accepting = true;
    p.log.info(
      {
        shards: settings.shards,
        idle: settings.idle,
        commandRingBytes: settings.commandRingBytes,
        eventRingBytes: settings.eventRingBytes,
        maxOrders: settings.maxOrders,
        symbols: settings.bySymbolShard.map((list) => list.map((s) => s.name)),
        durability: settings.journal?.durability ?? 'none (no journal)',
      },
      'engine pipeline started',
    );
    return p;
  }

  private constructor(options: PipelineOptions, settings: Resolved) {
    const n = settings.shards;
    this.shards = n;
    this.log = options.log.child({ component: 'engine-pipeline' });
    this.settings = settings;
    // 2. control block and rings
    const control = createControlBlock(n);
    this.control = control;
    this.recoveries = new Array<RecoveredShard | undefined>(n).fill(undefined);
    this.journalWorker = undefined;
    this.journalExited = undefined;
    this.journalStop = new Int32Array(new SharedArrayBuffer(4));
    const commandConsumers = settings.journal === undefined ? 1 : 2;
    const commandRings: Ring[] = [];
    const eventRings: Ring[] = [];
    const controls: ShardControl[] = [];
    for (let k = 0; k < n; k++) {
      commandRings.push(Ring.create(settings.commandRingBytes, commandConsumers));
      // Note: one consumer (the gateway) until the journal exists; see the header.
      eventRings.push(Ring.create(settings.eventRingBytes, 1));
      controls.push(new ShardControl(control, k));
    }
    this.commandRings = commandRings;
    this.eventRings = eventRings;
    this.controls = controls;
    this.hasExited = new Uint8Array(n);
    this.alive = new Uint8Array(n).fill(1);
    this.reasons = new Array<string | undefined>(n).fill(undefined);
    this.busyRejects = new Float64Array(n);
    this.deferCommits = options.deferCommits === true;
    // Totals and last raw (uint32) values of COMMANDS, EVENTS, OUTBOUND_WAITS, three per shard.
    this.totals = new Float64Array(3 * n);
    this.lasts = new Float64Array(3 * n);
    this.lastBeat = new Float64Array(n);
    this.lastBeatAt = new Float64Array(n).fill(performance.now());
    this.setupLeft = Int32Array.from(settings.bySymbolShard, (list) => list.length);
    this.refusals = [];
    this.setupDone = undefined;
    this.setupFailed = undefined;
    this.accepting = false;
    this.stopping = false;
    this.stopped = undefined;
    this.monitor = undefined;
    this.sourceView = new DataView(new ArrayBuffer(0));
    // 4. dispatcher (started once the workers run)
    const onEvent = options.onEvent;
    const setupLeft = this.setupLeft;
    const handler: EventHandler = (shard, view, offset) => {
      if (setupLeft[shard] > 0) this.confirmSymbol(shard, view, offset);
      onEvent(shard, view, offset);
    };
    this.dispatcher = new EventDispatcher(
      eventRings.map((r) => r.reader(GATEWAY_CONSUMER)),
      handler,
      {
        maxPerTurn: settings.maxEventsPerTurn,
        onError: (shard, err) => this.log.error({ shard, err }, 'event handler threw; event skipped'),
      },
    );
    // 3. workers
    this.workers = [];
    this.exited = [];
    for (let k = 0; k < n; k++) this.spawn(k, control);
  }

  /** The shard that owns `symbolId`: symbolId % shards. */
  shardOf(symbolId: number): number {
    return shardOf(symbolId, this.shards);
  }

  /**
   * Reserves one command record in shard `shard`'s ring: returns its byte offset in
   * `commandView(shard)` (>= 8), or BACK_PRESSURED (ring full: answer BUSY), SHARD_DOWN or STOPPED.
   * The slot holds stale bytes: write the whole 96-byte record in place (`writeHeader` zeroes it
   * first), stamp its timestamp, then `commitCommand` (or `abortCommand`) before any other call on
   * that shard.
   */
  claimCommand(shard: number): number {
    const ring = this.commandRings[shard];
    if (ring === undefined) throw this.badShard(shard);
    if (!this.accepting) return STOPPED;
    if (this.alive[shard] === 0) return SHARD_DOWN;
    return this.claimIn(ring, shard);
  }

  /**
   * Claims a command slot in `shard`'s ring; on a full ring with held (or deferred) commands, publishes
   * them and tries once more: they take space the shard can free only once it sees them. Counts BUSY.
   */
  private claimIn(ring: Ring, shard: number): number {
    let at = ring.tryClaim(COMMAND_RECORD, COMMAND_SIZE);
    if (at === BACK_PRESSURED && ring.hasStaged) {
      ring.flush();
      at = ring.tryClaim(COMMAND_RECORD, COMMAND_SIZE);
    }
    if (at === BACK_PRESSURED) this.busyRejects[shard]++;
    return at;
  }

  /** The bytes `claimCommand` offsets point into (fixed for the pipeline's life). */
  commandView(shard: number): DataView {
    const ring = this.commandRings[shard];
    if (ring === undefined) throw this.badShard(shard);
    return ring.view;
  }

  /**
   * Publishes the claimed command to the shard (wakes it if it parked). Between `holdCommits()` and
   * `releaseCommits()` it only stages it: the shard sees the held commands together, at the release.
   */
  commitCommand(shard: number): void {
    const ring = this.commandRings[shard];
    if (ring === undefined) throw this.badShard(shard);
    if (!this.holding && !this.deferCommits) {
      ring.commit();
      return;
    }
    ring.stage();
    // Note: held commands are published by releaseCommits(); deferred ones at the end of the turn.
    if (!this.holding && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushHeld);
    }
  }

  /**
   * Starts holding commits (the gateway, for the items of one Batch frame): each shard then gets the
   * frame's commands in one publication (one Atomics.store and at most one wake of the shard and of
   * the journal, instead of one per command), and reads them as one batch. Held commands are
   * published by `releaseCommits()`, which the caller must reach (try/finally); a claim that finds
   * the ring full publishes that shard's held commands first (they must be visible to be consumed).
   */
  holdCommits(): void {
    this.holding = true;
  }

  /** Publishes every command held since `holdCommits()` (or deferred) and stops holding. */
  releaseCommits(): void {
    this.holding = false;
    this.publishHeld();
  }

  private publishHeld(): void {
    const rings = this.commandRings;
    for (let k = 0; k < rings.length; k++) if (rings[k].hasStaged) rings[k].flush();
  }

  /** Gives the claimed command up (the shard skips it). */
  abortCommand(shard: number): void {
    const ring = this.commandRings[shard];
    if (ring === undefined) throw this.badShard(shard);
    ring.abort();
  }

  /**
   * Copies the 96-byte command record at `src[offset ..]` into shard `shard`'s ring: OK,
   * BACK_PRESSURED (nothing written; answer BUSY), SHARD_DOWN or STOPPED.
   */
  submit(shard: number, src: Uint8Array, offset: number): number {
    const ring = this.commandRings[shard];
    if (ring === undefined) throw this.badShard(shard);
    if (!(offset >= 0 && offset + COMMAND_SIZE <= src.length)) {
      throw new PipelineError(
        `submit needs ${COMMAND_SIZE} bytes at offset ${String(offset)} of a ${src.length}-byte array`,
      );
    }
    if (!this.accepting) return STOPPED;
    if (this.alive[shard] === 0) return SHARD_DOWN;
    const at = this.claimIn(ring, shard);
    if (at < 0) return BACK_PRESSURED;
    // Note: 24 int32 copies through DataViews take about half the time of the ring's byte copy of
    // 96 bytes (Buffer#copy) and keep every bit (float64 copies could canonicalise a NaN payload).
    let from = this.sourceView;
    if (from.buffer !== src.buffer) {
      from = new DataView(src.buffer);
      this.sourceView = from;
    }
    const to = ring.view;
    const base = src.byteOffset + offset;
    for (let i = 0; i < COMMAND_SIZE; i += 4) to.setInt32(at + i, from.getInt32(base + i, true), true);
    // Note: the commit publishes any held commands of this shard with this one.
    ring.commit();
    return OK;
  }

  /**
   * Copies up to `count` consecutive 96-byte command records from `src[offset ..]` into shard
   * `shard`'s ring and publishes them together (one Atomics.store and one wake check for the batch,
   * and the shard reads them as one batch): returns how many were written (1 ..= count; the rest did
   * not fit: answer them BUSY or retry), or, when none could be, BACK_PRESSURED, SHARD_DOWN or STOPPED
   * (0 = OK for count 0). The shard sees either all of the returned ones or none, never half a
   * command; order is kept.
   */
  submitBatch(shard: number, src: Uint8Array, offset: number, count: number): number {
    const ring = this.commandRings[shard];
    if (ring === undefined) throw this.badShard(shard);
    if (
      !(offset >= 0 && count >= 0 && (count | 0) === count && offset + count * COMMAND_SIZE <= src.length)
    ) {
      throw new PipelineError(
        `submitBatch needs ${String(count)} x ${COMMAND_SIZE} bytes at offset ${String(offset)} of a ${src.length}-byte array`,
      );
    }
    if (count === 0) return OK;
    if (!this.accepting) return STOPPED;
    if (this.alive[shard] === 0) return SHARD_DOWN;
    let from = this.sourceView;
    if (from.buffer !== src.buffer) {
      from = new DataView(src.buffer);
      this.sourceView = from;
    }
    const to = ring.view;
    let base = src.byteOffset + offset;
    let written = 0;
    while (written < count) {
      const at = ring.tryClaim(COMMAND_RECORD, COMMAND_SIZE);
      if (at < 0) break;
      for (let i = 0; i < COMMAND_SIZE; i += 4) to.setInt32(at + i, from.getInt32(base + i, true), true);
      // Note: staged, not published: the whole batch becomes visible at the flush below.
      ring.stage();
      base += COMMAND_SIZE;
      written++;
    }
    // Note: the flush publishes any held commands of this shard with the batch.
    ring.flush();
    if (written === 0) {
      this.busyRejects[shard]++;
      return BACK_PRESSURED;
    }
    if (written < count) this.busyRejects[shard]++;
    return written;
  }

  /**
   * What recovery rebuilt on shard `shard` (undefined without a journal): the recovered command seq,
   * event seq, symbols, open orders (columns, OPEN_ORDER_FIELDS) and state hash. For the gateway's
   * views; valid from `start()` on.
   */
  recovered(shard: number): RecoveredShard | undefined {
    if (!(shard >= 0 && shard < this.shards)) throw this.badShard(shard);
    return this.recoveries[shard];
  }

  /** With a journal: the WAL seq up to which shard `shard`'s commands are fsynced (0 without one). */
  durableSeq(shard: number): number {
    const c = this.controls[shard];
    if (c === undefined) throw this.badShard(shard);
    return c.durableSeq();
  }

  /** Liveness and progress of every shard (allocates: for the health endpoint and metrics). */
  health(): PipelineHealth {
    const now = performance.now();
    const shards: ShardHealth[] = [];
    let allAlive = true;
    for (let k = 0; k < this.shards; k++) {
      this.refresh(k, now);
      const alive = this.alive[k] === 1;
      allAlive &&= alive;
      const c = this.controls[k];
      const reason = this.reasons[k];
      shards.push({
        id: k,
        alive,
        state: alive ? stateName(c.state()) : 'down',
        heartbeat: this.lastBeat[k],
        heartbeatAgeMs: Math.round(now - this.lastBeatAt[k]),
        commands: this.totals[3 * k],
        events: this.totals[3 * k + 1],
        eventsDelivered: this.dispatcher.delivered[k],
        dispatcherParks: this.dispatcher.parks[k],
        outboundWaits: this.totals[3 * k + 2],
        inboundUsedBytes: backlog(this.commandRings[k]),
        outboundUsedBytes: backlog(this.eventRings[k]),
        busyRejects: this.busyRejects[k],
        ...(this.settings.journal === undefined ? {} : { durableSeq: c.durableSeq() }),
        ...(reason === undefined ? {} : { reason }),
      });
    }
    return { healthy: allAlive && !this.stopping, stopping: this.stopping, shards };
  }

  /**
   * Graceful stop: closes intake (STOPPED), lets every live shard process what is in its command
   * ring, delivers every event, and resolves when the workers have exited. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  // ---------------------------------------------------------------- stages

  private spawn(k: number, control: SharedArrayBuffer): void {
    const s = this.settings;
    const data: ShardWorkerData = {
      shardId: k,
      commands: this.commandRings[k].buffer,
      events: this.eventRings[k].buffer,
      control,
      idle: s.idle,
      maxOrders: s.maxOrders,
      maxSymbols: s.maxSymbols,
      maxAccounts: s.maxAccounts,
      batch: s.commandBatch,
      ...(s.journal === undefined
        ? {}
        : {
            gate: s.journal.durability === 'sync',
            recovery: {
              walDir: walDir(s.journal.dataDir, k),
              snapshotDir: join(s.journal.dataDir, 'snapshots', `shard-${k}`),
              allowGaps: s.journal.allowGaps === true,
              stateHash: s.journal.stateHash !== false,
            },
          }),
    };
    // Note: execArgv carries a TypeScript loader when running from the sources (tests); from dist
    // it is whatever node was started with.
    const worker = new Worker(s.workerUrl, { workerData: data, execArgv: process.execArgv });
    this.workers.push(worker);
    worker.on('error', (err: Error) => this.markDead(k, `worker threw ${err.name}: ${err.message}`, err));
    this.exited.push(
      new Promise<void>((resolveExit) => {
        worker.once('exit', (code: number) => {
          this.hasExited[k] = 1;
          const clean = code === 0 && this.stopping && this.controls[k].state() === ShardState.STOPPED;
          if (clean) this.log.info({ shard: k }, 'shard stopped');
          else this.markDead(k, `worker exited with code ${code}`);
          this.dispatcher.finish(k);
          resolveExit();
        });
      }),
    );
  }

  private async awaitWorkersReady(deadline: number): Promise<void> {
    const ready = this.workers.map(
      (w, k) =>
        new Promise<void>((resolveReady, reject) => {
          const fail = (why: string, cause?: unknown) =>
            reject(new PipelineError(`shard ${k} failed to start: ${why}`, { cause }));
          const onMessage = (m: ShardReady | ShardReport) => {
            if ('report' in m) {
              const r = m.report;
              if (r.level === 'warn') this.log.warn(r.obj, r.msg);
              else this.log.info(r.obj, r.msg);
              return;
            }
            w.off('message', onMessage);
            if (m.recovered !== undefined) {
              this.recoveries[k] = m.recovered;
              const { openOrders, truncated, ...rest } = m.recovered;
              this.log.info(
                {
                  shard: k,
                  ...rest,
                  openOrders: openOrders.length / OPEN_ORDER_STRIDE,
                  truncatedTail: truncated,
                },
                `shard ${k} recovered to command seq ${rest.cmdSeq} in ${rest.durationMs} ms`,
              );
            }
            resolveReady();
          };
          w.on('message', onMessage);
          w.once('error', (err: Error) => fail(`${err.name}: ${err.message}`, err));
          w.once('exit', (code: number) => fail(`worker exited with code ${code}`));
        }),
    );
    await withDeadline(Promise.all(ready), deadline, 'shard workers did not start');
  }

  private async configureSymbols(deadline: number): Promise<void> {
    const scratch = new Uint8Array(COMMAND_SIZE);
    const view = new DataView(scratch.buffer);
    // Note: symbols a shard recovered are already in its engine (and WAL); sending ADD_SYMBOL again
    // would be refused. Only new symbols are configured.
    const toAdd = this.settings.bySymbolShard.map((list, k) => {
      const have = new Set(this.recoveries[k]?.symbols ?? []);
      return list.filter((spec) => !have.has(spec.id));
    });
    for (let k = 0; k < this.shards; k++) this.setupLeft[k] = toAdd[k].length;
    const confirmed = new Promise<void>((resolveSetup) => {
      this.setupDone = resolveSetup;
    });
    this.checkSetupDone();
    for (let k = 0; k < this.shards; k++) {
      for (const s of toAdd[k]) {
        writeAddSymbolCommand(view, 0, s);
        while (this.commandRings[k].tryWrite(COMMAND_RECORD, scratch, 0, COMMAND_SIZE) !== OK) {
          if (this.alive[k] === 0 || performance.now() > deadline) break;
          await sleep(1);
        }
      }
    }
    const watch = setInterval(() => {
      const down = this.alive.indexOf(0);
      if (down >= 0) this.setupFailed = `shard ${down} is down: ${this.reasons[down]}`;
      if (down >= 0 || performance.now() > deadline) this.setupDone?.();
    }, 10);
    try {
      await confirmed;
    } finally {
      clearInterval(watch);
    }
    if (this.setupFailed !== undefined) {
      throw new PipelineError(`symbol set-up failed: ${this.setupFailed}`);
    }
    if (this.setupLeft.some((left) => left > 0)) {
      throw new PipelineError('symbol set-up did not finish within startTimeoutMs');
    }
    if (this.refusals.length > 0) {
      throw new PipelineError(`the engine refused symbol configuration: ${this.refusals.join('; ')}`);
    }
  }

  /** Stage 5, per event while set-up confirmations are due (the first events of each shard). */
  private confirmSymbol(shard: number, view: DataView, offset: number): void {
    this.setupLeft[shard]--;
    const type = E.readType(view, offset);
    if (type !== EventType.SYMBOL_ADDED) {
      const reason = type === EventType.REJECTED ? reasonName(E.readReason(view, offset)) : `event ${type}`;
      const id = E.readSymbolId(view, offset);
      const spec = this.settings.bySymbolShard[shard].find((s) => s.id === id);
      this.refusals.push(`symbol ${id} (${spec?.name ?? '?'}) on shard ${shard}: ${reason}`);
    }
    this.checkSetupDone();
  }

  private checkSetupDone(): void {
    if (this.setupDone !== undefined && this.setupLeft.every((left) => left <= 0)) this.setupDone();
  }

  private startMonitor(): void {
    const timeout = this.settings.heartbeatTimeoutMs;
    const every = Math.min(250, Math.max(10, Math.floor(timeout / 4)));
    const now = performance.now();
    for (let k = 0; k < this.shards; k++) {
      this.lastBeat[k] = this.controls[k].heartbeat();
      this.lastBeatAt[k] = now;
    }
    this.monitor = setInterval(() => this.check(), every);
    this.monitor.unref();
  }

  /** Heartbeat timer: counters, and a shard whose heartbeat stalled is marked dead. */
  private check(): void {
    const now = performance.now();
    const timeout = this.settings.heartbeatTimeoutMs;
    for (let k = 0; k < this.shards; k++) {
      this.refresh(k, now);
      if (this.alive[k] === 0 || this.hasExited[k] === 1) continue;
      const age = now - this.lastBeatAt[k];
      if (age > timeout && this.controls[k].state() !== ShardState.STOPPED) {
        this.markDead(k, `heartbeat stalled for ${Math.round(age)} ms (timeout ${timeout} ms)`);
      }
    }
  }

  /** Folds the shard's uint32 counters into totals and notes a moved heartbeat. */
  private refresh(k: number, now: number): void {
    const c = this.controls[k];
    const beat = c.heartbeat();
    if (beat !== this.lastBeat[k]) {
      this.lastBeat[k] = beat;
      this.lastBeatAt[k] = now;
    }
    this.fold(3 * k, c.commands());
    this.fold(3 * k + 1, c.events());
    this.fold(3 * k + 2, c.outboundWaits());
  }

  private fold(i: number, raw: number): void {
    this.totals[i] += (raw - this.lasts[i]) >>> 0;
    this.lasts[i] = raw;
  }

  private markDead(k: number, reason: string, err?: Error): void {
    if (this.alive[k] === 0) return;
    this.alive[k] = 0;
    this.reasons[k] = reason;
    this.log.error({ shard: k, reason, err }, 'shard down: its symbols take no commands (SHARD_DOWN)');
    if (this.hasExited[k] === 0) {
      this.workers[k]
        .terminate()
        .catch((e: unknown) => this.log.error({ shard: k, err: e }, 'terminate failed'));
    }
  }

  private async shutdown(): Promise<void> {
    this.accepting = false;
    this.stopping = true;
    this.log.info('engine pipeline stopping: intake closed, draining the shards');
    // STOP goes behind the last command of every live shard; each drains its ring, then exits.
    await Promise.all(this.workers.map((_, k) => this.sendStop(k)));
    await Promise.all(this.exited);
    // The journal releases each shard's STOP after fsyncing what is before it; once every shard has
    // exited it is told to finish (a dead shard's ring is journaled to its end), then it closes.
    await this.stopJournal();
    await this.dispatcher.done();
    if (this.monitor !== undefined) clearInterval(this.monitor);
    const h = this.health();
    this.log.info(
      { shards: h.shards.map((s) => ({ id: s.id, commands: s.commands, events: s.events, state: s.state })) },
      'engine pipeline stopped',
    );
  }

  private async sendStop(k: number): Promise<void> {
    const ring = this.commandRings[k];
    while (this.alive[k] === 1 && this.hasExited[k] === 0) {
      if (ring.tryWrite(STOP_RECORD, NO_BYTES, 0, 0) === OK) return;
      await sleep(1);
    }
  }

  /** Start-up failed: end every worker without draining. */
  private async abortStart(): Promise<void> {
    this.stopping = true;
    this.alive.fill(0);
    for (const w of this.workers) w.terminate().catch(() => undefined);
    await Promise.all(this.exited);
    if (this.journalWorker !== undefined) {
      this.journalWorker.terminate().catch(() => undefined);
      await this.journalExited;
    }
    await this.dispatcher.done();
  }

  /** Stage 3b: the journal worker, after every shard recovered (it continues at recovered seq + 1). */
  private async startJournal(j: JournalOptions, deadline: number): Promise<void> {
    const shards: JournalShardData[] = this.commandRings.map((ring, k) => ({
      shardId: k,
      commands: ring.buffer,
      nextSeq: (this.recoveries[k]?.cmdSeq ?? 0) + 1,
    }));
    const data: JournalWorkerData = {
      dataDir: j.dataDir,
      shards,
      control: this.control,
      stop: this.journalStop.buffer as SharedArrayBuffer,
      gated: j.durability === 'sync',
      segmentBytes: j.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      batchRecords: j.batchRecords ?? 4096,
      tasks: (j.tasks ?? []).map((u) => u.href),
      taskOptions: j.taskOptions,
    };
    const worker = new Worker(JOURNAL_WORKER_URL, { workerData: data, execArgv: process.execArgv });
    this.journalWorker = worker;
    let failure: string | undefined;
    worker.on('error', (err: Error) => {
      failure = `journal worker threw ${err.name}: ${err.message}`;
      this.log.error({ err }, 'journal down: no command can be made durable; every shard is marked down');
      for (let k = 0; k < this.shards; k++) this.markDead(k, failure);
    });
    this.journalExited = new Promise<void>((resolveExit) => {
      worker.once('exit', (code: number) => {
        if (code !== 0 || !this.stopping) {
          const why = failure ?? `journal worker exited with code ${code}`;
          for (let k = 0; k < this.shards; k++) this.markDead(k, why);
        } else {
          this.log.info({ durableSeq: this.controls.map((c) => c.durableSeq()) }, 'journal stopped');
        }
        resolveExit();
      });
    });
    const ready = new Promise<void>((resolveReady, reject) => {
      worker.once('message', () => resolveReady());
      worker.once('error', (err: Error) =>
        reject(new PipelineError(`the journal failed to start: ${err.message}`, { cause: err })),
      );
      worker.once('exit', (code: number) =>
        reject(new PipelineError(`the journal failed to start: worker exited with code ${code}`)),
      );
    });
    await withDeadline(ready, deadline, 'the journal did not start');
    this.log.info(
      {
        dataDir: j.dataDir,
        durability: j.durability,
        segmentBytes: data.segmentBytes,
        nextSeq: shards.map((s) => s.nextSeq),
        tasks: data.tasks,
      },
      'journal started',
    );
  }

  private async stopJournal(): Promise<void> {
    const worker = this.journalWorker;
    if (worker === undefined) return;
    Atomics.store(this.journalStop, 0, 1);
    // Note: the journal parks on shard 0's consumer-1 word (see JournalLoop); wake it there.
    this.commandRings[0].wakeConsumer(JOURNAL_CONSUMER);
    await this.journalExited;
  }

  private badShard(shard: number): PipelineError {
    return new PipelineError(`shard must be an integer 0..${this.shards - 1}, got ${String(shard)}`);
  }
}

function resolve(o: PipelineOptions): Resolved {
  checkShards(o.shards);
  const idle = o.idle ?? 'backoff';
  if (!IDLE_STRATEGIES.includes(idle)) {
    throw new PipelineError(`idle must be one of ${IDLE_STRATEGIES.join('|')}, got ${String(idle)}`);
  }
  const commandRingBytes = ringBytes(
    'commandRingBytes',
    o.commandRingBytes ?? 1 << 20,
    MIN_COMMAND_RING,
    COMMAND_SIZE,
  );
  const eventRingBytes = ringBytes('eventRingBytes', o.eventRingBytes ?? 1 << 23, MIN_EVENT_RING, EVENT_SIZE);
  const maxOrders = positiveInt('maxOrders', o.maxOrders ?? 1 << 18);
  const maxSymbols = positiveInt('maxSymbols', o.maxSymbols ?? 1024);
  const maxAccounts = positiveInt('maxAccounts', o.maxAccounts ?? 1 << 16);
  const bySymbolShard: SymbolSpec[][] = Array.from({ length: o.shards }, () => []);
  const seen = new Set<number>();
  for (const s of o.symbols) {
    if (seen.has(s.id)) throw new PipelineError(`symbol id ${s.id} appears twice`);
    seen.add(s.id);
    bySymbolShard[shardOf(s.id, o.shards)].push(s);
  }
  for (let k = 0; k < o.shards; k++) {
    if (bySymbolShard[k].length > maxSymbols) {
      throw new PipelineError(
        `shard ${k} gets ${bySymbolShard[k].length} symbols; maxSymbols is ${maxSymbols}`,
      );
    }
  }
  return {
    shards: o.shards,
    idle,
    commandRingBytes,
    eventRingBytes,
    maxOrders,
    maxSymbols,
    maxAccounts,
    commandBatch: positiveInt('commandBatch', o.commandBatch ?? 256),
    maxEventsPerTurn: positiveInt('maxEventsPerTurn', o.maxEventsPerTurn ?? 4096),
    heartbeatTimeoutMs: positiveInt('heartbeatTimeoutMs', o.heartbeatTimeoutMs ?? 3000),
    startTimeoutMs: positiveInt('startTimeoutMs', o.startTimeoutMs ?? 30_000),
    workerUrl: o.workerUrl ?? SHARD_WORKER_URL,
    bySymbolShard,
    journal: o.journal === undefined ? undefined : checkJournal(o.journal),
  };
}

function checkJournal(j: JournalOptions): JournalOptions {
  if (typeof j.dataDir !== 'string' || j.dataDir === '') {
    throw new PipelineError(`journal.dataDir must be a directory path, got ${String(j.dataDir)}`);
  }
  if (j.durability !== 'async' && j.durability !== 'sync') {
    throw new PipelineError(`journal.durability must be "async" or "sync", got ${String(j.durability)}`);
  }
  if (j.segmentBytes !== undefined) {
    try {
      checkSegmentBytes(j.segmentBytes);
    } catch (err) {
      throw new PipelineError(`journal.segmentBytes: ${(err as Error).message}`);
    }
  }
  if (j.batchRecords !== undefined) positiveInt('journal.batchRecords', j.batchRecords);
  return j;
}

function ringBytes(name: string, v: number, min: number, record: number): number {
  if (!Number.isInteger(v) || v < min || v > 2 ** 30 || (v & (v - 1)) !== 0 || maxPayloadLength(v) < record) {
    throw new PipelineError(`${name} must be a power of two between ${min} and 2^30, got ${String(v)}`);
  }
  return v;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new PipelineError(`${name} must be an integer >= 1, got ${String(v)}`);
  return v;
}

/** Bytes published and not yet consumed by the slowest consumer. */
function backlog(ring: Ring): number {
  const head = ring.producerPosition();
  let used = 0;
  for (let i = 0; i < ring.consumers; i++) used = Math.max(used, (head - ring.consumerPosition(i)) | 0);
  return used;
}

async function withDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  if (deadline === Number.POSITIVE_INFINITY) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PipelineError(`${what} within startTimeoutMs`)),
      Math.max(0, deadline - performance.now()),
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
