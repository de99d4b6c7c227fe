/**
 * Command timestamps: integer microseconds since the epoch, close to the wall clock, never
 * decreasing within the thread, written into the command's timestamp field.
 */
import t from 'tap';
import { readTimestamp } from '../../engine/records/CommandRecord.js';
import { epochMicros, stampCommand } from '../../engine/runtime/CommandClock.js';

t.test('integer microseconds since the epoch, non-decreasing', async (t) => {
  const now = epochMicros();
  t.ok(Number.isSafeInteger(now), 'an exact integer');
  t.ok(Math.abs(now - Date.now() * 1000) < 5_000_000, 'within seconds of the wall clock');
  let last = now;
  let decreased = 0;
  for (let i = 0; i < 100_000; i++) {
    const v = epochMicros();
    if (v < last) decreased++;
    last = v;
  }
  t.equal(decreased, 0);
  t.ok(last > now, 'it advances');
});

t.test('stampCommand writes the timestamp field and returns it', async (t) => {
  const v = new DataView(new ArrayBuffer(200));
  const ts = stampCommand(v, 96);
  t.equal(readTimestamp(v, 96), ts);
});
