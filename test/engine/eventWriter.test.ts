/**
 * EventWriter sink placement: the engine writes through typed-array views when a slot is 8-byte
 * aligned in its buffer and through a scratch record copied in otherwise. Both must produce the same
 * bytes, so a generated `mixed` stream is replayed into an aligned EventBuffer and into sinks whose
 * slots sit at odd byte offsets (an unaligned view; an aligned view with unaligned slots), and the
 * event bytes compared. A slot outside the view throws RecordBoundsError, as DataView writes did.
 */
import t from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import type { EventSink } from '../../engine/book/EventSink.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { generateCommands, MIXED_CONFIG } from '../../engine/reference/CommandGenerator.js';

/** Appends events back to back starting `start` bytes into its view, which begins `viewStart` bytes into its buffer. */
class OffsetSink implements EventSink {
  readonly view: DataView;
  count = 0;
  constructor(
    capacity: number,
    viewStart: number,
    private readonly start: number,
  ) {
    this.view = new DataView(new ArrayBuffer(viewStart + start + capacity * EVENT_SIZE), viewStart);
  }
  claim(): number {
    return this.start + this.count++ * EVENT_SIZE;
  }
  commit(): void {}
  bytes(): Uint8Array {
    const v = this.view;
    return new Uint8Array(v.buffer, v.byteOffset + this.start, this.count * EVENT_SIZE);
  }
}

t.test('aligned and unaligned sinks get the same bytes', (t) => {
  const total = 20_000;
  const { bytes, events } = generateCommands(
    { seed: 7, mix: 'mixed' },
    total,
    new MatchingEngine(MIXED_CONFIG),
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const replay = (sink: EventSink) => {
    const e = new MatchingEngine(MIXED_CONFIG);
    for (let i = 0; i < total; i++) e.process(view, i * COMMAND_SIZE, sink);
  };
  const aligned = new EventBuffer(events + 1);
  replay(aligned);
  t.equal(aligned.count, events);
  for (const [viewStart, start] of [
    [4, 0],
    [0, 3],
    [8, 12],
  ]) {
    const sink = new OffsetSink(events + 1, viewStart, start);
    replay(sink);
    t.equal(sink.count, events, `view at ${viewStart}, slots from ${start}`);
    t.ok(
      Buffer.from(sink.bytes()).equals(Buffer.from(aligned.written())),
      `view at ${viewStart}, slots from ${start}`,
    );
  }
  t.end();
});

t.test('a slot outside the view throws RecordBoundsError', (t) => {
  const { bytes } = generateCommands({ seed: 7, mix: 'mixed' }, 1, new MatchingEngine(MIXED_CONFIG));
  const sink: EventSink = {
    view: new DataView(new ArrayBuffer(EVENT_SIZE)),
    claim: () => 64,
    commit: () => {},
  };
  const e = new MatchingEngine(MIXED_CONFIG);
  t.throws(() => e.process(new DataView(bytes.buffer, bytes.byteOffset, COMMAND_SIZE), 0, sink), {
    code: 'EXC_ERR_RECORD_BOUNDS',
  });
  t.end();
});
