/**
 * The shard worker loop: one worker thread, one `Engine` (shardId = the worker's index), one command
 * ring in, one event ring out.
 *
 *   loop: n = commands.read(onRecord, batch)     // up to `batch` command records, in ring order
 *         onRecord: engine.process(view, off, sink)   // events go straight into the event ring
 *         sink.flush()                               // published per batch (or every 64 events)
 *         heartbeat; publish counters when n > 0; idle.idle(n)
 *   until a STOP_RECORD: everything before it has been processed and published; state STOPPED; return.
 *
 * Recovery (`data.recovery`, when the pipeline has a journal): before the loop, the engine is rebuilt
 * from the newest snapshot plus the WAL (ShardRecovery.ts) and the ready message carries what was
 * recovered. In DURABILITY=sync the command reader is gated on the journal's cursor (`data.gate`):
 * the shard processes only commands the journal has fsynced, so every event it emits is for a
 * durable command.
 *
 * Idle strategy (the `IDLE_STRATEGY` setting, `IdleChoice`), for both waits (no commands; event ring
 * full): 'backoff' (default; parks, 0 % CPU idle, a wake costs ~7-25 us) or 'spin' (a core per shard).
 *
 * A throwing engine (a bug: `process()` never throws for command content) publishes what it emitted
 * (`RingEventSink.salvage`), sets FAILED and rethrows: the worker dies with an uncaught error and the
 * pipeline marks the shard down.
 * Called by the worker entry `shardWorker.ts` (and fixture entries that pass another `Engine`).
 * Thread-safety: runs on the shard's worker thread; blocks it until STOP.
 */
import { parentPort } from 'node:worker_threads';
import type { Engine, EngineConfig } from '../book/Engine.js';
import { MatchingEngine } from '../book/MatchingEngine.js';
import { Ring } from '../ring/Ring.js';
import { ShardControl, ShardState } from './ControlBlock.js';
import { createIdle, type IdleStrategyName } from './IdleChoice.js';
import { PipelineError } from './PipelineError.js';
import { COMMAND_RECORD, STOP_RECORD } from './RecordTypes.js';
import { RingEventSink } from './RingEventSink.js';
import type { RecoveredShard, RecoveryReport, RecoverySettings } from './ShardRecovery.js';

/** What a shard worker receives as `workerData` (plain, structured-clonable). */
export interface ShardWorkerData {
  readonly shardId: number;
  /** The command ring (gateway -> this shard); this shard is its consumer 0. */
  readonly commands: SharedArrayBuffer;
  /** The event ring (this shard -> gateway [, journal]); this shard is its producer. */
  readonly events: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly idle: IdleStrategyName;
  readonly maxOrders: number;
  readonly maxSymbols: number;
  readonly maxAccounts: number;
  /** Command records per read (the consumer position is published once per batch). */
  readonly batch: number;
  /**
   * DURABILITY=sync: read the command ring gated on consumer 1 (the journal), so only commands the
   * journal has fsynced are processed. Default false.
   */
  readonly gate?: boolean;
  /** Recover from the snapshot + WAL before the loop starts (the pipeline has a journal). */
  readonly recovery?: RecoverySettings;
}

/** The message a worker posts once, when its engine is built (and recovered) and its loop starts. */
export interface ShardReady {
  readonly ready: number;
  /** Present when the shard recovered (ShardWorkerData.recovery). */
  readonly recovered?: RecoveredShard;
}

/** A recovery progress or warning line for the main thread's log. */
export interface ShardReport {
  readonly report: RecoveryReport;
}

export type EngineFactory = (config: EngineConfig) => Engine;

export const createMatchingEngine: EngineFactory = (config) => new MatchingEngine(config);

/**
 * Rebuilds the engine before the loop (`ShardRecovery.recoverShard` with the snapshot source bound;
 * `shardWorker.ts` passes it). A parameter, not an import, so entries without recovery (tests'
 * fixture engines) do not load the WAL modules.
 */
export type ShardRecoverer = (
  config: EngineConfig,
  settings: RecoverySettings,
  createEngine: EngineFactory,
  report: (r: RecoveryReport) => void,
) => { engine: Engine; recovered: RecoveredShard };

/**
 * Runs the shard until a STOP_RECORD; returns the number of commands processed. With
 * `data.recovery` the engine is first rebuilt by `recover` (required then).
 */
export function runShard(
  data: ShardWorkerData,
  createEngine: EngineFactory = createMatchingEngine,
  recover?: ShardRecoverer,
): number {
  const control = new ShardControl(data.control, data.shardId);
  const config = {
    shardId: data.shardId,
    maxOrders: data.maxOrders,
    maxSymbols: data.maxSymbols,
    maxAccounts: data.maxAccounts,
  };
  let engine: Engine;
  let recovered: RecoveredShard | undefined;
  if (data.recovery !== undefined) {
    if (recover === undefined) {
      throw new PipelineError(
        `shard ${data.shardId}: recovery requested but this worker entry cannot recover`,
      );
    }
    const report = (r: RecoveryReport) => parentPort?.postMessage({ report: r } satisfies ShardReport);
    ({ engine, recovered } = recover(config, data.recovery, createEngine, report));
  } else {
    engine = createEngine(config);
  }
  const reader = Ring.wrap(data.commands).reader(0, data.gate === true ? { gate: 1 } : undefined);
  const events = Ring.wrap(data.events);
  const sink = new RingEventSink(events, createIdle(data.idle, events), control);
  const idle = createIdle(data.idle, reader);
  const batch = data.batch;
  let processed = 0;
  let stopping = false;
  const onRecord = (type: number, view: DataView, offset: number): void => {
    if (type === COMMAND_RECORD) {
      // Note: the pipeline writes nothing after STOP_RECORD; a record there would be skipped.
      if (stopping) return;
      engine.process(view, offset, sink);
      processed++;
    } else if (type === STOP_RECORD) {
      stopping = true;
    }
  };
  control.setState(ShardState.RUNNING);
  control.beat();
  parentPort?.postMessage(
    (recovered === undefined
      ? { ready: data.shardId }
      : { ready: data.shardId, recovered }) satisfies ShardReady,
  );
  try {
    while (!stopping) {
      const n = reader.read(onRecord, batch);
      // Note: the batch's events become visible together (see RingEventSink), then the shard idles.
      sink.flush();
      control.beat();
      if (n > 0) control.publish(processed, sink.events, sink.waits);
      idle.idle(n);
    }
  } catch (err) {
    try {
      sink.salvage();
    } catch {
      // Note: the original error is the one to report; a sink that cannot publish adds nothing.
    }
    control.publish(processed, sink.events, sink.waits);
    control.setState(ShardState.FAILED);
    throw err;
  }
  control.publish(processed, sink.events, sink.waits);
  control.setState(ShardState.STOPPED);
  return processed;
}
