/**
 * The WAL on disk, single-threaded with real files: CRC-32C check values, framing round trip across
 * segment rolls, a writer continuing after a reopen, a tailing reader, truncation at every byte of the
 * last records and random bit flips (never a bad record delivered, never an error other than the
 * documented ones, the tail cut to the last good record), gaps and duplicates refused (and accepted
 * with allowGaps), bad headers refused.
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ExchangeError } from '../../engine/errors.js';
import { Prng } from '../../engine/reference/Prng.js';
import { crc32c } from '../../journal/wal/Crc32c.js';
import { WalFormatError, WalGapError } from '../../journal/wal/WalError.js';
import {
  MAX_SEQ,
  PAYLOAD_LENGTH,
  RECORD_LENGTH,
  SEGMENT_HEADER_LENGTH,
  sealRecord,
  segmentName,
  writeSegmentHeader,
} from '../../journal/wal/WalFormat.js';
import { WalReader } from '../../journal/wal/WalReader.js';
import { WalWriter } from '../../journal/wal/WalWriter.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'exc-walfmt-'));

/** A command payload whose bytes encode `seq` (so a delivered record can be checked). */
function payload(seq: number): DataView {
  const v = new DataView(new ArrayBuffer(PAYLOAD_LENGTH));
  for (let i = 0; i < PAYLOAD_LENGTH; i += 8) v.setFloat64(i, seq * 1000 + i, true);
  return v;
}

function writeLog(dir: string, from: number, to: number, segmentBytes = 4096, batch = 7): WalWriter {
  const w = new WalWriter(dir, 0, from, { segmentBytes, capacity: 64 });
  for (let s = from; s <= to; s++) {
    w.append(payload(s), 0);
    if ((s - from) % batch === batch - 1) w.commit();
  }
  w.commit();
  return w;
}

/** Reads everything; checks each delivered payload matches its seq; returns the seqs. */
function readAll(dir: string, options = {}): { seqs: number[]; reader: WalReader } {
  const reader = new WalReader(dir, options);
  const seqs: number[] = [];
  reader.readFrom(0, MAX_SEQ, (seq, view, off) => {
    for (let i = 0; i < PAYLOAD_LENGTH; i += 8) {
      if (view.getFloat64(off + i, true) !== seq * 1000 + i)
        throw new Error(`bad payload delivered at seq ${seq}`);
    }
    seqs.push(seq);
  });
  return { seqs, reader };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

t.test('CRC-32C check values and chaining', async (t) => {
  const bytes = new TextEncoder().encode('123456789');
  t.equal(crc32c(bytes, 0, 9), 0xe3069283, 'the standard check value');
  t.equal(crc32c(new Uint8Array(32), 0, 32), 0x8a9136aa, '32 zero bytes (RFC 3720 B.4)');
  t.equal(crc32c(bytes, 4, 5, crc32c(bytes, 0, 4)), crc32c(bytes, 0, 9), 'a running checksum');
  const big = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
  for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 999]) {
    let slow = ~0;
    for (let i = 0; i < n; i++) {
      slow ^= big[i];
      for (let k = 0; k < 8; k++) slow = slow & 1 ? (slow >>> 1) ^ 0x82f63b78 : slow >>> 1;
    }
    t.equal(crc32c(big, 0, n), ~slow >>> 0, `slicing-by-8 equals bitwise for ${n} bytes`);
  }
});

t.test('round trip across segment rolls; a new writer continues in a new segment', async (t) => {
  const dir = tmp();
  const w = writeLog(dir, 1, 300);
  t.equal(w.durableSeq, 300);
  w.close();
  t.ok(w.segmentsOpened > 5, `rolled (${w.segmentsOpened} segments)`);
  t.same(readAll(dir).seqs, range(1, 300));
  const reader = new WalReader(dir);
  t.equal(reader.lastSeq(), 300);
  writeLog(dir, 301, 320).close();
  t.same(readAll(dir).seqs, range(1, 320), 'continues across a reopen');
  const got: number[] = [];
  const r2 = new WalReader(dir);
  t.equal(
    r2.readFrom(150, 160, (s) => got.push(s)),
    160,
    'afterSeq < seq <= uptoSeq',
  );
  t.equal(
    r2.readFrom(160, MAX_SEQ, (s) => got.push(s), 5),
    165,
    'limit',
  );
  t.same(got, range(151, 165));
  t.equal(
    r2.readFrom(320, MAX_SEQ, () => t.fail('nothing after the end')),
    320,
    'nothing new: afterSeq',
  );
  t.same(
    readdirSync(dir).every((n) => /^\d{20}\.wal$/.test(n)),
    true,
    'segment names',
  );
  t.ok(readdirSync(dir).includes(segmentName(1)) && readdirSync(dir).includes(segmentName(301)));
  t.throws(() => r2.readFrom(-1, 1, () => {}), WalFormatError);
});

t.test('a reader tails a growing log (records, then new segments)', async (t) => {
  const dir = tmp();
  const w = new WalWriter(dir, 0, 1, { segmentBytes: 1024, capacity: 64 });
  const reader = new WalReader(dir);
  const got: number[] = [];
  let last = 0;
  for (let s = 1; s <= 100; s++) {
    w.append(payload(s), 0);
    if (s % 3 === 0) {
      w.commit();
      last = reader.readFrom(last, w.durableSeq, (seq) => got.push(seq));
      t.equal(last, w.durableSeq);
    }
  }
  w.close();
  last = reader.readFrom(last, MAX_SEQ, (seq) => got.push(seq));
  t.same(got, range(1, 100));
});

t.test(
  'truncated at every byte of the last records: only good records, tail cut to the last good',
  async (t) => {
    const dir = tmp();
    writeLog(dir, 1, 40, 1 << 20).close();
    const file = join(dir, segmentName(1));
    const full = readFileSync(file);
    const lastThree = full.length - 3 * RECORD_LENGTH;
    for (let size = lastThree; size <= full.length; size++) {
      writeFileSync(file, full.subarray(0, size));
      const complete = Math.floor((size - SEGMENT_HEADER_LENGTH) / RECORD_LENGTH);
      const { seqs, reader } = readAll(dir);
      t.same(seqs, range(1, complete), `size ${size}: ${complete} records`);
      const cut = reader.truncateTail();
      const partial = (size - SEGMENT_HEADER_LENGTH) % RECORD_LENGTH !== 0;
      t.equal(cut !== undefined, partial, `size ${size}: cut only a partial record`);
      if (cut !== undefined) t.equal(cut.lastGoodSeq, complete);
      t.equal(readFileSync(file).length, SEGMENT_HEADER_LENGTH + complete * RECORD_LENGTH);
      reader.close();
    }
    // A new writer continues after the cut (the last cut left 40 records).
    writeFileSync(file, full.subarray(0, full.length - 50));
    const r = new WalReader(dir);
    t.equal(r.lastSeq(), 39);
    r.readFrom(0, MAX_SEQ, () => {});
    r.truncateTail();
    writeLog(dir, 40, 45).close();
    t.same(readAll(dir).seqs, range(1, 45));
  },
);

t.test('random bit flips: never a bad record, only documented errors', async (t) => {
  const dir = tmp();
  writeLog(dir, 1, 60, 1 << 20).close();
  const file = join(dir, segmentName(1));
  const clean = readFileSync(file);
  const prng = new Prng(4242);
  const rnd = () => prng.float();
  let refused = 0;
  let cut = 0;
  for (let trial = 0; trial < 400; trial++) {
    const bytes = Buffer.from(clean);
    const flips = 1 + Math.floor(rnd() * 3);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const pos = Math.floor(rnd() * bytes.length);
      bytes[pos] ^= 1 << Math.floor(rnd() * 8);
      at.push(pos);
    }
    writeFileSync(file, bytes);
    const first = Math.min(...at);
    try {
      const { seqs, reader } = readAll(dir);
      // Every delivered record was checked against its seq's payload inside readAll.
      const firstBadRecord =
        first < SEGMENT_HEADER_LENGTH ? 0 : Math.floor((first - SEGMENT_HEADER_LENGTH) / RECORD_LENGTH);
      if (seqs.length > firstBadRecord) t.fail(`trial ${trial}: delivered past a flipped record`);
      const c = reader.truncateTail();
      if (c !== undefined) cut++;
      reader.close();
    } catch (err) {
      if (!(err instanceof WalFormatError || err instanceof WalGapError)) throw err;
      t.ok(err instanceof ExchangeError);
      refused++;
    }
  }
  t.ok(cut > 0, `${cut} logs cut at a corrupt record, ${refused} refused (header flips)`);
});

t.test('a gap or a duplicate in the middle refuses; allowGaps logs and goes on', async (t) => {
  const dir = tmp();
  // Hand-made segment: seqs 1,2,3,5,6 (gap) then 6 again (duplicate).
  const seqs = [1, 2, 3, 5, 6, 6, 7];
  const bytes = new Uint8Array(SEGMENT_HEADER_LENGTH + seqs.length * RECORD_LENGTH);
  const view = new DataView(bytes.buffer);
  writeSegmentHeader(bytes, 0, 1);
  seqs.forEach((s, i) => {
    const at = SEGMENT_HEADER_LENGTH + i * RECORD_LENGTH;
    const p = payload(s);
    for (let b = 0; b < PAYLOAD_LENGTH; b++) bytes[at + 16 + b] = p.getUint8(b);
    sealRecord(bytes, view, at, s);
  });
  writeFileSync(join(dir, segmentName(1)), bytes);
  t.throws(() => readAll(dir), {
    name: 'WalGapError',
    code: 'EXC_ERR_WAL_GAP',
    message: /expected seq 4, found 5/,
  });
  const warnings: string[] = [];
  const log = { warn: (_o: object, m: string) => warnings.push(m), info: () => {} };
  t.same(readAll(dir, { allowGaps: true, log }).seqs, [1, 2, 3, 5, 6, 7]);
  t.equal(warnings.length, 2, 'one gap and one duplicate logged');

  // A segment that does not continue the previous one.
  const d2 = tmp();
  writeLog(d2, 1, 10, 1 << 20).close();
  writeLog(d2, 12, 20, 1 << 20).close();
  t.throws(() => readAll(d2), {
    name: 'WalGapError',
    message: /starts at seq 12 but the previous segment ends at seq 10/,
  });
  t.same(readAll(d2, { allowGaps: true, log }).seqs, [...range(1, 10), ...range(12, 20)]);

  // A corrupt record in a segment that is not the newest is a gap too.
  const d3 = tmp();
  writeLog(d3, 1, 10, 1 << 20).close();
  writeLog(d3, 11, 20, 1 << 20).close();
  const f = join(d3, segmentName(1));
  const b = readFileSync(f);
  b[SEGMENT_HEADER_LENGTH + 5 * RECORD_LENGTH + 40] ^= 0x10;
  writeFileSync(f, b);
  t.throws(() => readAll(d3), { name: 'WalGapError', message: /bad length or checksum after seq 5/ });
  t.same(readAll(d3, { allowGaps: true, log }).seqs, [...range(1, 5), ...range(11, 20)]);

  // Starting after the log's first record when older segments are gone.
  const d4 = tmp();
  writeLog(d4, 50, 60, 1 << 20).close();
  t.throws(() => new WalReader(d4).readFrom(10, MAX_SEQ, () => {}), {
    name: 'WalGapError',
    message: /starts at seq 50/,
  });
  t.same(readAll(d4).seqs, range(50, 60), 'from 0: the log as it is');
});

t.test('bad segment headers are refused; a torn new segment is an empty tail', async (t) => {
  const dir = tmp();
  writeLog(dir, 1, 5, 1 << 20).close();
  const f = join(dir, segmentName(1));
  const good = readFileSync(f);
  const bad = Buffer.from(good);
  bad[0] ^= 1;
  writeFileSync(f, bad);
  t.throws(() => readAll(dir), { name: 'WalFormatError', code: 'EXC_ERR_WAL_FORMAT', message: /bad magic/ });
  writeFileSync(f, good);
  t.throws(() => readAll(dir, { shardId: 3 }), { message: /belongs to shard 0, found under shard 3/ });
  // A crash while segment 6 was being created: 10 bytes of header.
  const torn = join(dir, segmentName(6));
  const fd = openSync(torn, 'w');
  writeSync(fd, new Uint8Array(10));
  closeSync(fd);
  const { seqs, reader } = readAll(dir);
  t.same(seqs, range(1, 5));
  t.ok(reader.truncateTail(), 'cut');
  reader.close();
  writeLog(dir, 6, 8, 1 << 20).close();
  t.same(readAll(dir).seqs, range(1, 8), 'the journal re-creates the segment');
  truncateSync(torn, 0);
  rmSync(torn);
  t.throws(() => new WalWriter(dir, 0, 0), { name: 'WalFormatError', message: /got 0/ });
  t.throws(() => new WalWriter(dir, 0, 1, { segmentBytes: 10 }), { message: /segment size .* got 10/ });
});
