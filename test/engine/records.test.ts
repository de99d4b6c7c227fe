import t from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { RecordBoundsError } from '../../engine/EngineError.js';
import { Reason, reasonName } from '../../engine/ResultCodes.js';
import * as C from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { counterOf, makeId, SHARD_SHIFT, shardOf } from '../../engine/records/OrderId.js';
import { decodeEvent } from '../fixtures/engine/EngineDriver.js';

t.test('command record: NEW_ORDER round trip at an offset, zeroed header rewrite', (t) => {
  const v = new DataView(new ArrayBuffer(C.COMMAND_SIZE * 3));
  const o = C.COMMAND_SIZE;
  new Uint8Array(v.buffer).fill(0xff);
  C.writeHeader(v, o, C.CommandType.NEW_ORDER, 65535, 2 ** 32 - 1, 7, 1_700_000_000_000_000, 2 ** 53 - 1, 42);
  C.writeNewOrder(v, o, 2, 4, 4, 1, 3, 9, 12345, 2 ** 52, 12000, 10, 5, 1_700_000_000_500_000);
  t.equal(C.readType(v, o), C.CommandType.NEW_ORDER);
  t.equal(C.readSymbolId(v, o), 65535);
  t.equal(C.readAccountId(v, o), 2 ** 32 - 1);
  t.equal(C.readSessionId(v, o), 7);
  t.equal(C.readTimestamp(v, o), 1_700_000_000_000_000);
  t.equal(C.readCorrelationId(v, o), 2 ** 53 - 1);
  t.equal(C.readClientOrderId(v, o), 42);
  t.equal(C.readSide(v, o), 2);
  t.equal(C.readOrderType(v, o), 4);
  t.equal(C.readTimeInForce(v, o), 4);
  t.equal(C.readFlags(v, o), 1);
  t.equal(C.readStpMode(v, o), 3);
  t.equal(C.readTradeGroup(v, o), 9);
  t.equal(C.readPrice(v, o), 12345);
  t.equal(C.readQuantity(v, o), 2 ** 52);
  t.equal(C.readStopPrice(v, o), 12000);
  t.equal(C.readDisplayQty(v, o), 10);
  t.equal(C.readMinQty(v, o), 5);
  t.equal(C.readExpireTime(v, o), 1_700_000_000_500_000);
  // Reserved bytes are zero; neighbours untouched.
  t.equal(v.getUint16(o + 6, true), 0);
  t.equal(v.getUint8(o - 1), 0xff);
  t.equal(v.getUint8(o + C.COMMAND_SIZE), 0xff);
  t.end();
});

t.test('command record: CANCEL, AMEND, MASS_CANCEL, ADD_SYMBOL', (t) => {
  const v = new DataView(new ArrayBuffer(C.COMMAND_SIZE));
  C.writeHeader(v, 0, C.CommandType.AMEND, 1, 2, 3, 4, 5, 6);
  C.writeAmend(v, 0, 2 ** 40 + 5, 101, 9);
  t.equal(C.readOrderId(v, 0), 2 ** 40 + 5);
  t.equal(C.readPrice(v, 0), 101);
  t.equal(C.readQuantity(v, 0), 9);
  C.writeHeader(v, 0, C.CommandType.CANCEL, 1, 2, 3, 4, 5, 6);
  C.writeCancel(v, 0, 77);
  t.equal(C.readOrderId(v, 0), 77);
  t.equal(C.readPrice(v, 0), 0);
  C.writeHeader(v, 0, C.CommandType.MASS_CANCEL, 0, 2, 3, 4, 5, 0);
  C.writeMassCancel(v, 0, 1);
  t.equal(C.readSide(v, 0), 1);
  C.writeHeader(v, 0, C.CommandType.ADD_SYMBOL, 1, 0, 0, 0, 0, 0);
  C.writeAddSymbol(v, 0, 1, 2, 3, 4, 5, 6, 700);
  t.same(
    [
      C.SYM_MIN_PRICE,
      C.SYM_MAX_PRICE,
      C.SYM_MIN_QTY,
      C.SYM_MAX_QTY,
      C.SYM_MAX_NOTIONAL,
      C.SYM_REFERENCE_PRICE,
    ].map((f) => v.getFloat64(f, true)),
    [1, 2, 3, 4, 5, 6],
  );
  t.equal(v.getUint32(C.SYM_PRICE_BAND_BPS, true), 700);
  t.end();
});

t.test('checkCapacity names the bad offset', (t) => {
  const v = new DataView(new ArrayBuffer(100));
  C.checkCapacity(v, 4);
  t.throws(() => C.checkCapacity(v, 5), {
    code: 'EXC_ERR_RECORD_BOUNDS',
    message: /offset 5 needs 96 bytes; view has 100/,
  });
  t.throws(() => C.checkCapacity(v, -1), RecordBoundsError);
  t.throws(() => C.checkCapacity(v, 1.5), RecordBoundsError);
  const w = new DataView(new ArrayBuffer(E.EVENT_SIZE));
  E.checkCapacity(w, 0);
  t.throws(() => E.checkCapacity(w, 8), {
    code: 'EXC_ERR_RECORD_BOUNDS',
    message: /offset 8 needs 128 bytes/,
  });
  t.end();
});

t.test('event record writers fill all 128 bytes; decode round trip', (t) => {
  const v = new DataView(new ArrayBuffer(E.EVENT_SIZE));
  const dirty = () => new Uint8Array(v.buffer).fill(0xab);
  dirty();
  E.writeHeader(v, 0, E.EventType.ACCEPTED, 1, 0, 3, 10, 20, 30, 40, 50);
  E.writeOrderBody(v, 0, 2 ** 40 + 1, 11, 100, 0, 10, 0, 10, 3, 0, 40, 5, 1, 1, 1, 0, 0);
  const a = decodeEvent(v, 0);
  t.match(a, {
    type: 'ACCEPTED',
    side: 1,
    reason: 'NONE',
    symbolId: 3,
    seq: 10,
    timestamp: 20,
    correlationId: 30,
  });
  t.match(a, {
    sessionId: 40,
    accountId: 50,
    orderId: 2 ** 40 + 1,
    clientOrderId: 11,
    price: 100,
    quantity: 10,
  });
  t.match(a, {
    leavesQty: 10,
    displayQty: 3,
    orderSessionId: 40,
    tradeGroup: 5,
    orderType: 1,
    timeInForce: 1,
  });
  t.same([...new Uint8Array(v.buffer, 125, 3)], [0, 0, 0]);

  dirty();
  E.writeHeader(v, 0, E.EventType.SELF_TRADE_PREVENTED, 2, 0, 1, 1, 1, 1, 1, 0);
  E.writeMatchBody(v, 0, false, 3, 100, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  t.same([...new Uint8Array(v.buffer, 41, 7)], [0, 0, 0, 0, 0, 0, 0]);
  t.match(decodeEvent(v, 0), {
    type: 'SELF_TRADE_PREVENTED',
    stpMode: 3,
    makerSessionId: 8,
    takerSessionId: 10,
  });

  dirty();
  E.writeHeader(v, 0, E.EventType.L2_UPDATE, 2, 0, 1, 1, 1, 1, 1, 0);
  E.writeL2Body(v, 0, 100, 7, 2);
  t.match(decodeEvent(v, 0), { type: 'L2_UPDATE', price: 100, quantity: 7, orderCount: 2 });
  t.ok(new Uint8Array(v.buffer, 60).every((b) => b === 0));

  dirty();
  E.writeHeader(v, 0, E.EventType.BBO, 0, 0, 1, 1, 1, 1, 1, 0);
  E.writeBboBody(v, 0, 99, 1, 101, 2);
  t.match(decodeEvent(v, 0), { type: 'BBO', bidPrice: 99, bidQty: 1, askPrice: 101, askQty: 2 });
  t.ok(new Uint8Array(v.buffer, 72).every((b) => b === 0));
  t.equal(E.readReason(v, 0), 0);
  t.end();
});

t.test('order ids carry the shard', (t) => {
  const id = makeId(8191, 2 ** 40 - 1);
  t.equal(id, Number.MAX_SAFE_INTEGER);
  t.equal(shardOf(id), 8191);
  t.equal(counterOf(id), 2 ** 40 - 1);
  t.equal(shardOf(makeId(3, 1)), 3);
  t.equal(SHARD_SHIFT, 2 ** 40);
  t.end();
});

t.test('reason codes: ranges and names', (t) => {
  for (const [name, code] of Object.entries(Reason)) {
    t.equal(reasonName(code), name);
    if (name.startsWith('INVALID_') || name === 'UNKNOWN_COMMAND' || name === 'UNKNOWN_SYMBOL') {
      t.ok(code >= 100 && code < 200, name);
    }
  }
  t.equal(reasonName(9999), 'UNKNOWN_9999');
  t.end();
});

t.test('EventBuffer grows, keeps earlier events, clears', (t) => {
  const b = new EventBuffer(1);
  const o1 = b.claim();
  b.view.setFloat64(o1 + E.SEQ, 1, true);
  const o2 = b.claim();
  b.view.setFloat64(o2 + E.SEQ, 2, true);
  b.commit();
  t.equal(b.count, 2);
  t.equal(b.commits, 1);
  t.equal(b.offsetOf(1), E.EVENT_SIZE);
  t.equal(E.readSeq(b.view, 0), 1);
  t.equal(E.readSeq(b.view, E.EVENT_SIZE), 2);
  t.equal(b.written().length, 2 * E.EVENT_SIZE);
  b.clear();
  t.equal(b.count, 0);
  t.throws(() => new EventBuffer(0), { code: 'EXC_ERR_ENGINE_CONFIG' });
  t.end();
});
