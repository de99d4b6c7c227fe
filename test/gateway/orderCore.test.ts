import t from 'tap';
import { Reason } from '../../engine/ResultCodes.js';
import * as C from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { OrderType, Side, StpMode, TimeInForce } from '../../engine/records/OrderCodes.js';
import { CLAIM_BACK_PRESSURED } from '../../gateway/orders/CommandPort.js';
import { CommandWriter, emptyNewOrder, type NewOrderFields } from '../../gateway/orders/CommandWriter.js';
import { OrderService } from '../../gateway/orders/OrderService.js';
import { CLOSED_MASK, Liquidity, OPEN_MASK, OrderStore } from '../../gateway/orders/OrderStore.js';
import { OrderStatus } from '../../gateway/orders/OrderVocabulary.js';
import { Outcome, PendingRequests } from '../../gateway/orders/PendingRequests.js';
import { InProcessPort, TEST_SYMBOL } from '../fixtures/gateway/InProcessPort.js';

const ANY = { statusMask: 0, symbolId: 0, side: 0 };

function order(
  side: number,
  qty: number,
  price: number,
  extra: Partial<NewOrderFields> = {},
): NewOrderFields {
  return {
    ...emptyNewOrder(),
    symbolId: TEST_SYMBOL.id,
    side,
    orderType: OrderType.LIMIT,
    timeInForce: TimeInForce.GTC,
    quantity: qty,
    price,
    ...extra,
  };
}

function setup(store = new OrderStore(), timeoutMs = 2000) {
  let clock = 1_000_000;
  const pending = new PendingRequests({ capacity: 4, timeoutMs });
  const service = new OrderService(new CommandWriter(() => (clock += 1000)), pending, store);
  const port = new InProcessPort(service.onEvent);
  service.connect(port);
  return { service, port, store, pending };
}

t.test('CommandWriter stamps timestamp and a fresh correlation id into the record', async (t) => {
  const view = new DataView(new ArrayBuffer(C.COMMAND_SIZE));
  let now = 123;
  const w = new CommandWriter(() => now++);
  const id1 = w.newOrder(view, 0, 7, 3, order(Side.BUY, 5, 1000, { clientOrderId: 42 }));
  t.equal(C.readType(view, 0), C.CommandType.NEW_ORDER);
  t.equal(C.readAccountId(view, 0), 7);
  t.equal(C.readSessionId(view, 0), 3);
  t.equal(C.readTimestamp(view, 0), 123);
  t.equal(C.readCorrelationId(view, 0), id1);
  t.equal(C.readClientOrderId(view, 0), 42);
  t.equal(C.readQuantity(view, 0), 5);
  t.equal(C.readPrice(view, 0), 1000);
  const id2 = w.cancel(view, 0, 7, 3, 1, 99);
  t.equal(id2, id1 + 1);
  t.equal(C.readOrderId(view, 0), 99);
  t.equal(C.readPrice(view, 0), 0, 'record zeroed before writing');
  t.equal(w.cancelByClientId(view, 0, 7, 3, 1, 42), id1 + 2);
  t.equal(C.readType(view, 0), C.CommandType.CANCEL_BY_CLIENT_ID);
  t.equal(w.amend(view, 0, 7, 3, 1, 99, 1001, 6), id1 + 3);
  t.equal(C.readQuantity(view, 0), 6);
  t.equal(w.massCancel(view, 0, 7, 3, 0, Side.SELL), id1 + 4);
  t.equal(C.readSide(view, 0), Side.SELL);
  t.equal(w.lastTimestamp, 127);
});

t.test('place: accepted order rests; a crossing order fills both; state is after matching', async (t) => {
  const { service, store } = setup();
  const sell = await service.place(1, 9, order(Side.SELL, 10, 1000));
  t.equal(sell.outcome, Outcome.DONE);
  t.equal(sell.rejectReason, 0);
  t.ok(sell.orderId > 0);
  t.equal(store.get(sell.orderId)?.status, OrderStatus.NEW);

  const buy = await service.place(2, 9, order(Side.BUY, 4, 1005));
  const taker = store.get(buy.orderId)!;
  const maker = store.get(sell.orderId)!;
  t.equal(taker.status, OrderStatus.FILLED, 'the reply sees the fill of its own command');
  t.equal(taker.filledQty, 4);
  t.equal(taker.notional, 4000);
  t.equal(taker.fills[0].liquidity, Liquidity.TAKER);
  t.equal(maker.status, OrderStatus.PARTIALLY_FILLED);
  t.equal(maker.leavesQty, 6);
  t.equal(maker.fills[0].liquidity, Liquidity.MAKER);
  t.equal(maker.fills[0].price, 1000);
  t.equal(maker.lastPrice, 1000);
  t.equal(maker.lastQty, 4);
  t.equal(store.openCount, 1);

  const cancel = await service.cancel(1, 9, maker);
  t.equal(cancel.outcome, Outcome.DONE);
  t.equal(cancel.orderId, maker.orderId);
  t.equal(maker.status, OrderStatus.CANCELED);
  t.equal(maker.reason, Reason.USER_CANCEL);
  t.equal(maker.filledQty, 4);
  t.equal(maker.leavesQty, 0);
  const again = await service.cancel(1, 9, maker);
  t.equal(again.rejectReason, Reason.ORDER_NOT_FOUND);
});

t.test('place: engine rejects come back with their reason', async (t) => {
  const { service, store } = setup();
  const r = await service.place(1, 9, order(Side.BUY, 1, 99_999));
  t.equal(r.rejectReason, Reason.PRICE_OUT_OF_RANGE);
  t.equal(r.orderId, 0);
  t.equal(store.size, 0);
});

t.test('stop orders, STP decrement and amend update the store', async (t) => {
  const { service, store, port } = setup();
  const stop = await service.place(
    1,
    9,
    order(Side.BUY, 2, 0, { orderType: OrderType.STOP, stopPrice: 1010 }),
  );
  t.equal(store.get(stop.orderId)?.status, OrderStatus.PENDING_TRIGGER);
  // A trade at 1010 triggers the stop, which then finds nothing to buy and is cancelled (IOC).
  await service.place(2, 9, order(Side.SELL, 1, 1010));
  await service.place(3, 9, order(Side.BUY, 1, 1010));
  const s = store.get(stop.orderId)!;
  t.equal(s.triggered, true);
  t.equal(s.status, OrderStatus.CANCELED);
  t.equal(s.reason, Reason.IOC_UNFILLED);

  const maker = await service.place(4, 9, order(Side.SELL, 5, 1000));
  const taker = await service.place(4, 9, order(Side.BUY, 3, 1000, { stpMode: StpMode.DECREMENT }));
  t.equal(store.get(maker.orderId)?.quantity, 2, 'maker decremented');
  t.equal(store.get(maker.orderId)?.leavesQty, 2);
  t.equal(store.get(taker.orderId)?.status, OrderStatus.CANCELED);

  // AMEND through the writer directly (REST has no amend route; sessions will use it).
  const view = port.commandView();
  service.writer.amend(view, port.claimCommand(), 4, 9, TEST_SYMBOL.id, maker.orderId, 1001, 4);
  port.commitCommand();
  await new Promise((r) => setImmediate(r));
  t.equal(store.get(maker.orderId)?.price, 1001);
  t.equal(store.get(maker.orderId)?.quantity, 4);
});

t.test('BUSY and SHARD_DOWN never claim or wait', async (t) => {
  const { service, port } = setup();
  port.refuse = CLAIM_BACK_PRESSURED;
  t.equal((await service.place(1, 9, order(Side.BUY, 1, 1000))).outcome, Outcome.BUSY);
  port.refuse = -4;
  t.equal((await service.place(1, 9, order(Side.BUY, 1, 1000))).outcome, Outcome.SHARD_DOWN);
  t.equal(port.commands, 0);
  port.refuse = 0;
  service.disconnect();
  t.equal(service.connected, false);
  t.equal((await service.place(1, 9, order(Side.BUY, 1, 1000))).outcome, Outcome.SHARD_DOWN);
});

t.test('PendingRequests: bounded, times out, waits for unsettled shards, closes', async (t) => {
  const pending = new PendingRequests({ capacity: 2, timeoutMs: 30 });
  // Note: the sweeper timer is unref'd (a server's listen socket keeps the process alive): hold it here.
  const keepAlive = setTimeout(() => undefined, 5000);
  t.teardown(() => clearTimeout(keepAlive));
  const a = pending.begin(1)!;
  t.ok(pending.begin(2));
  t.equal(pending.hasRoom(), false);
  t.equal(pending.begin(3), null, 'full');
  const ra = await a;
  t.equal(ra.outcome, Outcome.TIMEOUT);
  t.ok(ra.seconds >= 0.02);
  t.equal(pending.size, 0);

  let settled = false;
  const manual = new PendingRequests({
    capacity: 4,
    timeoutMs: 5000,
    autoFlush: false,
    settled: () => settled,
  });
  const p = manual.begin(7)!;
  const ev = new DataView(new ArrayBuffer(E.EVENT_SIZE));
  E.writeHeader(ev, 0, E.EventType.ACCEPTED, 1, 0, 1, 1, 0, 7, 9, 1);
  ev.setFloat64(E.ORDER_ID, 55, true);
  manual.onEvent(0, ev, 0);
  manual.onEvent(0, ev, 0);
  manual.endOfBatch();
  t.equal(manual.size, 1, 'unsettled shard: still waiting');
  settled = true;
  manual.endOfBatch();
  const r = await p;
  t.equal(r.outcome, Outcome.DONE);
  t.equal(r.orderId, 55);
  const q = manual.begin(8)!;
  manual.close();
  t.equal((await q).outcome, Outcome.SHARD_DOWN);
  t.throws(() => new PendingRequests({ capacity: 0, timeoutMs: 1 }), RangeError);
  t.throws(() => new PendingRequests({ capacity: 1, timeoutMs: 0 }), RangeError);
});

t.test('OrderStore keeps open orders, the last N closed per account, and a global cap', async (t) => {
  const store = new OrderStore({ maxClosedPerAccount: 3, maxClosedTotal: 5, maxFillsPerOrder: 2 });
  const { service } = setup(store);
  const resting = await service.place(1, 9, order(Side.SELL, 1, 1500)); // stays open
  const closedIds: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await service.place(1, 9, order(Side.BUY, 1, 600 + i, { timeInForce: TimeInForce.IOC }));
    closedIds.push(r.orderId);
  }
  t.equal(store.closedCount, 3, 'account 1 keeps its last 3 closed');
  t.equal(store.evicted, 2);
  t.equal(store.get(closedIds[0]), undefined, 'oldest closed evicted');
  t.ok(store.get(closedIds[4]));
  t.ok(store.get(resting.orderId), 'open orders are never evicted');
  for (let i = 0; i < 3; i++)
    await service.place(2, 9, order(Side.BUY, 1, 700 + i, { timeInForce: TimeInForce.IOC }));
  t.equal(store.closedCount, 5, 'global cap');
  t.equal(store.get(closedIds[2]), undefined, 'globally oldest closed evicted first');

  const all = store.list(1, ANY, 10);
  t.same(
    all.orders.map((o) => o.orderId),
    [closedIds[4], closedIds[3], resting.orderId],
    'newest first, evicted ones skipped',
  );
  const open = store.list(1, { statusMask: OPEN_MASK, symbolId: 0, side: 0 }, 10);
  t.same(
    open.orders.map((o) => o.orderId),
    [resting.orderId],
  );
  const closed = store.list(1, { statusMask: CLOSED_MASK, symbolId: 0, side: Side.BUY }, 1);
  t.same(
    closed.orders.map((o) => o.orderId),
    [closedIds[4]],
  );
  t.ok(closed.nextSeq > 0);
  const next = store.list(1, { statusMask: CLOSED_MASK, symbolId: 0, side: Side.BUY }, 1, closed.nextSeq);
  t.same(
    next.orders.map((o) => o.orderId),
    [closedIds[3]],
  );
  t.equal(store.list(1, { statusMask: 0, symbolId: 99, side: 0 }, 10).orders.length, 0);
  t.equal(store.list(42, ANY, 10).orders.length, 0, 'unknown account');
  t.equal(store.getOwned(2, resting.orderId), undefined, "another account's order is invisible");
  t.ok(store.getOwned(1, resting.orderId));

  // fills are capped per order, counted beyond
  for (let i = 0; i < 3; i++) await service.place(3, 9, order(Side.SELL, 1, 1000));
  const big = await service.place(4, 9, order(Side.BUY, 3, 1000));
  const rec = store.get(big.orderId)!;
  t.equal(rec.fillCount, 3);
  t.equal(rec.fills.length, 2);
  t.throws(() => new OrderStore({ maxClosedTotal: 0 }), RangeError);
});

t.test('OrderStore compacts after many evictions', async (t) => {
  const store = new OrderStore({ maxClosedPerAccount: 2, maxClosedTotal: 1000 });
  const { service } = setup(store);
  for (let i = 0; i < 200; i++)
    await service.place(1, 9, order(Side.BUY, 1, 600, { timeInForce: TimeInForce.IOC }));
  t.equal(store.size, 2);
  t.equal(store.evicted, 198);
  t.equal(store.list(1, ANY, 1000).orders.length, 2);
});
