// FrameVerifier: one hand-crafted bad frame per reason code (golden vectors with surgery applied),
// the limits, the direction rules, and the result-code texts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Builder } from 'flatbuffers';
import t from 'tap';
import { ClientEncoder, NewOrderFields } from '../../schema/codec/client-encoder.js';
import { GatewayEncoder, LevelColumns } from '../../schema/codec/gateway-encoder.js';
import { MAX_BATCH_ITEMS } from '../../schema/codec/protocol.js';
import {
  BatchItemVt,
  BatchVt,
  BookSnapshotVt,
  HeartbeatVt,
  LevelStruct,
  LogonRejectVt,
  LogonVt,
  MessageVt,
  NewOrderVt,
  SymbolInfoVt,
  SymbolListVt,
} from '../../schema/generated/layout.js';
import { SchemaError } from '../../schema/schema-error.js';
import {
  CLIENT_FRAME_LIMITS,
  Direction,
  FrameVerifier,
  MIN_FRAME_BYTES,
  VerifyResult,
  verifyReasonText,
  verifyReasonUtf8,
} from '../../schema/verify.js';
import { ROOT } from './fixtures/frames.js';

/** A copy of a golden vector with helpers to find and patch its structures. */
class Frame {
  readonly b: Uint8Array;
  private readonly dv: DataView;

  constructor(source: Uint8Array | string) {
    const bytes =
      typeof source === 'string' ? readFileSync(join(ROOT, 'schema', 'vectors', `${source}.bin`)) : source;
    this.b = new Uint8Array(bytes);
    this.dv = new DataView(this.b.buffer);
  }

  u16(p: number) {
    return this.dv.getUint16(p, true);
  }
  u32(p: number) {
    return this.dv.getUint32(p, true);
  }
  setU8(p: number, v: number) {
    this.b[p] = v;
    return this;
  }
  setU16(p: number, v: number) {
    this.dv.setUint16(p, v, true);
    return this;
  }
  setU32(p: number, v: number) {
    this.dv.setUint32(p, v >>> 0, true);
    return this;
  }
  get root() {
    return this.u32(0);
  }
  vt(pos: number) {
    return pos - this.dv.getInt32(pos, true);
  }
  /** Absolute position of the vtable entry of a field. */
  entry(pos: number, vtOffset: number) {
    return this.vt(pos) + vtOffset;
  }
  field(pos: number, vtOffset: number) {
    const o = this.u16(this.entry(pos, vtOffset));
    return o === 0 ? 0 : pos + o;
  }
  target(pos: number, vtOffset: number) {
    const p = this.field(pos, vtOffset);
    return p + this.u32(p);
  }
  get body() {
    return this.target(this.root, MessageVt.body);
  }
}

const any = new FrameVerifier(Direction.Any);
const inbound = new FrameVerifier(Direction.ClientToGateway);
const V = VerifyResult;

t.test('reason codes: envelope', async (t) => {
  const ok = new Frame('NewOrder');
  t.equal(inbound.verify(ok.b), V.OK);
  t.equal(inbound.errorOffset, -1);

  t.equal(inbound.verify(ok.b, ok.b.length + 1), V.INVALID_ARGUMENT, 'length beyond the array');
  t.equal(inbound.verify(ok.b, -1), V.INVALID_ARGUMENT, 'negative length');
  t.equal(inbound.verify(ok.b, 20.5), V.INVALID_ARGUMENT, 'fractional length');
  t.equal(inbound.verify(ok.b, Number.NaN), V.INVALID_ARGUMENT, 'NaN length');

  t.equal(inbound.verify(ok.b, MIN_FRAME_BYTES - 1), V.FRAME_TOO_SMALL);
  t.equal(inbound.verify(new Uint8Array(0)), V.FRAME_TOO_SMALL);
  t.equal(inbound.verify(new Uint8Array(CLIENT_FRAME_LIMITS.maxFrameBytes + 1)), V.FRAME_TOO_LARGE);
  t.equal(new FrameVerifier(Direction.Any, { maxFrameBytes: 64 }).verify(ok.b), V.FRAME_TOO_LARGE);

  t.equal(inbound.verify(new Frame('NewOrder').setU8(7, 0x32).b), V.BAD_FILE_IDENTIFIER, 'EXv2');
  t.equal(inbound.errorOffset, 4);

  t.equal(inbound.verify(new Frame('NewOrder').setU32(0, 4).b), V.BAD_ROOT_OFFSET, 'root inside the header');
  t.equal(inbound.verify(new Frame('NewOrder').setU32(0, 18).b), V.BAD_ROOT_OFFSET, 'root misaligned');
  t.equal(inbound.verify(ok.b, ok.root + 3), V.BAD_ROOT_OFFSET, 'root past the end (truncated frame)');
  t.equal(inbound.verify(new Frame('NewOrder').setU32(0, 0xfffffffc).b), V.BAD_ROOT_OFFSET, 'root huge');
});

t.test('reason codes: tables and vtables', async (t) => {
  const f = new Frame('NewOrder');
  const order = f.body;
  const vt = f.vt(order);
  const tableSize = f.u16(vt + 2);

  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(order, order + 8).b),
    V.BAD_VTABLE_OFFSET,
    'vtable < 0',
  );
  t.equal(inbound.verify(new Frame('NewOrder').setU32(order, -4096).b), V.BAD_VTABLE_OFFSET, 'vtable > end');
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(order, order - vt + 1).b),
    V.BAD_VTABLE_OFFSET,
    'odd vtable',
  );

  t.equal(inbound.verify(new Frame('NewOrder').setU16(vt, 2).b), V.BAD_VTABLE_SIZE, 'vtable size < 4');
  t.equal(inbound.verify(new Frame('NewOrder').setU16(vt, 27).b), V.BAD_VTABLE_SIZE, 'odd vtable size');
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(vt, 0xfffe).b),
    V.BAD_VTABLE_SIZE,
    'vtable past the end',
  );
  t.equal(inbound.errorOffset, vt);

  t.equal(inbound.verify(new Frame('NewOrder').setU16(vt + 2, 2).b), V.BAD_TABLE_SIZE, 'table size < 4');
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(vt + 2, 0xfff0).b),
    V.BAD_TABLE_SIZE,
    'table past the end',
  );

  const price = f.entry(order, NewOrderVt.price);
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(price, 2).b),
    V.FIELD_OUT_OF_BOUNDS,
    'field offset < 4',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(price, tableSize).b),
    V.FIELD_OUT_OF_BOUNDS,
    'field offset = table size',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(f.entry(order, NewOrderVt.symbolId), tableSize - 2).b),
    V.FIELD_OUT_OF_BOUNDS,
    '4-byte field straddling the table end',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(price, f.u16(price) - 4).b),
    V.MISALIGNED,
    'int64 field on a 4-byte boundary',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(price, f.u16(price) + 1).b),
    V.MISALIGNED,
    'odd int64 field',
  );
});

t.test('unknown trailing vtable entries (a newer minor version) are accepted inside the table', async (t) => {
  const b = new Builder(64);
  b.startObject(3);
  b.addFieldInt32(2, 99, 0); // field id 2: unknown to v1 Heartbeat
  b.addFieldInt32(0, 5, 0); // last_seq low word... as a 4-byte field at an 8-byte slot
  const hb = b.endObject();
  b.startObject(2);
  b.addFieldOffset(1, hb, 0);
  b.addFieldInt8(0, 2, 0);
  b.finish(b.endObject(), 'EXv1');
  const frame = new Frame(b.asUint8Array().slice());
  // last_seq was written as 4 bytes: make its vtable entry absent so only the unknown field remains.
  frame.setU16(frame.entry(frame.body, HeartbeatVt.lastSeq), 0);
  t.equal(any.verify(frame.b), V.OK);
  const unknown = frame.entry(frame.body, 8);
  frame.setU16(unknown, frame.u16(frame.vt(frame.body) + 2));
  t.equal(any.verify(frame.b), V.FIELD_OUT_OF_BOUNDS, 'but still checked against the table size');
});

t.test('reason codes: offsets, strings', async (t) => {
  const f = new Frame('LogonReject');
  const bodyRef = f.field(f.root, MessageVt.body);
  t.equal(
    any.verify(new Frame('LogonReject').setU32(bodyRef, 0x7ffffff0).b),
    V.BAD_OFFSET,
    'body past the end',
  );
  t.equal(
    any.verify(new Frame('LogonReject').setU32(bodyRef, f.u32(bodyRef) + 2).b),
    V.BAD_OFFSET,
    'misaligned',
  );
  t.equal(any.errorOffset, bodyRef);

  const textRef = f.field(f.body, LogonRejectVt.text);
  const text = f.target(f.body, LogonRejectVt.text);
  const n = f.u32(text);
  t.equal(any.verify(new Frame('LogonReject').setU32(textRef, 0xfffffff0).b), V.BAD_OFFSET, 'string offset');
  t.equal(any.verify(new Frame('LogonReject').setU32(text, 0xffff).b), V.STRING_OUT_OF_BOUNDS);
  t.equal(
    any.verify(new Frame('LogonReject').setU32(text, 0xffffffff).b),
    V.STRING_OUT_OF_BOUNDS,
    'length 2^32-1',
  );
  t.equal(any.verify(new Frame('LogonReject').setU8(text + 4 + n, 0x78).b), V.STRING_NOT_TERMINATED);
  t.equal(
    any.verify(new Frame('LogonReject').setU32(text, n - 1).b),
    V.STRING_NOT_TERMINATED,
    'shorter length',
  );

  const enc = new ClientEncoder();
  t.equal(inbound.verify(enc.logon('x'.repeat(4096))), V.OK, '4096-byte token');
  t.equal(inbound.verify(enc.logon('x'.repeat(4097))), V.STRING_TOO_LONG, '4097-byte token');
  const gw = new GatewayEncoder();
  t.equal(any.verify(gw.error(1, 'é'.repeat(512))), V.OK, '1024 bytes of text');
  t.equal(any.verify(gw.error(1, 'é'.repeat(513))), V.STRING_TOO_LONG, '1026 bytes of text');
});

t.test('reason codes: required fields and unions', async (t) => {
  const f = new Frame('NewOrder');
  const typeEntry = f.entry(f.root, MessageVt.bodyType);
  const valueEntry = f.entry(f.root, MessageVt.body);
  const typePos = f.field(f.root, MessageVt.bodyType);

  t.equal(
    inbound.verify(new Frame('NewOrder').setU8(typePos, 0).b),
    V.REQUIRED_FIELD_MISSING,
    'body type NONE',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU16(typeEntry, 0).b),
    V.REQUIRED_FIELD_MISSING,
    'type absent',
  );
  t.equal(inbound.verify(new Frame('NewOrder').setU16(valueEntry, 0).b), V.UNION_VALUE_MISSING);
  t.equal(inbound.verify(new Frame('NewOrder').setU8(typePos, 11).b), V.UNION_TYPE_UNKNOWN, 'type 11');
  t.equal(inbound.verify(new Frame('NewOrder').setU8(typePos, 255).b), V.UNION_TYPE_UNKNOWN, 'type 255');

  t.equal(
    inbound.verify(new Frame('ExecutionReport').b),
    V.BODY_NOT_ALLOWED,
    'gateway message sent to the gateway',
  );
  t.equal(
    new FrameVerifier(Direction.GatewayToClient).verify(f.b),
    V.BODY_NOT_ALLOWED,
    'client message to a client',
  );

  const logon = new Frame('Logon');
  t.equal(
    inbound.verify(logon.setU16(logon.entry(logon.body, LogonVt.token), 0).b),
    V.REQUIRED_FIELD_MISSING,
    'Logon without token',
  );
  const list = new Frame('SymbolList');
  const first = list.target(list.body, SymbolListVt.symbols) + 4;
  const info = first + list.u32(first);
  t.equal(
    any.verify(list.setU16(list.entry(info, SymbolInfoVt.tickSize), 0).b),
    V.REQUIRED_FIELD_MISSING,
    'SymbolInfo without tick_size',
  );
  const batch = new Frame('Batch');
  const item0 = batch.target(batch.body, BatchVt.items) + 4;
  const item = item0 + batch.u32(item0);
  const opType = batch.field(item, BatchItemVt.opType);
  t.equal(inbound.verify(new Frame('Batch').setU8(opType, 0).b), V.REQUIRED_FIELD_MISSING, 'batch item NONE');
  t.equal(
    inbound.verify(new Frame('Batch').setU8(opType, 7).b),
    V.UNION_TYPE_UNKNOWN,
    'batch inside a batch',
  );
  t.equal(
    inbound.verify(new Frame('Batch').setU8(opType, 1).b),
    V.UNION_TYPE_UNKNOWN,
    'Logon inside a batch',
  );
});

t.test('reason codes: values', async (t) => {
  const f = new Frame('NewOrder');
  const at = (vtOffset: number) => f.field(f.body, vtOffset);
  t.equal(
    inbound.verify(new Frame('NewOrder').setU8(at(NewOrderVt.side), 3).b),
    V.ENUM_OUT_OF_RANGE,
    'side 3',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU8(at(NewOrderVt.side), 0).b),
    V.ENUM_OUT_OF_RANGE,
    'side Unset',
  );
  t.equal(inbound.verify(new Frame('NewOrder').setU8(at(NewOrderVt.orderType), 5).b), V.ENUM_OUT_OF_RANGE);
  t.equal(inbound.verify(new Frame('NewOrder').setU8(at(NewOrderVt.timeInForce), 4).b), V.ENUM_OUT_OF_RANGE);
  t.equal(inbound.verify(new Frame('NewOrder').setU8(at(NewOrderVt.stpMode), 5).b), V.ENUM_OUT_OF_RANGE);
  t.equal(inbound.verify(new Frame('NewOrder').setU16(at(NewOrderVt.flags), 2).b), V.UNKNOWN_FLAGS);
  t.equal(inbound.verify(new Frame('NewOrder').setU16(at(NewOrderVt.flags), 0x8001).b), V.UNKNOWN_FLAGS);

  const enc = new ClientEncoder();
  const o = new NewOrderFields();
  o.orderType = 1;
  t.equal(inbound.verify(enc.newOrder(o)), V.ENUM_OUT_OF_RANGE, 'side absent = Unset');
  o.side = 2;
  t.equal(inbound.verify(enc.newOrder(o)), V.OK, 'minimal valid NewOrder');
  t.equal(inbound.verify(enc.massCancel(0)), V.OK, 'MassCancel side Unset is fine');
  t.equal(inbound.verify(enc.logon('t', 0, 0)), V.ENUM_OUT_OF_RANGE, 'protocol_version Unset');
  t.equal(inbound.verify(enc.logon('t', 0, 2)), V.ENUM_OUT_OF_RANGE, 'protocol_version 2');

  const price = at(NewOrderVt.price);
  const qty = at(NewOrderVt.quantity);
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(price + 4, 0xffffffff).b),
    V.INTEGER_NEGATIVE,
    'price -1',
  );
  t.equal(inbound.errorOffset, price);
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(price + 4, 0x80000000).b),
    V.INTEGER_NEGATIVE,
    'price -2^63',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(qty + 4, 0x00200000).b),
    V.INTEGER_UNSAFE,
    'quantity 2^53',
  );
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(qty + 4, 0x7fffffff).b),
    V.INTEGER_UNSAFE,
    'quantity ~2^63',
  );
  t.equal(f.u32(qty + 4), 0x1fffff, 'the vector holds 2^53-1 and passes');
  const exp = at(NewOrderVt.expireTimeUs);
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(exp + 4, 0xffffffff).b),
    V.INTEGER_UNSAFE,
    'uint64 2^64-1 is unsafe, not negative',
  );
  const cid = at(NewOrderVt.clientOrderId);
  t.equal(
    inbound.verify(new Frame('NewOrder').setU32(cid, 0xffffffff).setU32(cid + 4, 0xffffffff).b),
    V.INTEGER_UNSAFE,
    'client_order_id 2^64-1 is unsafe like every other uint64',
  );
  const snap = new Frame('BookSnapshot');
  const bids = snap.target(snap.body, BookSnapshotVt.bids) + 4;
  t.equal(
    any.verify(
      new Frame('BookSnapshot').setU32(bids + LevelStruct.SIZE + LevelStruct.price + 4, 0xffffffff).b,
    ),
    V.INTEGER_NEGATIVE,
    'negative price in a struct vector',
  );
  const upd = new Frame('BookUpdate');
  const changes = upd.target(upd.body, 10) + 4;
  t.equal(
    any.verify(new Frame('BookUpdate').setU8(changes + 20, 0).b),
    V.ENUM_OUT_OF_RANGE,
    'level side Unset',
  );
});

t.test('reason codes: vectors and batches', async (t) => {
  const snap = new Frame('BookSnapshot');
  const bids = snap.target(snap.body, BookSnapshotVt.bids);
  t.equal(any.verify(new Frame('BookSnapshot').setU32(bids, 1000).b), V.VECTOR_OUT_OF_BOUNDS);
  t.equal(
    any.verify(new Frame('BookSnapshot').setU32(bids, 0xffffffff).b),
    V.VECTOR_TOO_LONG,
    'length 2^32-1',
  );
  t.equal(new FrameVerifier(Direction.Any, { maxVectorLength: 1 }).verify(snap.b), V.VECTOR_TOO_LONG);
  const bidsRef = snap.field(snap.body, BookSnapshotVt.bids);
  t.equal(
    any.verify(new Frame('BookSnapshot').setU32(bidsRef, snap.u32(bidsRef) + 4).b),
    V.MISALIGNED,
    'struct elements not 8-aligned',
  );

  const batch = new Frame('Batch');
  const items = batch.target(batch.body, BatchVt.items);
  t.equal(inbound.verify(new Frame('Batch').setU32(items, 0).b), V.BATCH_EMPTY);
  t.equal(inbound.verify(new Frame('Batch').setU32(items, MAX_BATCH_ITEMS + 1).b), V.BATCH_TOO_LARGE);
  t.equal(
    inbound.verify(new Frame('Batch').setU32(items, 200).b),
    V.VECTOR_OUT_OF_BOUNDS,
    '200 items claimed',
  );
  t.equal(inbound.verify(new Frame('Batch').setU32(items + 4, 0x7ffffff0).b), V.BAD_OFFSET, 'item offset');
  t.equal(
    new FrameVerifier(Direction.ClientToGateway, { maxBatchItems: 6 }).verify(batch.b),
    V.BATCH_TOO_LARGE,
  );

  const enc = new ClientEncoder();
  const o = new NewOrderFields();
  o.side = 1;
  o.orderType = 1;
  o.quantity = 1;
  enc.beginBatch();
  for (let i = 0; i < MAX_BATCH_ITEMS; i++) {
    o.price = i + 1;
    enc.addNewOrder(o);
  }
  t.equal(inbound.verify(enc.endBatch()), V.OK, `${MAX_BATCH_ITEMS} orders in one frame`);

  t.equal(new FrameVerifier(Direction.Any, { maxDepth: 3 }).verify(batch.b), V.DEPTH_EXCEEDED);
  t.equal(new FrameVerifier(Direction.Any, { maxDepth: 4 }).verify(batch.b), V.OK, 'a batch item is depth 4');
  t.equal(new FrameVerifier(Direction.Any, { maxTables: 5 }).verify(batch.b), V.TOO_MANY_TABLES);
  t.equal(new FrameVerifier(Direction.Any, { maxTables: 16 }).verify(batch.b), V.OK, '1 + 1 + 7 x 2 tables');
});

t.test('gateway frames: large snapshot within the gateway limits', async (t) => {
  const gw = new GatewayEncoder(64);
  const bids = new LevelColumns(5000);
  bids.count = 5000;
  for (let i = 0; i < 5000; i++) {
    bids.price[i] = 1_000_000 - i;
    bids.quantity[i] = i + 1;
  }
  const frame = gw.bookSnapshot(1, 2, 3, bids, new LevelColumns(0));
  t.equal(new FrameVerifier(Direction.GatewayToClient).verify(frame), V.OK);
  t.equal(new FrameVerifier(Direction.Any, CLIENT_FRAME_LIMITS).verify(frame), V.FRAME_TOO_LARGE);
});

t.test('reason texts', async (t) => {
  const texts = new Set<string>();
  for (const [name, code] of Object.entries(VerifyResult)) {
    const text = verifyReasonText(code);
    t.ok(text.length > 0 && text.length < 64, `${name}: '${text}'`);
    texts.add(text);
    t.ok(code === 0 || (code >= 100 && code <= 199), `${name} in 100-199`);
  }
  t.equal(texts.size, Object.keys(VerifyResult).length, 'every code has its own text');
  t.match(verifyReasonText(42), /unknown/);
  const dec = new TextDecoder();
  t.equal(dec.decode(verifyReasonUtf8(VerifyResult.BAD_OFFSET)), verifyReasonText(VerifyResult.BAD_OFFSET));
  t.equal(
    verifyReasonUtf8(VerifyResult.BAD_OFFSET),
    verifyReasonUtf8(VerifyResult.BAD_OFFSET),
    'encoded once',
  );
  t.equal(dec.decode(verifyReasonUtf8(42)), verifyReasonText(42));
});

t.test('configuration errors throw SchemaError', async (t) => {
  t.throws(() => new FrameVerifier(Direction.Any, { maxDepth: 0 }), SchemaError);
  t.throws(() => new FrameVerifier(Direction.Any, { maxTables: 1.5 }), SchemaError);
  t.throws(() => new FrameVerifier(Direction.Any, { maxBatchItems: MAX_BATCH_ITEMS + 1 }), SchemaError);
  t.throws(() => new FrameVerifier(7 as 0), SchemaError);
  const err = t.throws(() => new FrameVerifier(Direction.Any, { maxFrameBytes: -1 })) as SchemaError;
  t.equal(err.code, 'EXC_ERR_SCHEMA');
  t.match(err.message, /maxFrameBytes.*-1/);
  t.equal(new FrameVerifier().direction, Direction.ClientToGateway, 'default direction');
});
