/**
 * Open orders by (account, symbol, client order id) -> order id, kept from the shards' events, so an
 * Amend that names its order by client order id is resolved in O(1) (the engine amends by order id
 * only; it keys open client order ids per symbol and account the same way: DUPLICATE_CLIENT_ORDER_ID).
 *
 * Fed by OrderEntryGateway with every event (after the OrderStore): ACCEPTED adds, CANCELLED and
 * EXPIRED remove, a FILL that leaves an order with nothing open removes it. Client order id 0 is
 * never indexed. Thread-safety: main thread only.
 */
export class ClientOrderIndex {
  private readonly accounts = new Map<number, Map<number, Map<number, number>>>();

  get size(): number {
    let n = 0;
    for (const symbols of this.accounts.values()) for (const ids of symbols.values()) n += ids.size;
    return n;
  }

  add(accountId: number, symbolId: number, clientOrderId: number, orderId: number): void {
    if (clientOrderId === 0) return;
    let symbols = this.accounts.get(accountId);
    if (symbols === undefined) {
      symbols = new Map();
      this.accounts.set(accountId, symbols);
    }
    let ids = symbols.get(symbolId);
    if (ids === undefined) {
      ids = new Map();
      symbols.set(symbolId, ids);
    }
    ids.set(clientOrderId, orderId);
  }

  /** Removes the entry if it still points at `orderId` (a newer order may reuse the client id). */
  remove(accountId: number, symbolId: number, clientOrderId: number, orderId: number): void {
    if (clientOrderId === 0) return;
    const symbols = this.accounts.get(accountId);
    const ids = symbols?.get(symbolId);
    if (ids === undefined || ids.get(clientOrderId) !== orderId) return;
    ids.delete(clientOrderId);
    if (ids.size === 0) {
      symbols!.delete(symbolId);
      if (symbols!.size === 0) this.accounts.delete(accountId);
    }
  }

  /** The open order's id, or 0. */
  get(accountId: number, symbolId: number, clientOrderId: number): number {
    return this.accounts.get(accountId)?.get(symbolId)?.get(clientOrderId) ?? 0;
  }
}
