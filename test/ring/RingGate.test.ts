/**
 * The dependency barrier (`ring.reader(i, { gate: g })`, GatedRingReader) and the held read of the
 * gate consumer (`peek`/`release`): single-threaded semantics, then a worker thread gated on the main
 * thread's cursor: it never passes the gate, it is woken by `wakeConsumer` after each release (a
 * 5 s park timeout and zero timed-out waits: no lost wake-up), and the producer is bounded by both.
 */
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { Ring } from '../../engine/ring/Ring.js';
import { BACK_PRESSURED, OK } from '../../engine/ring/RingResult.js';

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);

t.test('peek holds, release publishes; the gated reader reads only released records', async (t) => {
  const ring = Ring.create(1024, 2);
  const gate = ring.reader(1);
  const gated = ring.reader(0, { gate: 1 });
  t.equal(ring.reader(0, { gate: 1 }), gated, 'one gated reader per index');
  const got: number[] = [];
  const onRecord = (_t: number, v: DataView, o: number) => got.push(v.getUint32(o, true));
  for (let i = 1; i <= 10; i++) t.equal(ring.tryWrite(1, u32(i), 0, 4), OK);
  t.equal(gated.read(onRecord, 100), 0, 'nothing released yet');
  t.notOk(gated.hasData());
  t.ok(gated.prepareToPark(), 'parks: the gate has not moved');
  gated.parkWord.withdraw();
  const held: number[] = [];
  t.equal(
    gate.peek((_t, v, o) => held.push(v.getUint32(o, true)), 4),
    4,
  );
  t.equal(
    gate.peek((_t, v, o) => held.push(v.getUint32(o, true)), 2),
    2,
    'peeks continue after the held ones',
  );
  t.same(held, [1, 2, 3, 4, 5, 6]);
  t.equal(gated.read(onRecord, 100), 0, 'held records are not released');
  t.equal(ring.consumerPosition(1), 0);
  t.ok(gate.release());
  t.notOk(gate.release(), 'nothing more to release');
  t.ok(gated.hasData());
  t.notOk(gated.prepareToPark(), 'the re-check sees the gate moved');
  t.equal(gated.read(onRecord, 100), 6);
  t.same(got, [1, 2, 3, 4, 5, 6]);
  t.equal(ring.consumerPosition(0), ring.consumerPosition(1));
  gate.peek(() => {}, 100);
  gate.release();
  t.equal(gated.read(onRecord, 2), 2, 'limit');
  t.equal(gated.read(onRecord, 100), 2);
  t.same(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.throws(() => gated.peek(() => {}, 1), { name: 'RingError', message: /cannot peek/ });
  t.throws(() => ring.reader(0, { gate: 0 }), { name: 'RingError', message: /got 0 for consumer 0/ });
  t.throws(() => ring.reader(0, { gate: 2 }), { message: /2-consumer ring, got 2/ });
  t.throws(() => ring.wakeConsumer(5), { message: /no consumer index 5/ });
});

t.test(
  'a held record keeps its bytes from the producer; wrap-around keeps both cursors aligned',
  async (t) => {
    const ring = Ring.create(256, 2); // payloads up to 24 bytes
    const gate = ring.reader(1);
    const gated = ring.reader(0, { gate: 1 });
    const src = new Uint8Array(24);
    const srcView = new DataView(src.buffer);
    let written = 0;
    let seen = 0;
    let outOfOrder = 0;
    for (let lap = 0; lap < 200; lap++) {
      for (;;) {
        srcView.setUint32(0, written + 1, true);
        if (ring.tryWrite(1, src, 0, 4 + ((written * 4) % 21)) !== OK) break;
        written++;
      }
      t.equal(ring.tryWrite(1, src, 0, 24), BACK_PRESSURED, `lap ${lap}: full while held`);
      gate.peek(() => {}, 1 + (lap % 4));
      gate.release();
      gated.read((_ty, v, o) => {
        if (v.getUint32(o, true) !== ++seen) outOfOrder++;
      }, 1000);
      t.equal(ring.consumerPosition(0), ring.consumerPosition(1), `lap ${lap}: aligned`);
    }
    t.equal(outOfOrder, 0, 'in order, bytes intact');
    t.ok(seen > 400, `${seen} records through a 256-byte ring`);
  },
);

t.test('threads: the gated worker never passes the gate and is woken by every release', async (t) => {
  const count = 20_000;
  const ring = Ring.create(1 << 16, 2);
  const gate = ring.reader(1);
  const worker = new Worker(new URL('../fixtures/gatedReaderWorker.ts', import.meta.url), {
    workerData: { ring: ring.buffer, count },
    execArgv: process.execArgv,
  });
  const result = new Promise<Record<string, number>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let written = 0;
  let released = 0;
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  let maxAhead = 0;
  while (released < count) {
    // Produce a burst (the commits wake the worker, which finds the gate unmoved and parks again).
    while (written < count && ring.tryWrite(1, u32(written + 1), 0, 4) === OK) written++;
    // Release a random part of it, then wake the gated worker as the journal does.
    released += gate.peek(() => {}, 1 + Math.floor(rnd() * 200));
    gate.release();
    ring.wakeConsumer(0);
    // Wait until the worker has caught up with the gate (it must not go further: it cannot).
    while (ring.consumerPosition(0) !== ring.consumerPosition(1)) {
      const ahead = (ring.consumerPosition(0) - ring.consumerPosition(1)) | 0;
      if (ahead > maxAhead) maxAhead = ahead;
      await new Promise((r) => setImmediate(r));
    }
  }
  const r = await result;
  t.equal(r.read, count, 'every record read, in order');
  t.equal(r.passedGate, 0, 'the worker never saw a position past the gate');
  t.equal(maxAhead, 0, 'the main thread never saw the worker ahead of the gate');
  t.ok(r.parks > 0, `the worker parked (${r.parks} times) and was woken (${r.wakes})`);
  t.equal(r.timedOutWakes, 0, 'no wait ran out its 5 s timeout: no lost wake-up');
});
