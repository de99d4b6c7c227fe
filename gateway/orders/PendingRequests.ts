/**
 * Requests waiting for the outcome of their command: correlation id -> resolver, bounded, with a
 * timeout.
 *
 * The REST API (and any session that wants request/response) calls `begin()` right after committing
 * a command and awaits the promise. Every event from every shard passes through `onEvent()`; an
 * event whose correlation id is pending updates that request's result (the accepted order id, or
 * the reject reason). A request completes at the end of the batch of events that carried its events
 * (`endOfBatch()`), because a shard publishes all the events of one command in one commit: by then
 * the OrderStore has applied every fill and cancel the command caused, so the caller reads the
 * order's state after matching. The event source calls `endOfBatch()` after each delivered batch;
 * with `autoFlush` (the default) a microtask does it, which is right for any source that delivers a
 * batch synchronously (engine/runtime/EventDispatcher drains a ring synchronously, up to a budget per
 * event-loop turn). A budget can cut one command's events in two: `settled(shard)`, when given, says
 * whether the shard's ring still holds undelivered events; a request of an unsettled shard waits for
 * the next batch.
 *
 * Bounded: at most `capacity` requests wait; `begin()` returns null beyond (answer BUSY). A request
 * whose events have not arrived after `timeoutMs` resolves with TIMEOUT (the command may still be
 * processed later: its outcome then shows in the order store). One interval timer sweeps the
 * timeouts; deadlines are in insertion order because the timeout is constant.
 * Thread-safety: main thread only.
 */
import * as E from '../../engine/records/EventRecord.js';

const { ACCEPTED, REJECTED, CANCELLED } = E.EventType;

export const Outcome = {
  /** The shard processed the command: see orderId / rejectReason. */
  DONE: 0,
  /** The shard's inbound ring was full, or too many requests are waiting. Retry later. */
  BUSY: 1,
  /** The shard cannot take commands. */
  SHARD_DOWN: 2,
  /** No outcome within the timeout: unknown whether the command was processed. */
  TIMEOUT: 3,
} as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

export interface CommandResult {
  readonly outcome: OutcomeCode;
  readonly correlationId: number;
  /** NEW_ORDER: the accepted order's id (0 when rejected). CANCEL: the cancelled order's id. */
  readonly orderId: number;
  /** Reason of the REJECTED event (0 = not rejected). */
  readonly rejectReason: number;
  /** Seconds from `begin()` to completion. */
  readonly seconds: number;
}

export interface PendingRequestsOptions {
  readonly capacity: number;
  readonly timeoutMs: number;
  /** Complete requests in a microtask after their first event (default true). */
  readonly autoFlush?: boolean;
  /** False while `shard` has events published but not yet delivered (default: always true). */
  readonly settled?: (shard: number) => boolean;
}

interface Entry {
  readonly correlationId: number;
  readonly started: number;
  readonly deadline: number;
  readonly resolve: (r: CommandResult) => void;
  shard: number;
  orderId: number;
  rejectReason: number;
  touched: boolean;
}

export class PendingRequests {
  private readonly entries: Map<number, Entry>;
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly autoFlush: boolean;
  private readonly settled: ((shard: number) => boolean) | undefined;
  private touched: Entry[];
  private flushScheduled: boolean;
  private readonly flush: () => void;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: PendingRequestsOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`PendingRequests capacity must be an integer >= 1, got ${options.capacity}`);
    }
    if (!(options.timeoutMs > 0)) {
      throw new RangeError(`PendingRequests timeoutMs must be > 0, got ${options.timeoutMs}`);
    }
    this.entries = new Map();
    this.capacity = options.capacity;
    this.timeoutMs = options.timeoutMs;
    this.autoFlush = options.autoFlush ?? true;
    this.settled = options.settled;
    this.touched = [];
    this.flushScheduled = false;
    this.flush = () => this.endOfBatch();
    this.sweeper = undefined;
  }

  /** Number of requests waiting. */
  get size(): number {
    return this.entries.size;
  }

  /** True when `begin()` would accept one more request. */
  hasRoom(): boolean {
    return this.entries.size < this.capacity;
  }

  /** Starts waiting for the events of `correlationId`; null when `capacity` requests already wait. */
  begin(correlationId: number): Promise<CommandResult> | null {
    if (this.entries.size >= this.capacity) return null;
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(5, Math.min(100, this.timeoutMs / 4)));
      this.sweeper.unref();
    }
    return new Promise<CommandResult>((resolve) => {
      const started = performance.now();
      this.entries.set(correlationId, {
        correlationId,
        started,
        deadline: started + this.timeoutMs,
        resolve,
        shard: -1,
        orderId: 0,
        rejectReason: 0,
        touched: false,
      });
    });
  }

  /** Feeds one event (any type, any shard). Cheap when its correlation id is not pending. */
  onEvent(shard: number, view: DataView, off: number): void {
    if (this.touched.length !== 0 && this.autoFlush && !this.flushScheduled) this.scheduleFlush();
    const entry = this.entries.get(E.readCorrelationId(view, off));
    if (entry === undefined) return;
    const type = E.readType(view, off);
    if (type === ACCEPTED) {
      if (entry.orderId === 0) entry.orderId = E.readF64(view, off, E.ORDER_ID);
    } else if (type === REJECTED) {
      entry.rejectReason = E.readReason(view, off);
      entry.orderId = E.readF64(view, off, E.ORDER_ID);
    } else if (type === CANCELLED) {
      if (entry.orderId === 0) entry.orderId = E.readF64(view, off, E.ORDER_ID);
    }
    if (!entry.touched) {
      entry.touched = true;
      entry.shard = shard;
      this.touched.push(entry);
      if (this.autoFlush && !this.flushScheduled) this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    this.flushScheduled = true;
    queueMicrotask(this.flush);
  }

  /** Completes every request that received events since the previous call. */
  endOfBatch(): void {
    this.flushScheduled = false;
    const done = this.touched;
    if (done.length === 0) return;
    this.touched = [];
    const now = performance.now();
    const settled = this.settled;
    for (const e of done) {
      if (this.entries.get(e.correlationId) !== e) continue; // closed meanwhile
      if (settled !== undefined && !settled(e.shard)) {
        this.touched.push(e); // more of this shard's events are on their way
        continue;
      }
      this.entries.delete(e.correlationId);
      e.resolve({
        outcome: Outcome.DONE,
        correlationId: e.correlationId,
        orderId: e.orderId,
        rejectReason: e.rejectReason,
        seconds: (now - e.started) / 1000,
      });
    }
  }

  /** Resolves every waiting request with `outcome` (SHARD_DOWN at shutdown) and stops the sweeper. */
  close(outcome: OutcomeCode = Outcome.SHARD_DOWN): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const now = performance.now();
    for (const e of this.entries.values()) e.resolve(result(e, outcome, now));
    this.entries.clear();
    this.touched = [];
  }

  private sweep(): void {
    const now = performance.now();
    for (const e of this.entries.values()) {
      if (e.deadline > now) break;
      this.entries.delete(e.correlationId);
      e.resolve(result(e, Outcome.TIMEOUT, now));
    }
  }
}

function result(e: Entry, outcome: OutcomeCode, now: number): CommandResult {
  return {
    outcome,
    correlationId: e.correlationId,
    orderId: e.orderId,
    rejectReason: e.rejectReason,
    seconds: (now - e.started) / 1000,
  };
}
