import t from 'tap';
import * as E from '../../engine/records/EventRecord.js';
import { History, HistoryLiquidity, MAX_HISTORY_LIMIT } from '../../journal/pg/History.js';
import { migrate } from '../../journal/pg/migrate.js';
import { PgWriter } from '../../journal/pg/PgWriter.js';
import { expectedOrders, feed, randomStream } from '../fixtures/pg/eventStream.js';
import { testDatabase } from '../fixtures/pg/testDatabase.js';

const stream = randomStream(3, 3000);

t.test('closed orders and trades of an account, newest first, paged, by symbol', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const w = new PgWriter({ sql: db.writerClient(), batchRows: 400 });
  await feed(w, stream);
  await w.close();
  const h = new History(db.sql);

  // Reference: closed orders per account from the OrderStore view; symbol and account from events.
  const meta = new Map<number, { account: number; symbol: number }>();
  for (let i = 0; i < stream.eventCount; i++) {
    const o = i * E.EVENT_SIZE;
    if (E.readType(stream.view, o) === E.EventType.ACCEPTED) {
      meta.set(E.readF64(stream.view, o, E.ORDER_ID), {
        account: E.readAccountId(stream.view, o),
        symbol: E.readSymbolId(stream.view, o),
      });
    }
  }
  const closed = expectedOrders(stream).filter((r) => r.status >= 3 && r.status <= 5);
  for (const account of [1, 2, 5]) {
    for (const symbolId of [0, 2]) {
      const want = closed
        .filter(
          (r) =>
            meta.get(r.order_id)!.account === account &&
            (symbolId === 0 || meta.get(r.order_id)!.symbol === symbolId),
        )
        .sort((a, b) => b.updated_at - a.updated_at || b.order_id - a.order_id)
        .map((r) => r.order_id);
      const got: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await h.closedOrders({ accountId: account, symbolId, limit: 37, cursor });
        if (!page.items.every((o) => o.accountId === account)) t.fail(`a page holds another account's order`);
        for (const o of page.items) got.push(o.orderId);
        cursor = page.next ?? undefined;
        pages++;
      } while (cursor !== undefined);
      t.same(
        got,
        want,
        `account ${account} symbol ${symbolId}: ${want.length} closed orders in ${pages} pages`,
      );
    }
  }

  // Trades: every FILL where the account is maker or taker, from its own side.
  for (const account of [1, 4]) {
    const want: string[] = [];
    for (let i = 0; i < stream.eventCount; i++) {
      const o = i * E.EVENT_SIZE;
      if (E.readType(stream.view, o) !== E.EventType.FILL) continue;
      const tradeId = E.readF64(stream.view, o, E.TRADE_ID);
      const ts = E.readTimestamp(stream.view, o);
      if (E.readU32(stream.view, o, E.MAKER_ACCOUNT_ID) === account)
        want.push(
          `${ts}/${tradeId}/${E.readF64(stream.view, o, E.MAKER_ORDER_ID)}/${HistoryLiquidity.MAKER}`,
        );
      if (E.readU32(stream.view, o, E.TAKER_ACCOUNT_ID) === account)
        want.push(
          `${ts}/${tradeId}/${E.readF64(stream.view, o, E.TAKER_ORDER_ID)}/${HistoryLiquidity.TAKER}`,
        );
    }
    want.sort((a, b) => {
      const [ta, ia] = a.split('/').map(Number);
      const [tb, ib] = b.split('/').map(Number);
      return tb - ta || ib - ia;
    });
    const got: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.trades({ accountId: account, limit: 50, cursor });
      for (const x of page.items) got.push(`${x.timestamp}/${x.tradeId}/${x.orderId}/${x.liquidity}`);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    t.same(got, want, `account ${account}: ${want.length} trades`);
    if (want.length > 0) {
      const orderId = Number(want[0].split('/')[2]);
      const ofOrder = await h.orderTrades(account, orderId);
      t.ok(ofOrder.length >= 1 && ofOrder.every((x) => x.orderId === orderId), 'trades of one order');
      t.same(await h.orderTrades(account + 100, orderId), [], "another account's order shows nothing");
    }
  }
});

t.test('bad arguments are refused with the value named', async (t) => {
  const db = await testDatabase(t);
  await migrate(db.sql);
  const h = new History(db.sql);
  await t.rejects(h.closedOrders({ accountId: 1, limit: MAX_HISTORY_LIMIT + 1 }), {
    code: 'EXC_ERR_PG_HISTORY',
    message: /1001/,
  });
  await t.rejects(h.trades({ accountId: 1, cursor: 'abc' }), {
    code: 'EXC_ERR_PG_HISTORY',
    message: /"abc"/,
  });
  await t.rejects(h.trades({ accountId: 1, symbolId: -1 }), { code: 'EXC_ERR_PG_HISTORY', message: /-1/ });
  t.same(await h.closedOrders({ accountId: 1 }), { items: [], next: null });
});
