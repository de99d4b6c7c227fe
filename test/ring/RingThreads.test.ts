/**
 * Ring tests on real threads (worker_threads running test/fixtures/ringWorker.ts): 10M records of
 * 8..200 bytes producer -> consumer with order, length, type and checksum checked on every record;
 * one ring followed by two consumers with the producer held back by the slower; park/wake races in
 * 20k ping-pong hand-offs with no lost wake-up; the main thread draining through waitAsync.
 * RING_STRESS_RECORDS=n overrides the 10M of the first test (for a quick local run).
 */
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { NOT_WAITED, TIMED_OUT, WOKEN } from '../../engine/idle/ParkWord.js';
import { Ring } from '../../engine/ring/Ring.js';
import type { Role, WorkerResult } from '../fixtures/ringWorker.js';

const fixture = new URL('../fixtures/ringWorker.ts', import.meta.url);

function run(job: Role): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    // Note: the worker needs tap's TypeScript loader, which lives in this process's execArgv.
    const w = new Worker(fixture, { workerData: job, execArgv: process.execArgv });
    let result: WorkerResult | undefined;
    w.once('message', (m: WorkerResult) => {
      result = m;
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (result !== undefined && code === 0) resolve(result);
      else reject(new Error(`${job.role} worker exited with ${code} and no result`));
    });
  });
}

t.test('10M records of 8..200 bytes across two threads: order, integrity, total', async (t) => {
  const count = Number(process.env.RING_STRESS_RECORDS ?? 10_000_000);
  const ring = Ring.create(1 << 16);
  const started = process.hrtime.bigint();
  const [p, c] = await Promise.all([
    run({ role: 'produce', ring: ring.buffer, count, backoff: true }),
    run({ role: 'consume', ring: ring.buffer, index: 0, count, backoff: true }),
  ]);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.same(c.errors, []);
  t.equal(c.count, count, 'every record arrived');
  t.equal(c.checksum, p.checksum, 'sum of payload checksums matches the producer’s');
  t.equal(ring.consumerPosition(0), ring.producerPosition(), 'consumer ends where the producer ended');
  t.equal(p.idle?.timedOutWakes, 0, 'the producer was always woken, never timed out');
  t.equal(c.idle?.timedOutWakes, 0, 'the consumer was always woken, never timed out');
  t.comment(
    `${count} records in ${ms.toFixed(0)} ms (${(((count / ms) * 1e3) / 1e6).toFixed(2)} M/s incl. worker start); ` +
      `producer back-pressured ${p.backPressured}x, parks ${p.idle?.parks}; consumer parks ${c.idle?.parks}`,
  );
});

t.test('one ring, two consumers: both see every record; the slower bounds the producer', async (t) => {
  const count = 100_000;
  const capacity = 1 << 14;
  const ring = Ring.create(capacity, 2);
  const [p, fast, slow] = await Promise.all([
    run({ role: 'produce', ring: ring.buffer, count, backoff: true }),
    run({ role: 'consume', ring: ring.buffer, index: 0, count, backoff: true, watchIndex: 1 }),
    run({ role: 'consume', ring: ring.buffer, index: 1, count, backoff: true, slowNs: 2000 }),
  ]);
  for (const c of [fast, slow]) {
    t.same(c.errors, []);
    t.equal(c.count, count);
    t.equal(c.checksum, p.checksum);
  }
  t.ok(p.backPressured > 0, `producer back-pressured ${p.backPressured} times`);
  t.ok(fast.maxSlowLag <= capacity, `producer never more than capacity ahead of the slow consumer`);
  t.ok(
    fast.maxSlowLag > capacity / 2,
    `the producer ran up to the slow consumer's bound (max lag ${fast.maxSlowLag} of ${capacity})`,
  );
  t.equal(p.idle?.timedOutWakes, 0);
});

// Jitter (0..~2 us of work before each send) moves the publication across every phase of the other
// side's park: before the announcement, between announcement and re-check, inside Atomics.wait.
for (const [spins, jitter] of [
  [0, true],
  [50, true],
] as const) {
  t.test(`park/wake races: 20k ping-pong hand-offs, spins ${spins}, jitter ${jitter}`, async (t) => {
    const count = 20_000;
    const ab = Ring.create(4096);
    const ba = Ring.create(4096);
    const [ping, pong] = await Promise.all([
      run({ role: 'ping', out: ab.buffer, in: ba.buffer, count, spins, jitter }),
      run({ role: 'pong', out: ba.buffer, in: ab.buffer, count, spins, jitter }),
    ]);
    for (const side of [ping, pong]) {
      t.same(side.errors, [], `${side.role}: every answer in order`);
      t.equal(side.idle?.timedOutWakes, 0, `${side.role}: no lost wake-up (no 5 s timeout ran out)`);
      t.ok((side.idle?.parks ?? 0) > 0, `${side.role}: parked ${side.idle?.parks} times`);
      t.comment(`${side.role}: ${JSON.stringify(side.idle)}`);
    }
  });
}

t.test('main thread: waitAsync wakes on new records and drains in batches', async (t) => {
  const count = 5000;
  const ring = Ring.create(1 << 12);
  const reader = ring.reader();
  const producer = run({ role: 'produce', ring: ring.buffer, count, backoff: true, burstPauseMs: 2 });
  const outcomes = [0, 0, 0];
  let expected = 0;
  let batches = 0;
  let bad = 0;
  const handler = (_type: number, view: DataView, offset: number) => {
    if (view.getUint32(offset, true) !== expected) bad++;
    expected++;
  };
  while (expected < count) {
    const n = reader.read(handler, 64);
    if (n > 0) {
      batches++;
      continue;
    }
    outcomes[await reader.waitAsync(5000)]++;
  }
  const p = await producer;
  t.equal(bad, 0, 'in order');
  t.equal(expected, count);
  t.equal(p.count, count);
  t.equal(outcomes[TIMED_OUT], 0, 'no wait timed out');
  t.ok(outcomes[WOKEN] > 0, `woken ${outcomes[WOKEN]} times, ${outcomes[NOT_WAITED]} without sleeping`);
  t.ok(batches < count, `${batches} batches for ${count} records`);
});
