/**
 * Staged publication on a Ring (single thread, deterministic): records staged with `stage()` stay
 * invisible until the next commit/abort/tryWrite/flush publishes them all at once; batches that wrap
 * (padding in front of, inside or after the batch) from every 8-byte offset; claims shortened at
 * stage/commit (`stage(length)`, `commit(length)`) from every offset; misuse messages.
 */
import t from 'tap';
import { Ring } from '../../engine/ring/Ring.js';
import { RingError } from '../../engine/ring/RingError.js';
import { BACK_PRESSURED, OK } from '../../engine/ring/RingResult.js';

const EMPTY = new Uint8Array(0);

/** Claims and stages (or, for the last one, commits) a record of `length` bytes tagged `seq`. */
function put(ring: Ring, seq: number, length: number, last: boolean): void {
  const at = ring.tryClaim(1 + (seq % 5), length);
  if (at < 0) throw new Error(`claim ${seq} returned ${at}`);
  for (let i = 0; i < length; i++) ring.bytes[at + i] = (seq * 13 + i) & 0xff;
  if (last) ring.commit();
  else ring.stage();
}

/** Reads everything visible; record i of the read is expected to carry seq i. */
function readAll(ring: Ring): { seq: number; ok: boolean }[] {
  const out: { seq: number; ok: boolean }[] = [];
  ring.reader(0).read((type, view, offset, length) => {
    const seq = out.length;
    let ok = true;
    for (let i = 0; i < length; i++) if (view.getUint8(offset + i) !== ((seq * 13 + i) & 0xff)) ok = false;
    out.push({ seq, ok: ok && type === 1 + (seq % 5) });
  }, 1 << 20);
  return out;
}

t.test('staged records are invisible until the batch is published, then all appear in order', async (t) => {
  const ring = Ring.create(1024);
  const reader = ring.reader(0);
  put(ring, 0, 16, false);
  put(ring, 1, 40, false);
  t.equal(reader.hasData(), false, 'nothing visible while staged');
  t.equal(ring.hasStaged, true);
  t.equal(ring.producerPosition(), 0, 'producer position not published');
  put(ring, 2, 0, true);
  t.equal(ring.hasStaged, false);
  const seen = readAll(ring);
  t.same(
    seen.map((s) => s.ok),
    [true, true, true],
  );
  t.equal(ring.producerPosition(), ring.consumerPosition(0));
});

t.test('flush publishes staged records; with none it does nothing', async (t) => {
  const ring = Ring.create(1024);
  ring.flush();
  t.equal(ring.producerPosition(), 0);
  put(ring, 0, 24, false);
  put(ring, 1, 24, false);
  t.equal(ring.reader(0).hasData(), false);
  ring.flush();
  t.equal(readAll(ring).length, 2);
  t.equal(ring.hasStaged, false);
});

t.test('tryWrite and abort publish what is staged before them', async (t) => {
  const ring = Ring.create(1024);
  put(ring, 0, 8, false);
  t.equal(ring.tryWrite(1 + 1, new Uint8Array(4).fill(13), 0, 4), OK);
  const seen: number[] = [];
  ring.reader(0).read((type) => seen.push(type), 100);
  t.same(seen, [1, 2], 'staged record then the copied one');
  put(ring, 0, 8, false);
  ring.tryClaim(3, 8);
  ring.abort();
  seen.length = 0;
  ring.reader(0).read((type) => seen.push(type), 100);
  t.same(seen, [1], 'staged record published; the aborted claim is skipped padding');
});

t.test('batches of 1..6 records from every offset, wrapping anywhere, arrive whole', async (t) => {
  let checked = 0;
  for (let start = 0; start < 512; start += 8) {
    for (let batch = 1; batch <= 6; batch++) {
      const ring = Ring.create(512);
      // Header-only records move the positions to `start`.
      for (let at = 0; at < start; at += 8) {
        if (ring.tryWrite(1, EMPTY, 0, 0) !== OK) t.fail('setup write');
        ring.reader(0).read(() => {}, 10);
      }
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < batch; i++) put(ring, i, 8 + ((i * 24 + round * 8) % 56), i === batch - 1);
        const seen = readAll(ring);
        if (seen.length !== batch || !seen.every((s) => s.ok)) {
          t.fail(`start ${start} batch ${batch} round ${round}: ${JSON.stringify(seen)}`);
        }
        checked++;
      }
    }
  }
  t.equal(checked, 64 * 6 * 3, 'every case published whole');
});

t.test(
  'claims shortened at stage/commit from every offset: exact lengths, the rest given back',
  async (t) => {
    let checked = 0;
    for (let start = 0; start < 512; start += 8) {
      const ring = Ring.create(512);
      for (let at = 0; at < start; at += 8) {
        if (ring.tryWrite(1, EMPTY, 0, 0) !== OK) t.fail('setup write');
        ring.reader(0).read(() => {}, 10);
      }
      for (let round = 0; round < 4; round++) {
        // Three records claimed at 48 bytes and kept at 0..48 bytes; the last commits the batch.
        const lengths = [(round * 13) % 49, 48 - round * 7, (round * 29) % 49];
        const before = ring.producerPosition();
        let used = 0;
        for (let i = 0; i < 3; i++) {
          const at = ring.tryClaim(1 + (i % 5), 48);
          if (at < 0) t.fail(`start ${start} round ${round}: claim ${i} returned ${at}`);
          for (let b = 0; b < lengths[i]; b++) ring.bytes[at + b] = (i * 13 + b) & 0xff;
          if (i === 2) ring.commit(lengths[i]);
          else ring.stage(lengths[i]);
          used += (8 + lengths[i] + 7) & ~7;
        }
        const seen: number[] = [];
        let badBytes = 0;
        ring.reader(0).read((_type, view, offset, length) => {
          const i = seen.length;
          for (let b = 0; b < length; b++)
            if (view.getUint8(offset + b) !== ((i * 13 + b) & 0xff)) badBytes++;
          seen.push(length);
        }, 10);
        if (badBytes > 0) t.fail(`start ${start} round ${round}: ${badBytes} payload bytes differ`);
        const after = ring.producerPosition();
        // Note: a record that did not fit before the end follows a padding record (not counted here).
        const moved = (after - before) | 0;
        if (seen.join() !== lengths.join() || moved < used || moved > used + 56 + 8) {
          t.fail(
            `start ${start} round ${round}: lengths ${seen} (want ${lengths}), moved ${moved} (used ${used})`,
          );
        }
        checked++;
      }
    }
    t.equal(checked, 64 * 4, 'every shortened batch read back at its lengths');
    const ring = Ring.create(1024);
    ring.tryClaim(1, 40);
    ring.commit(16);
    t.equal(ring.producerPosition(), 24, 'a record of 8 + 16 bytes; 24 claimed bytes given back');
    t.equal(ring.tryClaim(1, 8), 32, 'the next record starts right after it');
    ring.commit();
  },
);

t.test('a staged batch can fill the ring; the producer must flush before waiting', async (t) => {
  const ring = Ring.create(256);
  let staged = 0;
  for (;;) {
    const at = ring.tryClaim(1, 16);
    if (at === BACK_PRESSURED) break;
    ring.stage();
    staged++;
  }
  t.ok(staged >= 9, `${staged} records staged`);
  t.equal(ring.reader(0).hasData(), false, 'none visible: a consumer could never free space');
  ring.flush();
  t.equal(
    ring.reader(0).read(() => {}, 100),
    staged,
  );
  t.ok(ring.tryClaim(1, 16) >= 0, 'space again after the consumer read them');
  ring.commit();
});

t.test('misuse', async (t) => {
  const ring = Ring.create(256);
  t.throws(() => ring.stage(), new RingError('Ring.stage() without a successful tryClaim()'));
  ring.tryClaim(1, 8);
  t.throws(() => ring.flush(), { name: 'RingError', message: /flush\(\) while a claim is pending/ });
  ring.stage();
  ring.flush();
  ring.reader(0).read(() => {}, 10);
  ring.tryClaim(1, 16);
  for (const bad of [17, -1, 1.5, Number.NaN]) {
    t.throws(() => ring.commit(bad), {
      name: 'RingError',
      message: `ring record can be shortened to 0..16 payload bytes, got ${String(bad)}`,
    });
    t.throws(() => ring.stage(bad), { name: 'RingError' });
  }
  ring.commit(16);
  t.equal(
    ring.reader(0).read(() => {}, 10),
    1,
    'the claim survives a refused shortening',
  );
});
