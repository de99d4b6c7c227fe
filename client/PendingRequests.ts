/**
 * PendingRequests: the order requests of one ExchangeClient that wait for their execution report.
 *
 * The wire protocol has no request id: a NewOrder is answered by reports carrying its client order id;
 * a Cancel or Amend by reports about the target order, which carry its order id and client order id.
 * So requests are keyed per kind: NEW by client order id; CANCEL and AMEND by the order id when the
 * request named one, else by the client order id. Several requests with the same key (two amends of
 * one order) are answered first-in first-out, like the gateway processes them.
 *
 * Deadlines are checked by sweep(now), called from one timer of the client (no timer per request).
 * A request settles exactly once: by its report, by reject/rejectAll (disconnect), or by the sweep.
 * Not thread-safe: owned by one client on one thread.
 */
import { RequestTimeoutError } from './errors.js';
import type { OrderResult } from './reports.js';

export const RequestKind = { NEW: 0, CANCEL: 1, AMEND: 2 } as const;
export type RequestKindValue = (typeof RequestKind)[keyof typeof RequestKind];

const KIND_NAMES = ['order', 'cancel', 'amend'];

class Pending {
  /** Set once the request left the table (answered, timed out or rejected). */
  settled = false;
  constructor(
    readonly kind: number,
    readonly orderId: number,
    readonly clientOrderId: number,
    readonly deadline: number,
    readonly resolve: (r: OrderResult) => void,
    readonly reject: (e: Error) => void,
  ) {}
}

export class PendingRequests {
  private readonly byClientOrderId: Map<number, Pending[]>[] = [new Map(), new Map(), new Map()];
  private readonly byOrderId: Map<number, Pending[]>[] = [new Map(), new Map(), new Map()];
  /** Every unsettled request, oldest first (for the sweep and rejectAll). */
  private readonly all = new Set<Pending>();

  get size(): number {
    return this.all.size;
  }

  /**
   * Registers a request. `orderId` non-zero keys it by order id (CANCEL/AMEND naming an order id),
   * else by client order id. Resolves with the result or rejects (timeout, disconnect).
   */
  add(
    kind: RequestKindValue,
    orderId: number,
    clientOrderId: number,
    deadline: number,
  ): Promise<OrderResult> {
    return new Promise<OrderResult>((resolve, reject) => {
      const p = new Pending(kind, orderId, clientOrderId, deadline, resolve, reject);
      const map = orderId !== 0 ? this.byOrderId[kind] : this.byClientOrderId[kind];
      const key = orderId !== 0 ? orderId : clientOrderId;
      const queue = map.get(key);
      if (queue === undefined) map.set(key, [p]);
      else queue.push(p);
      this.all.add(p);
    });
  }

  /**
   * Settles the oldest request of `kind` about the order (`orderId`, `clientOrderId`) with `result`:
   * one keyed by order id first, else one keyed by client order id. Returns false when none waits.
   */
  settle(kind: RequestKindValue, orderId: number, clientOrderId: number, result: OrderResult): boolean {
    const p =
      (orderId !== 0 ? this.take(this.byOrderId[kind], orderId) : null) ??
      this.take(this.byClientOrderId[kind], clientOrderId);
    if (p === null) return false;
    p.resolve(result);
    return true;
  }

  /** Settles the oldest request of any kind keyed by `clientOrderId` (an Error frame names no kind). */
  settleAny(clientOrderId: number, result: OrderResult): boolean {
    for (let kind = 0; kind < this.byClientOrderId.length; kind++) {
      const p = this.take(this.byClientOrderId[kind], clientOrderId);
      if (p !== null) {
        p.resolve(result);
        return true;
      }
    }
    return false;
  }

  /** Rejects every request whose deadline is <= now with RequestTimeoutError. */
  sweep(now: number): void {
    for (const p of this.all) {
      if (p.deadline > now) continue;
      this.finish(p);
      const id = p.orderId !== 0 ? `order id ${p.orderId}` : `client order id ${p.clientOrderId}`;
      p.reject(new RequestTimeoutError(`no execution report for the ${KIND_NAMES[p.kind]} of ${id} in time`));
    }
  }

  rejectAll(err: Error): void {
    const waiting = [...this.all];
    this.all.clear();
    for (const m of this.byClientOrderId) m.clear();
    for (const m of this.byOrderId) m.clear();
    for (const p of waiting) {
      p.settled = true;
      p.reject(err);
    }
  }

  private take(map: Map<number, Pending[]>, key: number): Pending | null {
    const queue = map.get(key);
    if (queue === undefined) return null;
    const p = queue.shift() as Pending;
    if (queue.length === 0) map.delete(key);
    p.settled = true;
    this.all.delete(p);
    return p;
  }

  /** Removes a request that did not come out of take() from its key queue. */
  private finish(p: Pending): void {
    if (p.settled) return;
    p.settled = true;
    this.all.delete(p);
    const map = p.orderId !== 0 ? this.byOrderId[p.kind] : this.byClientOrderId[p.kind];
    const key = p.orderId !== 0 ? p.orderId : p.clientOrderId;
    const queue = map.get(key);
    if (queue === undefined) return;
    const i = queue.indexOf(p);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) map.delete(key);
  }
}
