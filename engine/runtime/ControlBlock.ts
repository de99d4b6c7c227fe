/**
 * The runtime's control block: one small SharedArrayBuffer through which every shard worker reports
 * its liveness and progress to the main thread. Offsets here are the single source of truth;
 * `ShardControl` is the flyweight both sides use.
 *
 * ```
 * byte 0                                                                   (1 + shards) * LINE
 * +---------------------------------------------------------------------------------------+
 * | line 0: META  magic "SHRD", version, shard count                        set at create  |
 * | line 1 + k: shard k's slot (one LINE = 128 B, two cache lines, so two shards' counters  |
 * |             never share a line and the prefetcher cannot pair them)                    |
 * +---------------------------------------------------------------------------------------+
 *
 * shard slot, int32 words (the worker writes every word with Atomics.store; the main thread reads
 * with Atomics.load):
 *   0  HEARTBEAT       +1 per loop pass (at least every maxParkMs = 100 ms while idle, and while
 *                      waiting on a full event ring); wraps modulo 2^32
 *   1  STATE           STARTING 0, RUNNING 1, WAITING 2 (event ring full), STOPPED 3, FAILED 4
 *   2  COMMANDS        command records processed, modulo 2^32 (uint32)
 *   3  EVENTS          event records emitted, modulo 2^32 (uint32)
 *   4  OUTBOUND_WAITS  times the event ring was full and the shard had to wait, modulo 2^32
 *   5  DURABLE_VERSION seqlock word of the durable seq: odd while the journal writes it
 *   6  DURABLE_LO      "durable up to seq N" (the WAL seq of the shard's last fsynced command),
 *   7  DURABLE_HI      low and high 32 bits; written by the JOURNAL worker, not the shard
 *   8..31             reserved (zero)
 * ```
 *
 * Counters wrap at 2^32 (71 minutes at 1M/s); the main thread turns them into totals by adding
 * `(now - last) >>> 0` at least every few hundred milliseconds (the pipeline's heartbeat timer).
 * Thread-safety: words 0-4 of a slot have one writer (its shard worker), words 5-7 another (the
 * journal worker); any thread may read.
 */
import { PipelineError } from './PipelineError.js';

/** Spacing of the slots: two 64-byte cache lines (as in RingDescriptor). */
export const LINE = 128;
export const MAX_SHARDS = 64;
/** "SHRD" */
export const MAGIC = 0x53485244;
export const VERSION = 1;

/** Word offsets (int32 index) inside the META line. */
export const META_MAGIC = 0;
export const META_VERSION = 1;
export const META_SHARDS = 2;

/** Word offsets (int32 index) inside a shard slot. */
export const HEARTBEAT = 0;
export const STATE = 1;
export const COMMANDS = 2;
export const EVENTS = 3;
export const OUTBOUND_WAITS = 4;
export const DURABLE_VERSION = 5;
export const DURABLE_LO = 6;
export const DURABLE_HI = 7;

/** Shard states (the STATE word). */
export const ShardState = {
  STARTING: 0,
  RUNNING: 1,
  /** Blocked on a full event ring: the gateway (or the journal) is not keeping up. */
  WAITING: 2,
  STOPPED: 3,
  FAILED: 4,
} as const;

const STATE_NAMES = ['starting', 'running', 'waiting', 'stopped', 'failed'] as const;
export type ShardStateName = (typeof STATE_NAMES)[number];

/** Byte offset of shard `k`'s slot. */
export function slotOffset(shard: number): number {
  return (1 + shard) * LINE;
}

/** Bytes of a control block for `shards` shards. */
export function controlByteLength(shards: number): number {
  return (1 + shards) * LINE;
}

/** Throws a PipelineError naming the value unless `shards` is an integer in 1..MAX_SHARDS. */
export function checkShards(shards: number): void {
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new PipelineError(
      `shard count must be an integer between 1 and ${MAX_SHARDS}, got ${String(shards)}`,
    );
  }
}

/** Allocates a zeroed control block (every shard STARTING) for `shards` shards. */
export function createControlBlock(shards: number): SharedArrayBuffer {
  checkShards(shards);
  const buffer = new SharedArrayBuffer(controlByteLength(shards));
  const meta = new Int32Array(buffer, 0, 3);
  meta[META_MAGIC] = MAGIC;
  meta[META_VERSION] = VERSION;
  meta[META_SHARDS] = shards;
  return buffer;
}

export function stateName(state: number): ShardStateName {
  return STATE_NAMES[state] ?? 'failed';
}

/**
 * One shard's slot. The worker calls `beat`, `setState` and `publish`; the main thread calls the
 * readers. Methods are plain Atomics on one Int32Array: no allocation.
 */
export class ShardControl {
  readonly shard: number;
  private readonly words: Int32Array;
  private readonly base: number;
  private beats: number;

  constructor(buffer: SharedArrayBuffer, shard: number) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < LINE) {
      throw new PipelineError('control block must be a SharedArrayBuffer made by createControlBlock()');
    }
    const words = new Int32Array(buffer);
    if (words[META_MAGIC] !== MAGIC || words[META_VERSION] !== VERSION) {
      throw new PipelineError('SharedArrayBuffer is not a control block (bad magic or version)');
    }
    const shards = words[META_SHARDS];
    if (!Number.isInteger(shard) || shard < 0 || shard >= shards) {
      throw new PipelineError(`control block has ${shards} shard slot(s), no shard ${String(shard)}`);
    }
    this.shard = shard;
    this.words = words;
    this.base = slotOffset(shard) >> 2;
    this.beats = Atomics.load(words, this.base + HEARTBEAT);
  }

  // ---------------------------------------------------------------- worker side (the slot's writer)

  /** One more heartbeat. */
  beat(): void {
    this.beats = (this.beats + 1) | 0;
    Atomics.store(this.words, this.base + HEARTBEAT, this.beats);
  }

  setState(state: number): void {
    Atomics.store(this.words, this.base + STATE, state);
  }

  /** Publishes the running totals (stored modulo 2^32). */
  publish(commands: number, events: number, outboundWaits: number): void {
    const words = this.words;
    const base = this.base;
    Atomics.store(words, base + COMMANDS, commands | 0);
    Atomics.store(words, base + EVENTS, events | 0);
    Atomics.store(words, base + OUTBOUND_WAITS, outboundWaits | 0);
  }

  // ---------------------------------------------------------------- journal side (words 5-7)

  /** Journal worker: publishes "durable up to `seq`" (a seqlock write: version odd, value, even). */
  publishDurable(seq: number): void {
    const words = this.words;
    const base = this.base;
    const v = Atomics.load(words, base + DURABLE_VERSION);
    Atomics.store(words, base + DURABLE_VERSION, (v + 1) | 0);
    Atomics.store(words, base + DURABLE_LO, seq | 0);
    Atomics.store(words, base + DURABLE_HI, Math.floor(seq / 2 ** 32));
    Atomics.store(words, base + DURABLE_VERSION, (v + 2) | 0);
  }

  // ---------------------------------------------------------------- readers (any thread)

  /** The WAL seq up to which this shard's commands are durable (0 before the first fsync). */
  durableSeq(): number {
    const words = this.words;
    const base = this.base;
    for (;;) {
      const v1 = Atomics.load(words, base + DURABLE_VERSION);
      const lo = Atomics.load(words, base + DURABLE_LO) >>> 0;
      const hi = Atomics.load(words, base + DURABLE_HI);
      const v2 = Atomics.load(words, base + DURABLE_VERSION);
      if (v1 === v2 && (v1 & 1) === 0) return hi * 2 ** 32 + lo;
    }
  }

  heartbeat(): number {
    return Atomics.load(this.words, this.base + HEARTBEAT);
  }

  state(): number {
    return Atomics.load(this.words, this.base + STATE);
  }

  /** Commands processed, modulo 2^32 (uint32). */
  commands(): number {
    return Atomics.load(this.words, this.base + COMMANDS) >>> 0;
  }

  /** Events emitted, modulo 2^32 (uint32). */
  events(): number {
    return Atomics.load(this.words, this.base + EVENTS) >>> 0;
  }

  /** Full-event-ring waits, modulo 2^32 (uint32). */
  outboundWaits(): number {
    return Atomics.load(this.words, this.base + OUTBOUND_WAITS) >>> 0;
  }
}
