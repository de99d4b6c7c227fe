/**
 * The ring-backed EventSink in one thread: a command's events reach the ring as one publication
 * (staged until commit), byte-identical to an EventBuffer; a command with no events publishes nothing;
 * a ring too small for an event is refused with its size.
 */
import t from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { BusySpin } from '../../engine/idle/BusySpin.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { Ring } from '../../engine/ring/Ring.js';
import { createControlBlock, ShardControl } from '../../engine/runtime/ControlBlock.js';
import { EVENT_RECORD } from '../../engine/runtime/RecordTypes.js';
import { RingEventSink } from '../../engine/runtime/RingEventSink.js';
import { writeAddSymbolCommand } from '../../engine/runtime/SymbolCommands.js';
import {
  expectedEvents,
  generateStream,
  indexesOf,
  TEST_ENGINE,
  testSymbols,
} from '../fixtures/runtimeCommands.js';

t.test('events of a command appear at commit, all at once, byte-identical', async (t) => {
  const symbols = testSymbols(2);
  const stream = generateStream(42, 2_000, 1, symbols);
  const ring = Ring.create(1 << 20);
  const reader = ring.reader(0);
  const control = new ShardControl(createControlBlock(1), 0);
  const sink = new RingEventSink(ring, new BusySpin(), control);
  const engine = new MatchingEngine({ shardId: 0, ...TEST_ENGINE });
  const got = new EventBuffer(1024);
  const copy = (type: number, view: DataView, offset: number, length: number) => {
    if (type !== EVENT_RECORD || length !== EVENT_SIZE) throw new Error(`record ${type}/${length}`);
    const at = got.claim();
    new Uint8Array(got.view.buffer).set(new Uint8Array(view.buffer, offset, EVENT_SIZE), at);
  };
  const cmd = new DataView(new ArrayBuffer(COMMAND_SIZE));
  for (const s of symbols) {
    writeAddSymbolCommand(cmd, 0, s);
    engine.process(cmd, 0, sink);
  }
  reader.read(copy, 1 << 20);
  const view = new DataView(stream.bytes.buffer);
  let multi = 0;
  let empty = 0;
  const seen: number[] = [];
  // A probe sink: stages like RingEventSink, so the reader must see nothing mid-command.
  for (let i = 0; i < stream.count; i++) {
    const n = engine.process(view, i * COMMAND_SIZE, {
      get view() {
        return sink.view;
      },
      claim: () => {
        if (reader.hasData()) seen.push(i);
        return sink.claim();
      },
      commit: () => sink.commit(),
    });
    if (n > 1) multi++;
    const read = reader.read(copy, 1 << 20);
    if (read !== n) t.fail(`command ${i}: ${n} events, ${read} visible after commit`);
    if (n === 0) empty++;
  }
  t.same(seen, [], 'nothing visible between the claims of one command');
  t.ok(multi > 100, `${multi} commands had several events`);
  const want = expectedEvents(0, 1, symbols, stream, indexesOf(stream, 0));
  t.equal(Buffer.compare(got.written(), want), 0, `${want.length / EVENT_SIZE} events byte-identical`);
  t.equal(sink.events, want.length / EVENT_SIZE);
  t.equal(sink.waits, 0);
  t.comment(`${empty} commands without events`);
});

t.test('an event ring too small for one event is refused', async (t) => {
  t.throws(() => new RingEventSink(Ring.create(1024), new BusySpin()), {
    name: 'PipelineError',
    message: /event ring of 1024 bytes takes payloads up to 120 bytes; an event needs 128/,
  });
  t.doesNotThrow(() => new RingEventSink(Ring.create(2048), new BusySpin()));
});
