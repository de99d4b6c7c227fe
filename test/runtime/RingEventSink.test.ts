/**
 * The ring-backed EventSink in one thread: events are staged and published by batch (`flush`, or
 * `commit` once `publishEvery` events wait), never part of a command; a ring record holds a run of up
 * to MAX_EVENTS_PER_RECORD events, shortened to what was written; a ring short of room for a full
 * record gets one-event records; the bytes are identical to an in-process EventBuffer; salvage after
 * a throw publishes what was emitted; a ring too small for an event is refused with its size.
 */
import t, { type Test } from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { BusySpin } from '../../engine/idle/BusySpin.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { Ring } from '../../engine/ring/Ring.js';
import { createControlBlock, ShardControl } from '../../engine/runtime/ControlBlock.js';
import { EVENT_RECORD } from '../../engine/runtime/RecordTypes.js';
import { MAX_EVENTS_PER_RECORD, RingEventSink } from '../../engine/runtime/RingEventSink.js';
import { writeAddSymbolCommand } from '../../engine/runtime/SymbolCommands.js';
import {
  expectedEvents,
  generateStream,
  indexesOf,
  TEST_ENGINE,
  testSymbols,
} from '../fixtures/runtimeCommands.js';

const symbols = testSymbols(2);
const stream = generateStream(42, 2_000, 1, symbols);
const view = new DataView(stream.bytes.buffer);

/** Runs the stream through a fresh engine and `sink`, in batches of `batch` commands. */
function run(t: Test, publishEvery: number, batch: number) {
  const ring = Ring.create(1 << 20);
  const reader = ring.reader(0);
  const sink = new RingEventSink(
    ring,
    new BusySpin(),
    new ShardControl(createControlBlock(1), 0),
    publishEvery,
  );
  const engine = new MatchingEngine({ shardId: 0, ...TEST_ENGINE });
  const got = new EventBuffer(1024);
  let records = 0;
  let largest = 0;
  const copy = (type: number, v: DataView, offset: number, length: number) => {
    if (type !== EVENT_RECORD || length < EVENT_SIZE || length % EVENT_SIZE !== 0) {
      throw new Error(`record ${type}/${length}`);
    }
    records++;
    largest = Math.max(largest, length / EVENT_SIZE);
    for (let o = offset; o < offset + length; o += EVENT_SIZE) {
      const at = got.claim();
      new Uint8Array(got.view.buffer).set(new Uint8Array(v.buffer, o, EVENT_SIZE), at);
    }
  };
  /** Events visible now (read into `got`). */
  const drain = () => {
    const before = got.count;
    reader.read(copy, 1 << 20);
    return got.count - before;
  };
  const cmd = new DataView(new ArrayBuffer(COMMAND_SIZE));
  for (const s of symbols) {
    writeAddSymbolCommand(cmd, 0, s);
    engine.process(cmd, 0, sink);
  }
  sink.flush();
  drain();
  let midCommand = 0;
  let early = 0;
  let emitted = 0;
  for (let i = 0; i < stream.count; i++) {
    // A publication moves the producer position: it must not move between two claims of a command.
    let position = -1;
    emitted += engine.process(view, i * COMMAND_SIZE, {
      get view() {
        return sink.view;
      },
      claim: () => {
        if (position >= 0 && ring.producerPosition() !== position) midCommand++;
        position = ring.producerPosition();
        return sink.claim();
      },
      commit: () => sink.commit(),
    });
    if ((i + 1) % batch === 0 || i === stream.count - 1) {
      early += drain();
      sink.flush();
      const n = drain();
      if (got.count !== emitted + symbols.length)
        t.fail(`batch ending ${i}: ${got.count} of ${emitted} visible`);
      if (n === 0 && emitted > 0 && early === 0) t.fail('nothing published');
    }
  }
  t.equal(midCommand, 0, 'never part of a command visible');
  const want = expectedEvents(0, 1, symbols, stream, indexesOf(stream, 0));
  t.equal(Buffer.compare(got.written(), want), 0, `${want.length / EVENT_SIZE} events byte-identical`);
  t.equal(sink.events, want.length / EVENT_SIZE);
  t.equal(sink.waits, 0);
  t.ok(largest <= MAX_EVENTS_PER_RECORD, `records hold at most ${MAX_EVENTS_PER_RECORD} events`);
  return { early, records, events: got.count };
}

t.test('published by batch: nothing before flush below publishEvery', async (t) => {
  const { early, records, events } = run(t, 1_000_000, 10);
  t.equal(early, 0, 'no event visible before the batch was flushed');
  t.ok(records < events / 2, `${events} events in ${records} ring records (runs, not one each)`);
});

t.test('publishEvery bounds what waits: publishEvery 1 publishes every command', async (t) => {
  const { early } = run(t, 1, 10);
  t.ok(early > 1000, `${early} events visible before their batch ended`);
});

t.test(
  'a record is shortened to what was written; short of room for a full one, one-event records',
  async (t) => {
    const capacity = 65_536; // records of up to 16 events (1/32 of the ring): a full claim needs 8 + 16 * 128 bytes (+ 8)
    const ring = Ring.create(capacity);
    const sink = new RingEventSink(ring, new BusySpin(), undefined, 1);
    let seq = 0;
    const command = (events: number) => {
      for (let i = 0; i < events; i++) sink.view.setFloat64(sink.claim() + E.SEQ, ++seq, true);
      sink.commit();
    };
    command(3);
    t.equal(
      ring.producerPosition(),
      8 + 3 * EVENT_SIZE,
      'one 3-event record; the rest of its claim given back',
    );
    const free = () => capacity - ring.producerPosition();
    while (free() >= 8 + 16 * EVENT_SIZE + 8) command(1);
    let fallback = 0;
    while (free() >= 8 + EVENT_SIZE + 8) {
      command(1);
      fallback++;
    }
    t.ok(fallback >= 10, `${fallback} one-event records claimed with less than a full record free`);
    t.equal(sink.waits, 0, 'never waited');
    const lengths: number[] = [];
    const seqs: number[] = [];
    ring.reader(0).read((_type, v, offset, length) => {
      lengths.push(length / EVENT_SIZE);
      for (let o = offset; o < offset + length; o += EVENT_SIZE) seqs.push(v.getFloat64(o + E.SEQ, true));
    }, 1000);
    t.same(lengths, [3, ...new Array<number>(lengths.length - 1).fill(1)], 'a record per command');
    t.same(
      seqs,
      Array.from({ length: seq }, (_, i) => i + 1),
      `all ${seq} events, in order`,
    );
  },
);

t.test(
  'salvage after a throw publishes what the engine emitted, not the latest (half-written) event',
  async (t) => {
    const ring = Ring.create(16_384); // records of up to 4 events (1/32 of the ring)
    const reader = ring.reader(0);
    const sink = new RingEventSink(ring, new BusySpin());
    const records = () => {
      const got: { type: number; seqs: number[] }[] = [];
      reader.read((type, v, offset, length) => {
        const seqs: number[] = [];
        for (let o = offset; o < offset + length; o += EVENT_SIZE) seqs.push(v.getFloat64(o + E.SEQ, true));
        got.push({ type, seqs });
      }, 10);
      return got;
    };
    const event = (seq: number) => sink.view.setFloat64(sink.claim() + E.SEQ, seq, true);
    // A completed command, then a failing one that claimed an event: both share the open record.
    event(1);
    sink.commit();
    event(2);
    t.equal(reader.hasData(), false);
    sink.salvage();
    t.same(
      records(),
      [{ type: EVENT_RECORD, seqs: [1] }],
      'the completed event is published, the open one dropped',
    );
    // Without an open claim, salvage flushes everything.
    event(3);
    sink.commit();
    sink.salvage();
    t.same(records(), [{ type: EVENT_RECORD, seqs: [3] }], 'without an open claim it flushes');
    // A failing command whose only event opened a new record: the record is given up (padding), and
    // what was staged before it is published.
    event(4);
    sink.commit();
    sink.flush();
    for (let seq = 5; seq <= 8; seq++) event(seq); // the record [5 .. 8] is full:
    sink.commit();
    event(9); // so this claim stages it and opens another
    sink.salvage();
    t.same(
      records(),
      [
        { type: EVENT_RECORD, seqs: [4] },
        { type: EVENT_RECORD, seqs: [5, 6, 7, 8] },
      ],
      'staged records published; the record holding only the dropped event given up',
    );
    t.equal(ring.producerPosition(), reader.consumed, 'nothing left behind the padding');
  },
);

t.test('bad construction is refused with the value', async (t) => {
  t.throws(() => new RingEventSink(Ring.create(1024), new BusySpin()), {
    name: 'PipelineError',
    message: /event ring of 1024 bytes takes payloads up to 120 bytes; an event needs 128/,
  });
  t.throws(() => new RingEventSink(Ring.create(2048), new BusySpin(), undefined, 0), {
    message: /publishEvery must be an integer >= 1, got 0/,
  });
});
