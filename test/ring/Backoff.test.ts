/**
 * Idle strategies and the park word, single-threaded: the Backoff ladder (spin, yield, park with a
 * growing bounded timeout), the announce/re-check/withdraw protocol on both ring sides, and the main
 * thread's waitAsync outcomes. The cross-thread races are in RingThreads.test.ts.
 */
import t from 'tap';
import { ConfigError } from '../../engine/errors.js';
import { Backoff } from '../../engine/idle/Backoff.js';
import { BusySpin } from '../../engine/idle/BusySpin.js';
import { NOT_WAITED, ParkWord, TIMED_OUT, WOKEN } from '../../engine/idle/ParkWord.js';
import { Ring } from '../../engine/ring/Ring.js';
import { BACK_PRESSURED, OK } from '../../engine/ring/RingResult.js';

const payload = new Uint8Array(16);

t.test('BusySpin never waits', async (t) => {
  const s = new BusySpin();
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) s.idle(0);
  s.reset();
  t.ok(process.hrtime.bigint() - start < 50_000_000n);
});

t.test('Backoff: spins, yields, then parks with a doubling, capped timeout', async (t) => {
  const reader = Ring.create(1024).reader();
  const b = new Backoff(reader, { maxSpins: 3, maxYields: 2, minParkMs: 1, maxParkMs: 4 });
  for (let i = 0; i < 5; i++) b.idle(0);
  t.equal(b.parks, 0, 'spin and yield phases do not park');
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    b.idle(0);
    waits.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  t.equal(b.parks, 5);
  t.equal(b.timedOutWakes, 5, 'nobody woke it: every park ran out its timeout');
  t.notOk(reader.parkWord.isParked(), 'the word is RUNNING again after each wait');
  t.ok(waits[0] >= 0.9, `first park ~1 ms (${waits[0].toFixed(2)})`);
  t.ok(waits[2] >= 3.9 && waits[4] >= 3.9, `then 2, 4, 4, 4 ms (${waits.map((w) => w.toFixed(1))})`);
  t.ok(waits[4] < 200, 'capped');

  t.equal(b.nextParkMs, 4, 'the timeout stays at the cap');

  b.idle(1);
  t.equal(b.nextParkMs, 1, 'work resets the park timeout to 1 ms');
  for (let i = 0; i < 5; i++) b.idle(0);
  t.equal(b.parks, 5, 'work resets the ladder to spinning');
  b.idle(0);
  t.equal(b.parks, 6);
  t.equal(b.nextParkMs, 2, 'the first park after work waited 1 ms and doubled it');
});

t.test('Backoff: a re-check that finds work cancels the park', async (t) => {
  const ring = Ring.create(1024);
  const reader = ring.reader();
  const b = new Backoff(reader, { maxSpins: 0, maxYields: 0, minParkMs: 1000 });
  t.equal(ring.tryWrite(1, payload, 0, 16), OK);
  const start = process.hrtime.bigint();
  b.idle(0);
  t.equal(b.cancelledParks, 1);
  t.equal(b.parks, 0);
  t.notOk(reader.parkWord.isParked(), 'announcement withdrawn');
  t.ok(process.hrtime.bigint() - start < 100_000_000n, 'did not sleep');
});

t.test('Backoff options are checked', async (t) => {
  const reader = Ring.create(1024).reader();
  t.throws(() => new Backoff(reader, { maxSpins: -1 }), { code: 'EXC_ERR_CONFIG', message: /got -1/ });
  t.throws(() => new Backoff(reader, { maxYields: 1.5 }), /maxYields must be an integer >= 0, got 1.5/);
  t.throws(() => new Backoff(reader, { minParkMs: 0 }), /minParkMs must be .* got 0/);
  t.throws(() => new Backoff(reader, { maxParkMs: Infinity }), /maxParkMs .* got Infinity/);
  t.throws(() => new Backoff(reader, { minParkMs: 10, maxParkMs: 5 }), ConfigError);
  const d = new Backoff(reader);
  t.same([d.maxSpins, d.maxYields, d.minParkMs, d.maxParkMs], [100, 10, 1, 100]);
});

t.test('ParkWord: wake costs a load unless parked; a wake before the wait is not lost', async (t) => {
  const words = new Int32Array(new SharedArrayBuffer(64));
  const w = new ParkWord(words, 4);
  t.notOk(w.wake(), 'not parked: no notify');
  w.announce();
  t.ok(w.isParked());
  t.ok(w.wake(), 'parked: notified');
  t.notOk(w.isParked(), 'the waker set it RUNNING');
  t.equal(w.wait(10_000), NOT_WAITED, 'the wait returns at once: the wake came first');
  w.announce();
  w.withdraw();
  t.notOk(w.wake());
  w.announce();
  t.equal(w.wait(1), TIMED_OUT);
  t.notOk(w.isParked());
});

t.test('producer side: parks on a full ring, a consumer read wakes it', async (t) => {
  const ring = Ring.create(1024);
  const reader = ring.reader();
  while (ring.tryWrite(1, payload, 0, 16) === OK);
  t.equal(ring.tryWrite(1, payload, 0, 16), BACK_PRESSURED);
  t.ok(ring.prepareToPark(), 'no consumer moved since BACK_PRESSURED: may park');
  t.ok(ring.parkWord.isParked());
  t.equal(
    reader.read(() => {}, 3),
    3,
  );
  t.notOk(ring.parkWord.isParked(), 'the consumer saw PARKED and woke the producer');
  t.notOk(ring.prepareToPark(), 'the consumer moved: do not park, retry');
  t.notOk(ring.parkWord.isParked());
  t.equal(ring.tryWrite(1, payload, 0, 16), OK);
  const b = new Backoff(ring, { maxSpins: 0, maxYields: 0, minParkMs: 1, maxParkMs: 1 });
  while (ring.tryWrite(1, payload, 0, 16) === OK);
  b.idle(0);
  t.equal(b.timedOutWakes, 1, 'nobody read: the producer park timed out');
});

t.test('consumer side: prepareToPark re-checks the ring after announcing', async (t) => {
  const ring = Ring.create(1024);
  const reader = ring.reader();
  t.ok(reader.prepareToPark());
  t.ok(reader.parkWord.isParked());
  t.equal(ring.tryWrite(1, payload, 0, 16), OK);
  t.notOk(reader.parkWord.isParked(), 'commit woke the parked consumer');
  t.notOk(reader.prepareToPark(), 'data is there: no park');
  t.notOk(reader.parkWord.isParked());
});

t.test('waitAsync: resolves at once with data, on a commit, or on timeout', async (t) => {
  const ring = Ring.create(1024);
  const reader = ring.reader();
  // Note: a pending Atomics.waitAsync does not keep Node's event loop alive (the gateway's listen
  // socket does); without this handle the process would exit under the await.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  t.equal(await reader.waitAsync(5), TIMED_OUT);
  t.notOk(reader.parkWord.isParked(), 'RUNNING after a timeout');

  setTimeout(() => ring.tryWrite(1, payload, 0, 16), 5);
  const start = process.hrtime.bigint();
  t.equal(await reader.waitAsync(10_000), WOKEN);
  t.ok(process.hrtime.bigint() - start < 5_000_000_000n);
  t.equal(await reader.waitAsync(10_000), NOT_WAITED, 'data is already there');
  t.equal(
    reader.read(() => {}, 10),
    1,
  );
  t.equal(await reader.waitAsync(0), TIMED_OUT, 'a zero timeout does not wait');
  t.notOk(reader.parkWord.isParked());
});
