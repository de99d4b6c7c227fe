/**
 * The main thread's event dispatcher on rings filled by this thread (deterministic): every record in
 * order per shard (ring records holding runs of events, as the shard writes them), bounded batches
 * per event-loop turn (a timer runs in the middle of a long drain), wake-up through waitAsync, a
 * throwing handler skips one event only, finish() ends a loop after the last record.
 */
import t from 'tap';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { Ring } from '../../engine/ring/Ring.js';
import { EventDispatcher } from '../../engine/runtime/EventDispatcher.js';
import { EVENT_RECORD } from '../../engine/runtime/RecordTypes.js';

/** Publishes events `from` .. `from + count - 1` (each a 128-byte record holding its number), in ring records of up to `perRecord` events, as RingEventSink does. */
function fill(ring: Ring, from: number, count: number, perRecord = 1): void {
  for (let i = from; i < from + count; ) {
    const n = Math.min(perRecord, from + count - i);
    const at = ring.tryClaim(EVENT_RECORD, n * EVENT_SIZE);
    if (at < 0) throw new Error(`ring full at ${i}`);
    for (let k = 0; k < n; k++) ring.view.setFloat64(at + k * EVENT_SIZE, i + k, true);
    ring.commit();
    i += n;
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('drains in order, yields to the event loop between bounded batches', async (t) => {
  const rings = [Ring.create(1 << 22), Ring.create(1 << 20)];
  fill(rings[0], 0, 20_000, 64);
  fill(rings[1], 0, 300, 7);
  const seen: number[][] = [[], []];
  const d = new EventDispatcher(
    rings.map((r) => r.reader(0)),
    (shard, view, offset) => seen[shard].push(view.getFloat64(offset, true)),
    { batch: 4, maxPerTurn: 1000 },
  );
  let atTimer = -1;
  setImmediate(() => {
    atTimer = seen[0].length;
  });
  d.start();
  while (seen[0].length < 20_000) await turn();
  t.ok(atTimer >= 1000 && atTimer <= 1000 + 4 * 64, `a callback ran after the turn's ${atTimer} events`);
  t.equal(seen[1].length, 300, 'the other shard drained alongside');
  t.ok(
    seen[0].every((v, i) => v === i),
    'shard 0 in order',
  );
  // Idle now: after polling for pollMs the loops park; a new record wakes them through waitAsync.
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.ok(d.parks[0] >= 1 && d.parks[1] >= 1, `both loops parked (${Array.from(d.parks)})`);
  fill(rings[1], 300, 1);
  while (seen[1].length < 301) await turn();
  t.equal(seen[1][300], 300);
  t.same(Array.from(d.delivered), [20_000, 301]);
  fill(rings[0], 20_000, 5);
  d.finish(0);
  d.finish(1);
  d.finish(1);
  await d.done();
  t.equal(seen[0].length, 20_005, 'finish drains what was published before it');
});

t.test('a throwing handler loses only its event, not the rest of its record; onError is told', async (t) => {
  const ring = Ring.create(16_384);
  fill(ring, 0, 10, 4);
  const seen: number[] = [];
  const errors: string[] = [];
  const d = new EventDispatcher(
    [ring.reader(0)],
    (_shard, view, offset) => {
      const v = view.getFloat64(offset, true);
      if (v === 1) throw new Error('bad event 1'); // the second of its record's four
      seen.push(v);
    },
    { onError: (shard, err) => errors.push(`${shard}: ${(err as Error).message}`) },
  );
  d.start();
  d.start();
  d.finish(0);
  await d.done();
  t.same(seen, [0, 2, 3, 4, 5, 6, 7, 8, 9], 'the rest of its record delivered');
  t.same(errors, ['0: bad event 1']);
  t.equal(d.delivered[0], 10);
});
