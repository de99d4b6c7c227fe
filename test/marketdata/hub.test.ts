/**
 * MarketDataHub in isolation (no sockets): conflation within a turn, changes that cancel out,
 * splitting past maxChangesPerUpdate, one encode per topic only when it has subscribers, status and
 * sequence reset. Events are written with the engine's own record writers.
 */
import t from 'tap';
import {
  EVENT_SIZE,
  EventType,
  writeBboBody,
  writeHeader,
  writeL2Body,
} from '../../engine/records/EventRecord.js';
import { MarketDataHub } from '../../gateway/marketdata/MarketDataHub.js';
import { SymbolTable } from '../../gateway/symbols/SymbolTable.js';
import {
  Body,
  BookUpdateReader,
  Direction,
  FrameVerifier,
  MessageReader,
  SymbolStatusReader,
  VerifyResult,
} from '../../schema/index.js';

const symbols = SymbolTable.demo().symbols;

function harness(maxChangesPerUpdate?: number) {
  const frames: { topic: string; frame: Uint8Array }[] = [];
  const subscribed = new Set<string>(['md/1/l2', 'md/1/status', 'md/1/bbo']);
  const hub = new MarketDataHub({
    symbols,
    maxChangesPerUpdate,
    publisher: {
      publish: (topic, frame) => frames.push({ topic, frame: frame.slice() }),
      subscribers: (topic) => (subscribed.has(topic) ? 1 : 0),
    },
  });
  const view = new DataView(new ArrayBuffer(EVENT_SIZE));
  const l2 = (side: number, price: number, qty: number, count: number) => {
    writeHeader(view, 0, EventType.L2_UPDATE, side, 0, 1, 1, 1_700_000_000_000_000, 0, 0, 0);
    writeL2Body(view, 0, price, qty, count);
    hub.onEvent(0, view, 0);
  };
  const bbo = () => {
    writeHeader(view, 0, EventType.BBO, 0, 0, 1, 1, 1_700_000_000_000_001, 0, 0, 0);
    writeBboBody(view, 0, 100, 5, 101, 6);
    hub.onEvent(0, view, 0);
  };
  return { hub, frames, l2, bbo, subscribed };
}

const verifier = new FrameVerifier(Direction.GatewayToClient);
const m = new MessageReader();
const u = new BookUpdateReader();

function update(frame: Uint8Array) {
  t.equal(verifier.verify(frame), VerifyResult.OK);
  const r = m.wrap(frame);
  t.equal(r.bodyType, Body.BookUpdate);
  return u.wrap(frame, r.bodyPos);
}

t.test('a turn is conflated into one BookUpdate per symbol', async (t) => {
  const { hub, frames, l2, bbo } = harness();
  l2(1, 100, 5, 1);
  l2(1, 100, 7, 2);
  l2(2, 101, 3, 1);
  bbo();
  bbo();
  t.equal(frames.length, 0, 'nothing before the end of the turn');
  await Promise.resolve();
  const l2Frames = frames.filter((f) => f.topic === 'md/1/l2');
  t.equal(l2Frames.length, 1);
  const up = update(l2Frames[0].frame);
  t.equal(up.seq, 1);
  t.equal(up.changeCount, 2, 'two levels, the bid at its last state');
  t.equal(up.changeQuantity(0), 7);
  t.equal(frames.filter((f) => f.topic === 'md/1/bbo').length, 1, 'one BBO for the turn');
  const feed = hub.feed(1)!;
  t.equal(up.checksum, feed.lastChecksum);
  // A change that ends where it began publishes nothing and consumes no seq.
  l2(1, 100, 9, 3);
  l2(1, 100, 7, 2);
  await Promise.resolve();
  t.equal(frames.filter((f) => f.topic === 'md/1/l2').length, 1);
  t.equal(feed.seq[1], 1);
});

t.test('more changes than maxChangesPerUpdate are split, seqs stay consecutive', async (t) => {
  const { hub, frames, l2 } = harness(4);
  for (let i = 0; i < 10; i++) l2(1, 100 - i, 1, 1);
  await Promise.resolve();
  const seqs = frames.filter((f) => f.topic === 'md/1/l2').map((f) => update(f.frame).seq);
  t.same(seqs, [1, 2, 3]);
  t.equal(hub.feed(1)!.book.bids.count, 10);
});

t.test('no subscriber: no encode, but the seq advances; status and resetSeq', async (t) => {
  const { hub, frames } = harness();
  const view = new DataView(new ArrayBuffer(EVENT_SIZE));
  writeHeader(view, 0, EventType.L2_UPDATE, 1, 0, 2, 1, 1, 0, 0, 0);
  writeL2Body(view, 0, 300_000, 1, 1);
  hub.onEvent(0, view, 0);
  await Promise.resolve();
  t.equal(frames.length, 0, 'ETH/USD l2 has no subscriber');
  t.equal(hub.feed(2)!.seq[1], 1);
  hub.setStatus(1, 3, 42);
  const s = frames.find((f) => f.topic === 'md/1/status')!;
  const r = m.wrap(s.frame);
  const st = new SymbolStatusReader().wrap(s.frame, r.bodyPos);
  t.equal(st.status, 3);
  t.equal(st.seq, 1);
  hub.feed(2)!.book.seed(1, 299_999, 4);
  hub.resetSeq(2);
  t.equal(hub.feed(2)!.seq[1], 2, 'a new snapshot seq after seeding');
  t.throws(() => hub.setStatus(99, 1, 0));
});

t.test('subscriber counts are cached until topicsChanged(), then read again', async (t) => {
  const { hub, frames, l2, subscribed } = harness();
  subscribed.delete('md/1/l2');
  hub.topicsChanged();
  l2(1, 100, 1, 1);
  await Promise.resolve();
  t.equal(frames.filter((f) => f.topic === 'md/1/l2').length, 0, 'nobody listens: nothing published');
  subscribed.add('md/1/l2');
  hub.topicsChanged();
  l2(1, 101, 2, 1);
  await Promise.resolve();
  const published = frames.filter((f) => f.topic === 'md/1/l2').map((f) => update(f.frame).seq);
  t.same(published, [2], 'the new subscriber gets the next update, seq continuing');
});
