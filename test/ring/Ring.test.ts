/**
 * Single-threaded, deterministic tests of Ring and RingReader: wrap-around at every offset (exact fit
 * and padding), full ring and recovery, oversized records, zero-copy claim/commit/abort, several
 * consumers bounding the producer, layout and argument checks.
 */
import t from 'tap';
import { Ring } from '../../engine/ring/Ring.js';
import {
  checkCapacity,
  checkConsumers,
  HEADER_LENGTH,
  LINE,
  MAX_CAPACITY,
  ringByteLength,
} from '../../engine/ring/RingDescriptor.js';
import { RingError } from '../../engine/ring/RingError.js';
import { BACK_PRESSURED, OK, TOO_LARGE } from '../../engine/ring/RingResult.js';

interface Seen {
  type: number;
  length: number;
  bytes: number[];
}

/** Payload bytes of record `seq` of `length` bytes: a pattern the reader can check. */
function pattern(seq: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (seq * 31 + i * 7 + 1) & 0xff;
  return b;
}

function drain(ring: Ring, consumer = 0, limit = 1 << 30): Seen[] {
  const out: Seen[] = [];
  ring.reader(consumer).read((type, view, offset, length) => {
    const bytes: number[] = [];
    for (let i = 0; i < length; i++) bytes.push(view.getUint8(offset + i));
    out.push({ type, length, bytes });
  }, limit);
  return out;
}

/** Moves the producer and every consumer to byte offset `offset` of a fresh ring with fillers. */
function advanceTo(ring: Ring, offset: number): void {
  let left = offset;
  while (left > 0) {
    const record = Math.min(left, (ring.maxPayloadLength + HEADER_LENGTH) & ~7);
    const r = ring.tryWrite(99, new Uint8Array(record - HEADER_LENGTH), 0, record - HEADER_LENGTH);
    if (r !== OK) throw new Error(`filler refused: ${r}`);
    for (let c = 0; c < ring.consumers; c++) drain(ring, c);
    left -= record;
  }
  if (ring.producerPosition() !== offset) throw new Error(`advanceTo ${offset} failed`);
}

/** Collects mismatches so a loop of thousands of checks makes one tap assertion. */
class Mismatches {
  readonly list: string[] = [];
  eq(actual: unknown, expected: unknown, what: string): void {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e && this.list.length < 20) this.list.push(`${what}: got ${a}, want ${e}`);
  }
}

t.test('wrap-around at every offset: each payload length, exact fit and padding', async (t) => {
  const capacity = 1024;
  const max = Ring.create(capacity).maxPayloadLength;
  t.equal(max, capacity / 8 - HEADER_LENGTH);
  const m = new Mismatches();
  let checks = 0;
  let paddings = 0;
  let exactFits = 0;
  for (let offset = 0; offset < capacity; offset += 8) {
    for (let length = 0; length <= max; length++) {
      const ring = Ring.create(capacity);
      advanceTo(ring, offset);
      const where = `offset ${offset} length ${length}`;
      const aligned = (length + HEADER_LENGTH + 7) & ~7;
      const toEnd = capacity - offset;
      const src = pattern(offset + length, length);
      if (length % 2 === 0) {
        m.eq(ring.tryWrite(1 + (length % 5), src, 0, length), OK, `${where} tryWrite`);
      } else {
        const at = ring.tryClaim(1 + (length % 5), length);
        m.eq(at, aligned > toEnd ? HEADER_LENGTH : offset + HEADER_LENGTH, `${where} claim index`);
        ring.bytes.set(src, at);
        m.eq(ring.reader().hasData(), aligned > toEnd, `${where} only padding visible before commit`);
        ring.commit();
      }
      const expectedPosition = aligned > toEnd ? offset + toEnd + aligned : offset + aligned;
      if (aligned > toEnd) paddings++;
      if (aligned === toEnd) exactFits++;
      m.eq(ring.producerPosition(), expectedPosition, `${where} producer position`);
      const seen = drain(ring);
      m.eq(seen, [{ type: 1 + (length % 5), length, bytes: Array.from(src) }], `${where} record`);
      m.eq(ring.consumerPosition(0), expectedPosition, `${where} consumer position`);
      m.eq(ring.reader().hasData(), false, `${where} drained`);
      checks++;
    }
  }
  t.same(m.list, []);
  t.equal(checks, (capacity / 8) * (max + 1));
  t.ok(paddings > 0 && exactFits > 0, `padding cases ${paddings}, exact-fit cases ${exactFits}`);
});

t.test('fill to BACK_PRESSURED from every offset, drain, several laps', async (t) => {
  const capacity = 512;
  const m = new Mismatches();
  for (let offset = 0; offset < capacity; offset += 8) {
    const ring = Ring.create(capacity);
    advanceTo(ring, offset);
    let seq = 0;
    let expectedSeq = 0;
    for (let lap = 0; lap < 4; lap++) {
      let written = 0;
      for (;;) {
        const length = (seq * 13) % (ring.maxPayloadLength + 1);
        const r = ring.tryWrite(1, pattern(seq, length), 0, length);
        if (r === BACK_PRESSURED) break;
        m.eq(r, OK, `offset ${offset} seq ${seq}`);
        seq++;
        written++;
      }
      const used = (ring.producerPosition() - ring.consumerPosition(0)) | 0;
      m.eq(written > 0 && used <= capacity - HEADER_LENGTH && used > capacity - 128, true, `used ${used}`);
      for (const s of drain(ring)) {
        const length = (expectedSeq * 13) % (ring.maxPayloadLength + 1);
        m.eq(s, { type: 1, length, bytes: Array.from(pattern(expectedSeq, length)) }, `seq ${expectedSeq}`);
        expectedSeq++;
      }
      m.eq(expectedSeq, seq, `offset ${offset} lap ${lap} count`);
    }
  }
  t.same(m.list, []);
});

t.test('full ring returns BACK_PRESSURED, writes nothing, and recovers', async (t) => {
  const ring = Ring.create(1024);
  const max = ring.maxPayloadLength; // 120: records of 128 bytes
  const src = new Uint8Array(max);
  let n = 0;
  while (ring.tryWrite(1, src, 0, max) === OK) n++;
  t.equal(n, 7, '7 x 128 B + the 8-byte zero-ahead slot: the eighth does not fit');
  t.equal(ring.tryWrite(1, src, 0, max), BACK_PRESSURED);
  t.equal(ring.producerPosition(), 7 * 128, 'a refused write moves nothing');
  t.equal(drain(ring, 0, 1).length, 1);
  t.equal(ring.tryWrite(1, src, 0, max), OK, 'one record read frees room for one (exact fit at the end)');
  t.equal(ring.tryWrite(1, src, 0, max), BACK_PRESSURED);
  t.equal(ring.tryClaim(1, 0), HEADER_LENGTH, 'a small record still fits, at index 0');
  ring.abort();
  t.equal(ring.producerPosition(), 1024 + 8);
  t.equal(drain(ring).length, 7, 'the aborted claim is skipped');
  t.equal(ring.consumerPosition(0), ring.producerPosition());

  const small = Ring.create(128);
  let m = 0;
  while (small.tryClaim(1, 0) > 0) {
    small.commit();
    m++;
  }
  t.equal(m, 128 / 8 - 1, 'header-only records fill all but the zero-ahead slot');
});

t.test('records larger than maxPayloadLength are rejected with TOO_LARGE', async (t) => {
  const ring = Ring.create(4096);
  t.equal(ring.maxPayloadLength, 504);
  const src = new Uint8Array(1000);
  t.equal(ring.tryWrite(1, src, 0, 505), TOO_LARGE);
  t.equal(ring.tryClaim(1, 505), TOO_LARGE);
  t.equal(ring.tryWrite(1, src, 0, 504), OK);
  t.equal(ring.tryWrite(1, src, 400, 505), TOO_LARGE);
  t.equal(drain(ring).length, 1);
});

t.test('tryWrite copies whole arrays, small and large sub-ranges', async (t) => {
  const ring = Ring.create(8192);
  const src = pattern(7, 900);
  t.equal(ring.tryWrite(2, src.subarray(0, 40), 0, 40), OK);
  t.equal(ring.tryWrite(3, src, 5, 64), OK);
  t.equal(ring.tryWrite(4, src, 100, 700), OK);
  t.equal(ring.tryWrite(5, src, 900, 0), OK);
  const seen = drain(ring);
  t.same(
    seen.map((s) => [s.type, s.length]),
    [
      [2, 40],
      [3, 64],
      [4, 700],
      [5, 0],
    ],
  );
  t.same(seen[1].bytes, Array.from(src.subarray(5, 69)));
  t.same(seen[2].bytes, Array.from(src.subarray(100, 800)));
  t.throws(() => ring.tryWrite(1, src, 890, 20), RingError);
  t.throws(() => ring.tryWrite(1, src, -1, 2), /outside a 900-byte array/);
});

t.test('zero copy: claim, write through the DataView, commit; consumers see nothing before', async (t) => {
  const ring = Ring.create(1024);
  const at = ring.tryClaim(7, 16);
  t.equal(at, HEADER_LENGTH);
  ring.view.setFloat64(at, 1.5, true);
  ring.view.setUint32(at + 8, 0xdeadbeef, true);
  t.equal(
    ring.reader().read(() => t.fail('nothing published yet'), 10),
    0,
  );
  ring.commit();
  let calls = 0;
  t.equal(
    ring.reader().read((type, view, offset, length) => {
      calls++;
      t.equal(type, 7);
      t.equal(length, 16);
      t.equal(view.getFloat64(offset, true), 1.5);
      t.equal(view.getUint32(offset + 8, true), 0xdeadbeef);
    }, 10),
    1,
  );
  t.equal(calls, 1);
});

t.test('read honours the limit and skips padding without counting it', async (t) => {
  const ring = Ring.create(256); // max payload 24
  advanceTo(ring, 232);
  for (let i = 0; i < 5; i++) t.equal(ring.tryWrite(1 + i, pattern(i, 24), 0, 24), OK);
  const types: number[] = [];
  const h = (type: number) => {
    types.push(type);
  };
  t.equal(ring.reader().read(h, 2), 2);
  t.equal(ring.reader().read(h, 2), 2);
  t.equal(ring.reader().read(h, 2), 1);
  t.equal(ring.reader().read(h, 2), 0);
  t.same(types, [1, 2, 3, 4, 5]);
});

t.test('a handler that throws consumes its record; the rest stay', async (t) => {
  const ring = Ring.create(1024);
  for (let i = 1; i <= 3; i++) ring.tryWrite(i, pattern(i, 4), 0, 4);
  t.throws(
    () =>
      ring.reader().read((type) => {
        if (type === 2) throw new Error('poison');
      }, 10),
    /poison/,
  );
  t.equal(ring.consumerPosition(0), 32, 'records 1 and 2 consumed and published');
  t.same(
    drain(ring).map((s) => s.type),
    [3],
  );
});

t.test('several consumers: each sees every record; the slowest bounds the producer', async (t) => {
  const ring = Ring.create(1024, 3);
  const src = new Uint8Array(56); // 64-byte records
  let n = 0;
  while (ring.tryWrite(1, src, 0, 56) === OK) n++;
  t.equal(n, 15);
  t.equal(drain(ring, 0).length, 15);
  t.equal(drain(ring, 1).length, 15);
  t.equal(ring.tryWrite(1, src, 0, 56), BACK_PRESSURED, 'consumer 2 has not moved');
  t.equal(drain(ring, 2, 4).length, 4);
  for (let i = 0; i < 4; i++) t.equal(ring.tryWrite(1, src, 0, 56), OK);
  t.equal(ring.tryWrite(1, src, 0, 56), BACK_PRESSURED);
  t.equal(drain(ring, 0).length, 4);
  t.equal(drain(ring, 2).length, 15);
  t.equal(drain(ring, 1).length, 4);
  t.equal(ring.consumerPosition(0), ring.producerPosition());
  t.equal(ring.consumerPosition(2), ring.producerPosition());
  t.throws(() => ring.reader(3), /no consumer index 3/);
  t.throws(() => ring.consumerPosition(-1), /no consumer index -1/);
});

t.test('positions wrap past 2^31 and 2^32 (int32 counters)', async (t) => {
  for (const start of [0x7fffff00 | 0, 0xffffff00 | 0]) {
    // Moving 2-4 GiB through the ring would be slow; start the counters near the edge instead (a
    // fresh ring with equal producer and consumer positions is valid at any position).
    const ring = Ring.create(1024);
    const words = new Int32Array(ring.buffer);
    words[(1024 + LINE) >> 2] = start;
    words[(1024 + 3 * LINE) >> 2] = start;
    const wrapped = Ring.wrap(ring.buffer);
    let expected = 0;
    let seq = 0;
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < 5; k++) {
        const length = (seq * 11) % (wrapped.maxPayloadLength + 1);
        if (wrapped.tryWrite(1, pattern(seq, length), 0, length) !== OK) break;
        seq++;
      }
      for (const s of drain(wrapped)) {
        t.same(s.bytes, Array.from(pattern(expected, s.length)));
        expected++;
      }
    }
    t.equal(expected, seq);
    t.ok(seq > 500);
    t.not(Math.sign(wrapped.producerPosition()), Math.sign(start), `crossed from ${start}`);
    t.equal(wrapped.consumerPosition(0), wrapped.producerPosition());
  }
});

t.test('misuse throws RingError with the offending value', async (t) => {
  const ring = Ring.create(1024);
  t.throws(() => ring.commit(), { code: 'EXC_ERR_RING', message: /without a successful tryClaim/ });
  t.throws(() => ring.abort(), /without a successful tryClaim/);
  t.throws(() => ring.tryClaim(0, 8), /type must be an int32 >= 1, got 0/);
  t.throws(() => ring.tryClaim(1.5, 8), /got 1.5/);
  t.throws(() => ring.tryClaim(2 ** 31, 8), /got 2147483648/);
  t.throws(() => ring.tryClaim(1, -1), /length must be an integer >= 0, got -1/);
  t.throws(() => ring.tryClaim(1, Number.NaN), /got NaN/);
  t.throws(() => ring.tryClaim(1, 2.5), /got 2.5/);
  t.ok(ring.tryClaim(1, 8) > 0);
  t.throws(() => ring.tryClaim(1, 8), /while a claim is pending/);
  ring.commit();
});

t.test('checkCapacity and checkConsumers name the bad value', async (t) => {
  for (const bad of [0, 64, 100, 1000, 3 * 1024, 2 ** 31, -1024, 1.5, Number.NaN, Infinity]) {
    t.throws(() => checkCapacity(bad), { code: 'EXC_ERR_RING', message: new RegExp(`got ${bad}$`) });
    t.throws(() => Ring.create(bad), RingError);
  }
  t.throws(() => checkCapacity('1024' as unknown as number), /got 1024/);
  for (const ok of [128, 1024, 1 << 20, MAX_CAPACITY]) t.doesNotThrow(() => checkCapacity(ok));
  for (const bad of [0, 17, 1.5, -1]) {
    t.throws(() => checkConsumers(bad), new RegExp(`consumer count must be .* got ${bad}$`));
    t.throws(() => Ring.create(1024, bad), RingError);
  }
});

t.test('wrap: same memory, validated header', async (t) => {
  const ring = Ring.create(1 << 16, 2);
  t.equal(ring.buffer.byteLength, ringByteLength(1 << 16, 2));
  const other = Ring.wrap(ring.buffer);
  t.equal(other.capacity, 1 << 16);
  t.equal(other.consumers, 2);
  t.equal(ring.tryWrite(3, pattern(1, 10), 0, 10), OK);
  t.same(drain(other, 1)[0].bytes, Array.from(pattern(1, 10)));
  t.equal(ring.consumerPosition(1), 24, 'the creator sees the other side’s position');
  const other2 = Ring.wrap(ring.buffer);
  t.equal(other2.reader(1).consumed, 24, 'a reader starts at its published position');

  t.throws(() => Ring.wrap(new ArrayBuffer(2048) as unknown as SharedArrayBuffer), /got ArrayBuffer/);
  t.throws(() => Ring.wrap(null as unknown as SharedArrayBuffer), /got null/);
  t.throws(() => Ring.wrap(new SharedArrayBuffer(ringByteLength(1024, 1))), /is not a ring/);
  t.throws(() => Ring.wrap(new SharedArrayBuffer(100)), /100 bytes is not a ring/);
  const badVersion = Ring.create(1024);
  new Int32Array(badVersion.buffer)[(1024 >> 2) + 1] = 9;
  t.throws(() => Ring.wrap(badVersion.buffer), /version 9 is not supported/);
});
