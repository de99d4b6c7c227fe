/**
 * Re-seeds the gateway's views after a crash recovery. The shards rebuilt their books from the newest
 * snapshot and the WAL, but the gateway's views (OrderStore, the WebSocket client-order index, the
 * market-data book mirror) are built from events, and the recovered state was replayed into a
 * discarding sink. The shards report their open orders instead (`Pipeline.recovered(k).openOrders`,
 * rows of OPEN_ORDER_FIELDS); this turns them into the events that would have built the same views:
 *
 *   per open order, in the engine's order (price-time within each level):  ACCEPTED with the order's
 *     current fields (filledQty may be > 0: the OrderStore takes it as it is), and TRIGGERED after it
 *     for a stop order that already triggered
 *   per (symbol, side, price) of the resting, non-stop orders:  L2_UPDATE (displayed qty, order count)
 *   per symbol with open orders:  BBO
 *
 * Every synthetic event carries seq = the shard's recovered event seq (no new sequence number is
 * consumed), correlation id 0 and session id 0, so no pending request matches it and no session
 * receives it (there are none: seeding runs before the listen socket opens). Untriggered stops get
 * ACCEPTED only (they are not in the book).
 * Called once per shard by server.ts, after Pipeline.start() and before listening.
 * Thread-safety: main thread only.
 */

import * as E from '../../engine/records/EventRecord.js';
import { OrderType, Side } from '../../engine/records/OrderCodes.js';
import type { EventHandler } from '../../engine/runtime/EventDispatcher.js';
import {
  OPEN_ORDER_FIELDS,
  OPEN_ORDER_STRIDE,
  type RecoveredShard,
} from '../../engine/runtime/ShardRecovery.js';

const F = Object.fromEntries(OPEN_ORDER_FIELDS.map((name, i) => [name, i])) as Record<
  (typeof OPEN_ORDER_FIELDS)[number],
  number
>;

interface Level {
  qty: number;
  count: number;
}

/** Feeds the synthetic events for `recovered` (shard `shardId`) to `onEvent`; returns how many. */
export function seedFromRecovery(shardId: number, recovered: RecoveredShard, onEvent: EventHandler): number {
  const rows = recovered.openOrders;
  const n = rows.length / OPEN_ORDER_STRIDE;
  const seq = recovered.eventSeq;
  const view = new DataView(new ArrayBuffer(E.EVENT_SIZE));
  // symbolId -> side -> price -> level (insertion order of prices is irrelevant: sorted below)
  const books = new Map<number, [Map<number, Level>, Map<number, Level>]>();
  let emitted = 0;
  for (let i = 0; i < n; i++) {
    const r = i * OPEN_ORDER_STRIDE;
    const symbolId = rows[r + F.symbolId];
    const side = rows[r + F.side];
    E.writeHeader(view, 0, E.EventType.ACCEPTED, side, 0, symbolId, seq, 0, 0, 0, rows[r + F.accountId]);
    E.writeOrderBody(
      view,
      0,
      rows[r + F.orderId],
      rows[r + F.clientOrderId],
      rows[r + F.price],
      rows[r + F.stopPrice],
      rows[r + F.quantity],
      rows[r + F.filledQty],
      rows[r + F.leavesQty],
      rows[r + F.displayQty],
      rows[r + F.expireTime],
      rows[r + F.sessionId],
      rows[r + F.tradeGroup],
      rows[r + F.orderType],
      rows[r + F.timeInForce],
      rows[r + F.flags],
      rows[r + F.stpMode],
      0,
    );
    onEvent(shardId, view, 0);
    emitted++;
    if (rows[r + F.isStop] !== 0) continue;
    const type = rows[r + F.orderType];
    if (type === OrderType.STOP || type === OrderType.STOP_LIMIT) {
      // A stop that already triggered (it rests in the book): its TRIGGERED event, same body.
      view.setUint8(E.TYPE, E.EventType.TRIGGERED);
      onEvent(shardId, view, 0);
      emitted++;
    }
    let book = books.get(symbolId);
    if (book === undefined) {
      book = [new Map(), new Map()];
      books.set(symbolId, book);
    }
    const levels = side === Side.BUY ? book[0] : book[1];
    const price = rows[r + F.price];
    const level = levels.get(price);
    if (level === undefined) levels.set(price, { qty: rows[r + F.visibleQty], count: 1 });
    else {
      level.qty += rows[r + F.visibleQty];
      level.count++;
    }
  }
  for (const symbolId of [...books.keys()].sort((a, b) => a - b)) {
    const [bids, asks] = books.get(symbolId) as [Map<number, Level>, Map<number, Level>];
    const bidPrices = [...bids.keys()].sort((a, b) => b - a);
    const askPrices = [...asks.keys()].sort((a, b) => a - b);
    for (const [side, levels, prices] of [
      [Side.BUY, bids, bidPrices],
      [Side.SELL, asks, askPrices],
    ] as const) {
      for (const price of prices) {
        const level = levels.get(price) as Level;
        E.writeHeader(view, 0, E.EventType.L2_UPDATE, side, 0, symbolId, seq, 0, 0, 0, 0);
        E.writeL2Body(view, 0, price, level.qty, level.count);
        onEvent(shardId, view, 0);
        emitted++;
      }
    }
    const bid = bidPrices.length > 0 ? bidPrices[0] : 0;
    const ask = askPrices.length > 0 ? askPrices[0] : 0;
    E.writeHeader(view, 0, E.EventType.BBO, 0, 0, symbolId, seq, 0, 0, 0, 0);
    E.writeBboBody(
      view,
      0,
      bid,
      bid === 0 ? 0 : (bids.get(bid) as Level).qty,
      ask,
      ask === 0 ? 0 : (asks.get(ask) as Level).qty,
    );
    onEvent(shardId, view, 0);
    emitted++;
  }
  return emitted;
}
