/**
 * Request/response order entry on top of the pipeline: writes a command into its shard's ring, waits
 * for the command's events, and reports the outcome; keeps the OrderStore fed from every event.
 *
 * Used by the REST API. A WebSocket session reuses the same pieces directly (CommandWriter into the
 * ring, events routed by session id, the OrderStore for lookups) and need not wait on promises.
 * Before `connect()` (pipeline not started) and after `disconnect()`, every request answers
 * SHARD_DOWN. Thread-safety: main thread only.
 */

import { shardOf as shardOfOrderId } from '../../engine/records/OrderId.js';
import type { CommandPort } from './CommandPort.js';
import { CLAIM_BACK_PRESSURED } from './CommandPort.js';
import type { CommandWriter, NewOrderFields } from './CommandWriter.js';
import type { OrderRecord, OrderStore } from './OrderStore.js';
import { type CommandResult, Outcome, type OutcomeCode, type PendingRequests } from './PendingRequests.js';

const BUSY: CommandResult = failure(Outcome.BUSY);
const SHARD_DOWN: CommandResult = failure(Outcome.SHARD_DOWN);

export class OrderService {
  readonly writer: CommandWriter;
  readonly pending: PendingRequests;
  readonly store: OrderStore;
  private port: CommandPort | undefined;
  /** Bound once: hand this to the pipeline (or an event fan-out) as the per-event callback. */
  readonly onEvent: (shard: number, view: DataView, offset: number) => void;

  constructor(writer: CommandWriter, pending: PendingRequests, store: OrderStore) {
    this.writer = writer;
    this.pending = pending;
    this.store = store;
    this.port = undefined;
    this.onEvent = (shard, view, offset) => {
      // Note: the store first, so a request completed by this batch reads the state after matching.
      store.apply(view, offset);
      pending.onEvent(shard, view, offset);
    };
  }

  connect(port: CommandPort): void {
    this.port = port;
  }

  /** Stops intake; waiting requests resolve SHARD_DOWN. */
  disconnect(): void {
    this.port = undefined;
    this.pending.close(Outcome.SHARD_DOWN);
  }

  get connected(): boolean {
    return this.port !== undefined;
  }

  /** Sends a NEW_ORDER for `accountId` and resolves when its events have been applied. */
  place(accountId: number, sessionId: number, fields: NewOrderFields): Promise<CommandResult> {
    const port = this.port;
    if (port === undefined) return Promise.resolve(SHARD_DOWN);
    const shard = port.shardOf(fields.symbolId);
    const off = this.claim(port, shard);
    if (off < 0) return Promise.resolve(off === CLAIM_BACK_PRESSURED ? BUSY : SHARD_DOWN);
    const id = this.writer.newOrder(port.commandView(shard), off, accountId, sessionId, fields);
    return this.send(port, shard, id);
  }

  /** Sends a CANCEL of `order` (an open order of `accountId`) and resolves with its outcome. */
  cancel(accountId: number, sessionId: number, order: OrderRecord): Promise<CommandResult> {
    const port = this.port;
    if (port === undefined) return Promise.resolve(SHARD_DOWN);
    // Note: the order id carries its shard (engine/records/OrderId.ts): no lookup table.
    const shard = shardOfOrderId(order.orderId);
    const off = this.claim(port, shard);
    if (off < 0) return Promise.resolve(off === CLAIM_BACK_PRESSURED ? BUSY : SHARD_DOWN);
    const view = port.commandView(shard);
    const id = this.writer.cancel(view, off, accountId, sessionId, order.symbolId, order.orderId);
    return this.send(port, shard, id);
  }

  /** Claims a slot unless too many requests already wait (then BACK_PRESSURED without claiming). */
  private claim(port: CommandPort, shard: number): number {
    if (!this.pending.hasRoom()) return CLAIM_BACK_PRESSURED;
    return port.claimCommand(shard);
  }

  private send(port: CommandPort, shard: number, correlationId: number): Promise<CommandResult> {
    // Note: begin() before commit(), so an event source that delivers synchronously finds the entry.
    const done = this.pending.begin(correlationId)!;
    port.commitCommand(shard);
    return done;
  }
}

function failure(outcome: OutcomeCode): CommandResult {
  return Object.freeze({ outcome, correlationId: 0, orderId: 0, rejectReason: 0, seconds: 0 });
}
